"""``dwh run --allow-empty``: the run's conf reaches ``airflow dags test`` and the header says it.

The whole pipeline is not run here (tests/e2e does); ``airflow dags test`` is a stand-in that
records its command line, read back by Airflow's own CLI parser as the real command reads it.
"""

from __future__ import annotations

import io
import json
import subprocess
import types

import pytest

from dwh_tools import cli, runner

DS = "2024-01-01"


class RecordingPopen:
    """subprocess.Popen of ``airflow dags test``: records the command, prints nothing."""

    commands: list[list[str]] = []

    def __init__(self, cmd, **kwargs):
        RecordingPopen.commands.append(list(cmd))
        self.stdout = io.StringIO("")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def wait(self):
        return 0


@pytest.fixture
def dags_test(tmp_path, monkeypatch):
    """``dwh run`` up to ``airflow dags test``, with everything around it stood in for."""
    monkeypatch.setenv("DWH_HOME", str(tmp_path / "home"))
    RecordingPopen.commands = []
    # Only the runner's own subprocess calls are recorded (imports may start a process too).
    stand_in = types.SimpleNamespace(**vars(subprocess))
    stand_in.Popen = RecordingPopen
    monkeypatch.setattr(runner, "subprocess", stand_in)
    monkeypatch.setattr(runner, "land_input", lambda *a, **k: {"orders": 2})
    monkeypatch.setattr(runner, "ensure_metadata_db", lambda env: None)
    monkeypatch.setattr(runner, "render_dashboards", lambda: {})
    from dwh_tools import summary

    monkeypatch.setattr(summary, "failed_tasks", lambda *a, **k: {})
    monkeypatch.setattr(summary, "warehouse_figures", lambda ds: {})
    return RecordingPopen.commands


def airflow_reads(cmd: list[str]) -> dict:
    """The DagRun conf ``airflow dags test`` makes of this command line (Airflow's own parser)."""
    from airflow.cli.cli_parser import get_parser

    launcher = runner.dags_test_cli()
    assert cmd[: len(launcher)] == launcher
    args = get_parser().parse_args(cmd[len(launcher) :])
    assert (args.dag_id, str(args.logical_date.date())) == ("ecommerce_dwh", DS)
    return json.loads(args.conf)


@pytest.mark.parametrize(("flag", "conf"), [([], False), (["--allow-empty"], True)])
def test_dwh_run_gives_airflow_dags_test_the_runs_allow_empty(dags_test, capsys, flag, conf):
    code = cli.main(["run", "--ds", DS, *flag])
    out = capsys.readouterr().out
    assert code == 0, out
    (cmd,) = dags_test
    n = len(runner.dags_test_cli())
    assert cmd[n : n + 3] == ["dags", "test", "ecommerce_dwh"]
    assert airflow_reads(cmd) == {"allow_empty": conf}
    header = out.splitlines()[1]
    assert header.startswith(f"  run conf: {json.dumps({'allow_empty': conf})}")
    if conf:
        assert "replaces that date's processed rows" in header
        assert f"== ecommerce_dwh {DS}, allow_empty: SUCCESS" in out
    else:
        assert "never replaces processed rows" in header
        assert f"== ecommerce_dwh {DS}: SUCCESS" in out
    report = json.loads(next((runner.config.dwh_home() / "runs").glob("*.json")).read_text())
    assert report["conf"] == {"allow_empty": conf}


@pytest.mark.parametrize(("conf", "expected"), [({"allow_empty": True}, "true"), ({}, "false")])
def test_the_local_glue_task_runs_the_script_with_the_runs_allow_empty(
    tmp_path, monkeypatch, conf, expected
):
    """The local DAG's task, its params made from the DagRun conf as the task runner makes them."""
    from airflow.sdk.definitions.param import process_params

    from dwh import config
    from dwh.compile_airflow import build_dag
    from dwh.graph import load_pipeline
    from dwh_tools.local_target import spark

    monkeypatch.setenv("DWH_HOME", str(tmp_path / "home"))
    seen = {}
    monkeypatch.setattr(spark, "run_glue_script", lambda script, args: seen.update(args) or {})
    dag = build_dag(load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml"), "local")
    task = dag.get_task("clean_orders")
    params = process_params(dag, task, conf, suppress_exception=False)
    task.execute({"ds": DS, "run_id": "manual__1", "params": params})
    assert seen["--allow_empty"] == expected
    assert seen["--entity"] == "orders"


def test_only_a_pipeline_with_a_glue_job_starts_spark_early(tmp_path, monkeypatch):
    """The runner asks the pipeline file; an invalid file is left for Airflow's parse to report."""
    assert runner.has_glue_jobs("ecommerce_dwh")
    assert not runner.has_glue_jobs("warehouse_maintenance")
    assert not runner.has_glue_jobs("no_such_pipeline")
    from dwh import config

    (tmp_path / "broken.yaml").write_text("nodes: [not a node]\n")
    monkeypatch.setattr(config, "PIPELINES_DIR", tmp_path)
    assert runner.has_glue_jobs("broken")
