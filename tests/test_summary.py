"""The end of ``dwh run``: each failed task's error and what to do, as its failure alert says."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from olist_contract import ContractError

from dwh import config
from dwh_tools import summary
from dwh_tools.landing import LandedFile

DAG, DS = "ecommerce_dwh", "2024-01-01"
STARTED = dt.datetime(2024, 1, 2, 3, 0, 0, 500_000, tzinfo=dt.UTC)
MISSING_STATUS = (
    "AirflowFailException: contract violation: entity orders, file raw/orders/"
    "ingest_date=2024-01-01/olist_orders_dataset.csv: missing column(s) order_status"
)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    return tmp_path


def outbox(records: list[dict]) -> None:
    path = config.outbox_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def alert(task: str, error: str, at: dt.datetime, **kw) -> dict:
    return {
        "at": at.isoformat(timespec="seconds"),
        "event": "failure",
        "dag_id": DAG,
        "task_id": task,
        "run_id": "manual__2024-01-02T03:00:00+00:00",
        "logical_date": f"{DS}T00:00:00+00:00",
        "error": error,
        "action": f"action for {task}",
        **kw,
    }


def printed(capsys, timings: dict, failures: dict, files=()) -> str:
    summary.print_summary(
        DAG, DS, timings, 1, config.dwh_home() / "run.log", 9.0, {}, failures, files
    )
    return capsys.readouterr().out


def test_a_failed_task_shows_its_alerts_error_and_what_to_do(home, capsys):
    this_run = STARTED.replace(microsecond=0)  # "at" has whole seconds: the same second counts
    outbox(
        [
            alert("crawl_raw", MISSING_STATUS + "\nsecond line", this_run),
            {**alert("crawl_raw", "earlier try", this_run), "event": "retry"},
            alert("load_orders", "an earlier run of the date", STARTED - dt.timedelta(hours=1)),
            alert("crawl_raw", "another DAG", this_run, dag_id="warehouse_maintenance"),
            alert("crawl_raw", "another date", this_run, logical_date="2024-01-05T00:00:00+00:00"),
        ]
    )
    timings = {"crawl_raw": {"state": "failed", "seconds": 0.3}, "done": {"state": "success"}}
    failures = summary.failed_tasks(DAG, DS, timings, STARTED, home / "run.log")
    assert failures == {
        "crawl_raw": {"error": MISSING_STATUS + "\nsecond line", "action": "action for crawl_raw"}
    }
    out = printed(capsys, timings, failures)
    assert (
        f"Failed: crawl_raw\n  {MISSING_STATUS}\n  second line\n"
        "  what to do: action for crawl_raw\n" in out
    )


def test_a_task_without_a_failure_alert_shows_the_last_exception_of_its_log(home, capsys):
    log = home / "run.log"
    log.write_text(
        "2024-01-02T03:00:01Z [info] [DAG TEST] starting task_id=load_orders map_index=-1\n"
        "2024-01-02T03:00:02Z [error] Task failed with exception\n"
        "Traceback (most recent call last):\n"
        '  File "loads.py", line 3, in load\n'
        "    copy()\n"
        "duckdb.IOException: IO Error: No files found that match the pattern\n"
        "\n"
        "The above exception was the direct cause of the following exception:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "operators.py", line 9, in execute\n'
        "    raise LoadError(...)\n"
        "dwh.loads.LoadError: staging.orders not loaded:\n"
        "  no Parquet under processed/orders/ingest_date=2024-01-01\n"
        "2024-01-02T03:00:03Z [info] [DAG TEST] end task task_id=load_orders map_index=-1\n"
    )
    timings = {"load_orders": {"state": "failed", "seconds": 0.1}}
    failures = summary.failed_tasks(DAG, DS, timings, STARTED, log)
    assert failures["load_orders"] == {
        "error": "LoadError: staging.orders not loaded:\n"
        "  no Parquet under processed/orders/ingest_date=2024-01-01",
        "action": f"see the task's log: {log}",
    }
    assert "  LoadError: staging.orders not loaded:\n" in printed(capsys, timings, failures)


def test_the_files_landed_are_listed_with_what_each_was_taken_as(home, capsys):
    files = [
        LandedFile("olistcustomerdataset.csv", "customers", 99, by_header=True),
        LandedFile("olist_orders_dataset.csv", "orders", 120, by_header=False),
    ]
    out = printed(capsys, {}, {}, files)
    section = out.split("Files landed:\n", 1)[1].split("\n\n", 1)[0]
    assert [" ".join(line.split()) for line in section.splitlines()] == [
        "olistcustomerdataset.csv -> customers (matched by header) 99 rows",
        "olist_orders_dataset.csv -> orders 120 rows",
    ]


def failure_context(exc: Exception, task: str = "crawl_raw") -> dict:
    ti = SimpleNamespace(
        dag_id=DAG,
        task_id=task,
        run_id="manual__2024-01-02T03:00:00+00:00",
        try_number=1,
        log_url=None,
    )
    return {"ti": ti, "exception": exc, "logical_date": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}


def test_the_outbox_alert_and_the_summary_carry_the_same_text(home, capsys, monkeypatch):
    from dwh_tools.local_target import alerts

    monkeypatch.delenv("AIRFLOW_CONN_SLACK_ALERTS", raising=False)
    started = dt.datetime.now(dt.UTC)
    problems = "\n".join(
        f"entity orders, file f{i}.csv: missing column(s) order_status" for i in range(8)
    )
    alerts.LocalAlertNotifier("failure", ["sns"]).notify(failure_context(ContractError(problems)))
    (record,) = [json.loads(line) for line in config.outbox_path().read_text().splitlines()]
    # The first lines of the message, not all eight, and never the traceback.
    assert record["error"].splitlines() == [
        "ContractError: contract violation: entity orders, file f0.csv: missing column(s) "
        "order_status",
        *[f"entity orders, file f{i}.csv: missing column(s) order_status" for i in range(1, 5)],
        "... (3 more in the log)",
    ]
    assert record["action"] == (
        "fix the file named above (or declare its format in the pipeline file under "
        "ingest.entities.orders) and run again"
    )
    timings = {"crawl_raw": {"state": "failed", "seconds": 0.1}}
    failures = summary.failed_tasks(DAG, DS, timings, started, home / "run.log")
    assert failures == {"crawl_raw": {"error": record["error"], "action": record["action"]}}
    out = printed(capsys, timings, failures)
    assert "\n".join(f"  {line}" for line in record["error"].splitlines()) in out
    assert f"  what to do: {record['action']}" in out
    assert f"what to do: {record['action']}" in alerts.format_text(record)


@pytest.mark.parametrize(
    ("message", "advice"),
    [
        (
            "2 blocking quality check(s) failed: only_delivered, reconciled_orders",
            "see ops.quality_results for the run; the marts were not refreshed",
        ),
        ("connection refused", "see the task's log: {log}"),
    ],
    ids=["quality-gate", "anything-else"],
)
def test_what_to_do_follows_the_error(home, monkeypatch, message, advice):
    from dwh_tools.local_target import alerts
    from dwh_tools.local_target.failures import RUN_LOG_ENV

    log = home / "logs" / "ecommerce_dwh_2024-01-01.log"
    monkeypatch.setenv(RUN_LOG_ENV, str(log))
    record = alerts.record_from_context("failure", failure_context(RuntimeError(message)))
    assert record["error"] == f"RuntimeError: {message}"
    assert record["action"] == advice.format(log=log)
    assert record["log_location"] == str(log)


def test_a_missing_raw_file_says_to_land_it_again_or_allow_empty(home):
    from clean_entity import MissingRawFile

    from dwh_tools.local_target import alerts

    error = MissingRawFile("orders 2024-01-01: no raw file at /lake/raw/orders/...")
    record = alerts.record_from_context("failure", failure_context(error))
    assert record["error"].startswith("MissingRawFile: orders 2024-01-01")
    assert "dwh land FOLDER --ds DATE" in record["action"]
    assert "dwh run --allow-empty" in record["action"]
