"""``dwh``'s answer to a mistake in the command or its input: one line on stderr, exit status 2."""

from __future__ import annotations

import os
import subprocess

import pytest

from dwh import config
from dwh_tools import cli, landing, runner
from dwh_tools.errors import UserError

DS = "2024-01-01"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DWH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def one_line_error(capsys, argv: list[str]) -> str:
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("dwh: error: "), err
    return err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        pytest.param(
            ["land", "{tmp}/missing", "--ds", DS], "missing: no such folder", id="land-missing"
        ),
        pytest.param(["land", "{tmp}/a.csv", "--ds", DS], "a.csv: not a folder", id="land-a-file"),
        pytest.param(["land", "{tmp}/empty", "--ds", DS], "empty: no .csv files", id="land-no-csv"),
        pytest.param(
            ["land", "{tmp}/odd", "--ds", DS],
            "export.csv: its header matches no entity",
            id="land-unmatched-file",
        ),
        pytest.param(
            ["run", "--data", "{tmp}/missing"], "missing: no such folder", id="run-missing"
        ),
        pytest.param(
            ["land", "{tmp}/odd", "--ds", "2024-02-30"],
            "'2024-02-30' is not a real date",
            id="land-no-such-day",
        ),
        pytest.param(
            ["run", "--ds", "01/02/2024"],
            "'01/02/2024' is not a date written YYYY-MM-DD",
            id="run-ds-format",
        ),
        pytest.param(
            ["generate", "--ds", "2024-1-1"],
            "'2024-1-1' is not a date written YYYY-MM-DD",
            id="generate-ds-format",
        ),
        pytest.param(["run", "--scale", "0"], "argument --scale: must be > 0", id="run-scale-0"),
        pytest.param(
            ["generate", "--ds", DS, "--scale", "-1"],
            "argument --scale: must be > 0",
            id="generate-negative-scale",
        ),
        pytest.param(
            ["run", "--pipeline", "no_such_pipeline"],
            "--pipeline no_such_pipeline: no such DAG",
            id="run-unknown-pipeline",
        ),
    ],
)
def test_a_user_error_is_one_line_and_exit_2(home, tmp_path, capsys, argv, says):
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "export.csv").write_text("order_id,customer_id\n1,2\n")
    err = one_line_error(capsys, [a.format(tmp=tmp_path) for a in argv])
    assert says in err
    assert not (home / "lake").exists()  # nothing landed, nothing run


def test_an_unknown_pipeline_lists_the_known_ones(home, capsys):
    err = one_line_error(capsys, ["run", "--pipeline", "nope"])
    for dag in (config.REPO_ROOT / "dags").glob("*.py"):
        assert dag.stem in err


def test_a_bug_keeps_its_traceback(home, tmp_path, monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug in landing")

    monkeypatch.setattr(landing, "land", broken)
    (tmp_path / "in").mkdir()
    with pytest.raises(RuntimeError, match="a bug in landing"):
        cli.main(["land", str(tmp_path / "in"), "--ds", "2024-01-01"])


def test_the_command_itself_prints_one_line_and_exits_2(tmp_path):
    env = {**os.environ, "DWH_HOME": str(tmp_path)}
    run = subprocess.run(
        [
            str(config.REPO_ROOT / "bin" / "dwh"),
            "land",
            str(tmp_path / "nope"),
            "--ds",
            "2024-01-01",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert run.stderr == f"dwh: error: {tmp_path / 'nope'}: no such folder\n"


@pytest.mark.parametrize("ds", ["../x", "2024-01-01/../../y"])
def test_the_ui_and_run_landing_refuses_a_path_as_logical_date(home, capsys, ds):
    # `dwh ui --ds` and `dwh run` both land through runner.land_input, sample data included.
    sentinel = home / "lake" / "x"
    sentinel.parent.mkdir(parents=True)
    sentinel.write_text("mine")
    with pytest.raises(UserError, match="is not a date written YYYY-MM-DD"):
        runner.land_input(ds, 0.01, None, 42, 0.0)
    assert sentinel.read_text() == "mine"
    assert not (home / "lake" / "raw").exists()
    assert not (home / "sample_data.json").exists()


@pytest.mark.parametrize(
    "ds", ["x/../../customers", "2024-13-45", "2024-02-30", "2024-01-01' or '1'='1", "2024-1-1"]
)
def test_every_entry_of_a_logical_date_refuses_it_by_the_one_check(ds):
    """`dwh run/land/generate --ds`, `dwh ui --ds`, landing and the Glue job: one rule, one text."""
    from olist_contract import InvalidRunDate, check_run_date

    from dwh_tools import ui

    with pytest.raises(InvalidRunDate) as contract:
        check_run_date(ds)
    with pytest.raises(UserError) as landed:
        landing.check_ds(ds)
    with pytest.raises(UserError) as cli_run:
        cli.build_parser().parse_args(["run", "--ds", ds])
    with pytest.raises(UserError) as ui_flag:
        ui.build_parser().parse_args(["--ds", ds])
    assert str(landed.value) == str(contract.value)
    for err in (cli_run.value, ui_flag.value):
        assert f"argument --ds: {contract.value}" in str(err)
