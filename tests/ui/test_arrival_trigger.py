"""The arrival gate end to end on the local target: with the local Airflow UI running, `dwh land`
of an incomplete day triggers nothing, the landing that completes it triggers that day's DAG run
through the UI's REST API, the run succeeds, and landing the day again triggers no second run.

The UI is the real one (dwh_tools.ui.LocalAirflow: api-server, scheduler, dag-processor,
triggerer); the DAG is the fixture pipeline fixture_all_kinds, whose crawler expects customers
and orders. About two minutes on two cores.
"""

from __future__ import annotations

import shutil
import time

import pytest
from olist_contract import ENTITIES
from test_airflow_ui import RUN_TIMEOUT, api, wait_for_dag

from dwh_tools import cli, ui
from dwh_tools.datagen import generate

pytestmark = pytest.mark.e2e
DAG = "fixture_all_kinds"


def extract(tmp_path, ds: str, entities: list[str], name: str):
    """A folder of Olist-named CSVs for ``entities``, as a user would land them."""
    raw = tmp_path / "generated"
    if not raw.exists():
        generate(raw, ds, scale=0.01, seed=7, day=0, defect_rate=0.0)
    folder = tmp_path / name
    folder.mkdir()
    for entity in entities:
        src = raw / entity / f"ingest_date={ds}" / ENTITIES[entity].file_name
        shutil.copy(src, folder / src.name)
    return folder


def dag_runs(airflow, token) -> list[dict]:
    return api(airflow, token, "GET", f"/dags/{DAG}/dagRuns")["dag_runs"]


def test_landing_the_last_file_of_a_day_triggers_its_dag_run_on_the_running_ui(
    published_airflow, tmp_path, capsys
):
    airflow = published_airflow
    ds = ui.first_logical_date(airflow.env)
    token = airflow.token()
    wait_for_dag(airflow, token)
    rest = [e for e in ENTITIES if e != "orders"]

    assert cli.main(["land", str(extract(tmp_path, ds, rest, "first")), "--ds", ds]) == 0
    out = capsys.readouterr().out
    assert f"{DAG} {ds}: waiting for 1 more file(s): orders" in out
    assert dag_runs(airflow, token) == []

    assert cli.main(["land", str(extract(tmp_path, ds, ["orders"], "second")), "--ds", ds]) == 0
    out = capsys.readouterr().out
    assert f"{DAG} {ds}: complete; triggered DAG run arrival__{ds} of {DAG} on {airflow.url}" in out

    run_id = f"arrival__{ds}"
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        airflow.check_alive()
        run = api(airflow, token, "GET", f"/dags/{DAG}/dagRuns/{run_id}")
        if run["state"] in ("success", "failed"):
            break
        assert time.monotonic() < deadline, f"run still {run['state']} after {RUN_TIMEOUT}s"
        time.sleep(3)
    assert run["state"] == "success"
    assert run["logical_date"].startswith(f"{ds}T00:00:00")

    # The same day landed again (a re-sent extract): no second run.
    assert cli.main(["land", str(extract(tmp_path, ds, ["orders"], "third")), "--ds", ds]) == 0
    assert f"DAG run arrival__{ds} of {DAG} was already triggered" in capsys.readouterr().out
    assert [r["dag_run_id"] for r in dag_runs(airflow, token)] == [run_id]
