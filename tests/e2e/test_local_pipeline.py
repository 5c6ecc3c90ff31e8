"""End to end on the local target: the real Airflow DAG (airflow dags test) over generated data.

These runs take about a minute each; they are marked e2e (`make test-fast` leaves them out).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dwh import config

pytestmark = pytest.mark.e2e
REPO = config.REPO_ROOT
SHARED_OLIST = REPO.parent / "shared" / "datasets" / "olist_sample"


def dwh(home: Path, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DWH_HOME": str(home), **(env_extra or {})}
    env.pop("AIRFLOW_HOME", None)  # the runner puts Airflow's SQLite under DWH_HOME
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    return subprocess.run(
        [sys.executable, "-m", "dwh_tools.cli", *args],
        env={
            **env,
            "PYTHONPATH": os.pathsep.join(config.local_pythonpath()),
        },
        capture_output=True,
        text=True,
        timeout=900,
    )


def query(home: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def checksums(home: Path) -> dict:
    from dwh_tools.local_target.warehouse import Warehouse

    wh = Warehouse(home / "warehouse.duckdb")
    try:
        sums = wh.table_checksums()
    finally:
        wh.close()
    # The operational views show the run log, which records every run by design.
    return {name: v for name, v in sums.items() if not name.startswith("mart.operational_")}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("e2e")
    run = dwh(home, "run", "--scale", "0.02", "--ds", "2024-01-01", "--defect-rate", "0.02")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return home, run


def test_run_prints_progress_and_a_summary(first_run):
    _, run = first_run
    assert "start   crawl_raw" in run.stdout
    assert "success notify_success" in run.stdout
    assert "== ecommerce_dwh 2024-01-01: SUCCESS" in run.stdout
    for section in ("Rows per stage", "Quality checks:", "Marts:", "Where to look next:"):
        assert section in run.stdout


def test_run_renders_the_dashboards_and_names_them(first_run):
    home, run = first_run
    index = home / "dashboards" / "index.html"
    assert f"dashboards            {index}" in run.stdout
    for page in ("executive", "customer", "product", "operational"):
        html = (home / "dashboards" / f"{page}.html").read_text()
        assert "No data" not in html, page  # every mart had rows to chart
    report = json.loads((home / "runs" / "ecommerce_dwh_2024-01-01.json").read_text())
    assert report["exit_code"] == 0 and len(report["tasks"]) == 30
    assert all(t["state"] == "success" for t in report["tasks"].values())


def test_every_mart_has_rows(first_run):
    home, _ = first_run
    marts = query(
        home, "select table_name from information_schema.tables where table_schema = 'mart'"
    )
    assert {m for (m,) in marts} >= {
        "executive_monthly",
        "customer_rfm",
        "customer_cohorts",
        "product_categories",
        "operational_loads",
        "operational_quality",
    }
    for (mart,) in marts:
        (n,) = query(home, f"select count(*) from mart.{mart}")[0]
        assert n > 0, mart


def test_every_row_is_accounted_for(first_run):
    home, _ = first_run
    rows = query(
        home,
        "select entity, rows_in, rows_out, rows_quarantined, rows_loaded from ops.load_log "
        "where ingest_date = '2024-01-01'",
    )
    assert len(rows) == 9
    for entity, rows_in, rows_out, quarantined, loaded in rows:
        assert rows_in == rows_out + quarantined, entity
        assert loaded == rows_out, entity
    # Defects were injected, so something was quarantined, and each reject carries its reason.
    assert sum(r[3] for r in rows) > 0
    quarantine = home / "lake" / "processed" / "_quarantine" / "orders" / "ingest_date=2024-01-01"
    reasons = query(home, f"select distinct _rule from read_parquet('{quarantine}/*.parquet')")
    assert {"bad_timestamp", "unknown_enum", "duplicate_key", "malformed_row"} <= {
        r for (r,) in reasons
    }


def test_reject_reasons_are_counted_over_the_glue_jobs_quarantine_files(first_run):
    home, _ = first_run
    quarantine = home / "lake" / "processed" / "_quarantine"
    view = query(
        home,
        "select entity, rule_name, rows_rejected from mart.operational_rejects "
        "where ingest_date = '2024-01-01' order by entity, rule_name",
    )
    files = query(
        home,
        "select split_part(filename, '/', -3) as entity, _rule, count(*) from read_parquet("
        f"'{quarantine}/*/ingest_date=2024-01-01/*.parquet', filename = true, "
        "union_by_name = true) group by 1, 2 order by 1, 2",
    )
    assert view == files and view
    # Still every row accounted for, with the quarantined ones counted in the files.
    per_entity = {}
    for entity, _, n in view:
        per_entity[entity] = per_entity.get(entity, 0) + n
    for entity, rows_in, rows_out, rows_loaded in query(
        home,
        "select entity, rows_in, rows_out, rows_loaded from ops.load_log "
        "where ingest_date = '2024-01-01'",
    ):
        assert (
            rows_in
            == rows_loaded + per_entity.get(entity, 0)
            == rows_out + per_entity.get(entity, 0)
        ), entity
    # The view reads the files at query time, not the ops tables: a second copy of the orders'
    # file doubles its rows, and deleting the copy takes them back.
    (part,) = sorted((quarantine / "orders" / "ingest_date=2024-01-01").glob("*.parquet"))
    copy = part.with_name("part-copy.snappy.parquet")
    copy.write_bytes(part.read_bytes())
    orders = "select sum(rows_rejected) from mart.operational_rejects where entity = 'orders'"
    try:
        assert query(home, orders) == [(2 * per_entity["orders"],)]
    finally:
        copy.unlink()
    assert query(home, orders) == [(per_entity["orders"],)]


def test_no_blocking_check_failed(first_run):
    home, _ = first_run
    failed = query(
        home,
        "select check_name from ops.quality_results where status = 'fail' and severity = 'block'",
    )
    assert failed == []
    assert query(home, "select count(*) from ops.quality_results")[0][0] >= 20


def test_rerunning_a_date_changes_nothing_and_the_next_day_adds_history(first_run):
    home, _ = first_run
    before = checksums(home)
    again = dwh(home, "run", "--scale", "0.02", "--ds", "2024-01-01", "--defect-rate", "0.02")
    assert again.returncode == 0, again.stdout[-3000:]
    assert checksums(home) == before

    versions_before = query(home, "select count(*) from dw.dim_customer")[0][0]
    orders_before = query(home, "select count(*) from dw.fact_orders")[0][0]
    next_day = dwh(home, "run", "--scale", "0.02", "--ds", "2024-01-02")
    assert next_day.returncode == 0, next_day.stdout[-3000:]
    new_orders = query(home, "select count(*) from staging.orders")[0][0]
    assert query(home, "select count(*) from dw.fact_orders")[0][0] == orders_before + new_orders
    # Returning customers who moved get a new version; the old one is closed, not lost.
    assert query(home, "select count(*) from dw.dim_customer")[0][0] > versions_before
    (closed,) = query(home, "select count(*) from dw.dim_customer where not is_current")[0]
    assert closed > 0


def test_bring_your_own_olist_files(tmp_path):
    if not SHARED_OLIST.is_dir():
        pytest.skip(f"{SHARED_OLIST} is absent: the shared Olist sample is not on this machine")
    run = dwh(tmp_path, "run", "--data", str(SHARED_OLIST), "--ds", "2024-02-01")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # The slice's foreign keys mostly point outside it: kept, mapped to unknown, and reported.
    orphan = query(
        tmp_path,
        "select observed from ops.quality_results where check_name = 'items_order_known'",
    )
    assert orphan and orphan[0][0] > 0.5
    unknown = query(
        tmp_path, "select count(*) from dw.fact_order_items where customer_key = 'unknown'"
    )
    assert unknown[0][0] > 0
    loads = query(tmp_path, "select entity, rows_in, rows_out, rows_quarantined from ops.load_log")
    assert all(r[1] == r[2] + r[3] for r in loads)


def test_a_failing_blocking_check_fails_the_run_skips_downstream_and_alerts(tmp_path):
    fixtures = REPO / "tests" / "fixtures" / "include"
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "fixture_failing_check.py").write_text((REPO / "dags" / "ecommerce_dwh.py").read_text())
    env = {"DWH_INCLUDE_DIR": str(fixtures), "AIRFLOW__CORE__DAGS_FOLDER": str(dags)}
    run = dwh(
        tmp_path,
        "run",
        "--pipeline",
        "fixture_failing_check",
        "--scale",
        "0.01",
        "--ds",
        "2024-01-01",
        env_extra=env,
    )
    assert run.returncode != 0
    assert "failed  check_customer_orders" in run.stdout
    assert "success notify_done" not in run.stdout
    results = query(tmp_path, "select check_name, status from ops.quality_results")
    assert ("only_delivered", "fail") in results
    alerts = [
        json.loads(line) for line in (tmp_path / "alerts" / "outbox.jsonl").read_text().splitlines()
    ]
    failure = [a for a in alerts if a["event"] == "failure"]
    assert failure and failure[0]["task_id"] == "check_customer_orders"
    assert "only_delivered" in failure[0]["error"]
    assert failure[0]["log_location"]
    # The summary says why and what to do, in the alert's words.
    assert f"Failed: check_customer_orders\n  {failure[-1]['error']}\n" in run.stdout
    assert failure[-1]["action"] == (
        "see ops.quality_results for the run; the marts were not refreshed"
    )
    assert f"  what to do: {failure[-1]['action']}" in run.stdout


def test_a_file_breaking_the_contract_fails_the_run_and_the_summary_names_the_column(tmp_path):
    import csv

    from olist_contract import ENTITIES

    from dwh_tools.datagen import generate

    generated, src = tmp_path / "generated", tmp_path / "mine"
    generate(generated, "2024-01-01", scale=0.01, seed=5)
    src.mkdir()
    for name, entity in ENTITIES.items():
        path = generated / name / "ingest_date=2024-01-01" / entity.file_name
        if name == "orders":
            with path.open(newline="") as fh:
                rows = list(csv.reader(fh))
            status = rows[0].index("order_status")
            with (src / "orders export.csv").open("w", newline="") as fh:
                csv.writer(fh).writerows(r[:status] + r[status + 1 :] for r in rows)
        elif path.exists():
            (src / entity.file_name).write_bytes(path.read_bytes())
    home = tmp_path / "home"
    run = dwh(home, "run", "--data", str(src), "--ds", "2024-01-01")
    assert run.returncode != 0
    # Without order_status the orders header matches nothing: the landing refuses it.
    assert "orders export.csv: its header matches no entity" in run.stderr
    assert "missing order_status" in run.stderr and "Traceback" not in run.stderr

    (src / "orders export.csv").rename(src / ENTITIES["orders"].file_name)
    run = dwh(home, "run", "--data", str(src), "--ds", "2024-01-01")
    assert run.returncode != 0
    assert "failed  crawl_raw" in run.stdout
    failed = run.stdout.split("Failed: crawl_raw\n", 1)[1].split("\n\n", 1)[0]
    assert "contract violation: entity orders" in failed and "order_status" in failed
    assert "ingest.entities.orders" in failed.splitlines()[-1]
    report = json.loads((home / "runs" / "ecommerce_dwh_2024-01-01.json").read_text())
    assert "order_status" in report["failures"]["crawl_raw"]["error"]
    # Not retried: the same file would fail every try (the pipeline allows crawl_raw 2 retries).
    lines = (home / "alerts" / "outbox.jsonl").read_text().splitlines()
    outbox = [json.loads(line) for line in lines]
    crawl = [r["event"] for r in outbox if r.get("task_id") == "crawl_raw"]
    assert crawl == ["failure"]
