"""A running local Airflow (dwh_tools.ui) for the UI tests, stopped after each test; on failure the
report carries the components' logs and the task logs of the run."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from dwh import config
from dwh_tools import ui

AIRFLOW_KEY = pytest.StashKey["object"]()
SCALE = 0.01  # the smallest sample that still exercises every node kind


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def diagnostics(airflow) -> str:
    parts = []
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        parts.append(
            f"----- {airflow.log_path(name)} (last 80 lines)\n{airflow.log_tail(name, 80)}"
        )
    for log in sorted((airflow.airflow_home / "logs").glob("dag_id=*/**/*.log")):
        parts.append(f"----- {log} (last 40 lines)\n{tail(log, 40)}")
    outbox = config.outbox_path()
    if outbox.exists():
        parts.append(f"----- {outbox}\n{outbox.read_text()}")
    return "\n".join(parts)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    airflow = item.stash.get(AIRFLOW_KEY, None)
    if report.failed and airflow is not None:
        report.sections.append(("local Airflow logs", diagnostics(airflow)))


@pytest.fixture
def local_airflow(request, tmp_path, monkeypatch, fixture_include):
    """Airflow on a free port, DWH_HOME in tmp_path, the fixture pipelines as its DAGs, and the
    first logical date's input landed. Returns the started :class:`dwh_tools.ui.LocalAirflow`."""

    dags = tmp_path / "dags"
    dags.mkdir()
    # The DAG entry file is the same two lines for every pipeline; its name picks the pipeline.
    entry = (config.REPO_ROOT / "dags" / "ecommerce_dwh.py").read_text()
    for pipeline in ("fixture_all_kinds",):
        (dags / f"{pipeline}.py").write_text(entry)
    monkeypatch.setenv("DWH_HOME", str(tmp_path / "dwh"))
    monkeypatch.setenv("DWH_INCLUDE_DIR", str(fixture_include))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(dags))

    airflow = ui.LocalAirflow(port=free_port())
    request.node.stash[AIRFLOW_KEY] = airflow
    request.addfinalizer(airflow.stop)
    ui.land(ui.first_logical_date(airflow.env), SCALE, None)
    airflow.start()
    airflow.wait_until_ready()
    return airflow


@pytest.fixture
def published_airflow(request, tmp_path, monkeypatch, fixture_include):
    """Airflow serving fixture_all_kinds as `dwh ui` does (published in $DWH_HOME/ui.json, for
    the arrival gate of `dwh land`), with no input landed."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "fixture_all_kinds.py").write_text(
        (config.REPO_ROOT / "dags" / "ecommerce_dwh.py").read_text()
    )
    monkeypatch.setenv("DWH_HOME", str(tmp_path / "dwh"))
    monkeypatch.setenv("DWH_INCLUDE_DIR", str(fixture_include))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(dags))
    airflow = ui.LocalAirflow(port=free_port())
    request.node.stash[AIRFLOW_KEY] = airflow
    request.addfinalizer(airflow.stop)
    airflow.start()
    airflow.wait_until_ready()
    airflow.publish()
    return airflow
