"""The local Airflow UI (dwh_tools.ui) end to end: through the REST API a user's clicks (unpause,
trigger) run a fixture DAG whose task fails once and succeeds on its retry.

About a minute and a half on two cores: ~35 s to start Airflow, ~50 s for the run, of which the
retry delay of fixture_all_kinds (5 s, exponential backoff: 5 to 10 s) is a small part.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from dwh import config
from dwh_tools import faults, ui

pytestmark = pytest.mark.e2e
DAG = "fixture_all_kinds"
FLAKY_TASK = "build_customer_orders"
RUN_TIMEOUT = 240  # generous: other work on a two-core machine can double the run time


def api(airflow, token: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        f"{airflow.url}/api/v2{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{method} {path}: {exc.code} {exc.read().decode()[:500]}") from None


def wait_for_dag(airflow, token: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        airflow.check_alive()
        try:
            return api(airflow, token, "GET", f"/dags/{DAG}")
        except AssertionError:
            if time.monotonic() > deadline:
                errors = api(airflow, token, "GET", "/importErrors")
                raise AssertionError(
                    f"{DAG} not parsed in {timeout}s; import errors: {errors}"
                ) from None
            time.sleep(2)


def test_a_triggered_run_retries_a_transient_failure_and_succeeds(local_airflow):
    airflow = local_airflow
    ds = ui.first_logical_date(airflow.env)
    token = airflow.token()
    wait_for_dag(airflow, token)
    faults.inject(DAG, FLAKY_TASK, times=1)

    api(airflow, token, "PATCH", f"/dags/{DAG}", {"is_paused": False})
    run_id = f"ui_test__{ds}"
    api(
        airflow,
        token,
        "POST",
        f"/dags/{DAG}/dagRuns",
        {"dag_run_id": run_id, "logical_date": f"{ds}T00:00:00Z"},
    )
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        airflow.check_alive()
        run = api(airflow, token, "GET", f"/dags/{DAG}/dagRuns/{run_id}")
        if run["state"] in ("success", "failed"):
            break
        assert time.monotonic() < deadline, f"run still {run['state']} after {RUN_TIMEOUT}s"
        time.sleep(3)

    tis = api(airflow, token, "GET", f"/dags/{DAG}/dagRuns/{run_id}/taskInstances")
    states = {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in tis["task_instances"]}
    assert run["state"] == "success", states
    assert states[FLAKY_TASK] == ("success", 2)
    assert all(try_number == 1 for t, (_, try_number) in states.items() if t != FLAKY_TASK)
    tries = api(
        airflow, token, "GET", f"/dags/{DAG}/dagRuns/{run_id}/taskInstances/{FLAKY_TASK}/tries"
    )
    assert [(t["try_number"], t["state"]) for t in tries["task_instances"]] == [
        (1, "failed"),
        (2, "success"),
    ]

    alerts = [json.loads(line) for line in config.outbox_path().read_text().splitlines()]
    retries = [a for a in alerts if a["event"] == "retry"]
    assert [(a["task_id"], a["run_id"], a["try_number"]) for a in retries] == [
        (FLAKY_TASK, run_id, 1)
    ]
    assert "InjectedFault" in retries[0]["error"]
    assert retries[0]["log_url"].startswith(airflow.url)
    assert not [a for a in alerts if a["event"] == "failure"]
