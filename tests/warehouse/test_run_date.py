"""The logical date in the warehouse's SQL: the ops history purge, and dates that are not dates."""

from __future__ import annotations

import datetime as dt

import pytest
from handmade import context
from olist_contract import InvalidRunDate

OPS_TABLES = ("ops.quality_results", "ops.load_log", "ops.glue_metrics", "ops.table_counts")
HOSTILE = ["x/../../customers", "2024-13-45", "2024-01-01' or '1'='1"]


def ops_rows(day: dt.date) -> dict[str, dict]:
    """One row of every ops table for ``day``."""
    at = f"{day.isoformat()} 03:00:00"
    return {
        "ops.quality_results": {
            "run_id": "r",
            "ingest_date": day,
            "node_id": "check_warehouse",
            "check_name": "c",
            "check_type": "row_count",
            "status": "pass",
            "severity": "error",
            "checked_at": at,
        },
        "ops.load_log": {
            "run_id": "r",
            "ingest_date": day,
            "entity": "orders",
            "rows_in": 1,
            "rows_out": 1,
            "rows_quarantined": 0,
            "rows_loaded": 1,
            "loaded_at": at,
        },
        "ops.glue_metrics": {
            "entity": "orders",
            "ingest_date": day,
            "run_id": "r",
            "rows_in": 1,
            "rows_out": 1,
            "rows_quarantined": 0,
        },
        "ops.table_counts": {
            "ingest_date": day,
            "table_name": "staging.orders",
            "row_count": 1,
            "counted_at": at,
        },
    }


def history(warehouse, days: list[dt.date]) -> None:
    for day in days:
        for table, row in ops_rows(day).items():
            warehouse.insert(table, [row])


def days_left(warehouse) -> dict[str, list[dt.date]]:
    return {
        t: [d for (d,) in warehouse.rows(f"select ingest_date from {t} order by 1")]
        for t in OPS_TABLES
    }


def purge(warehouse, ds: str) -> None:
    warehouse.wh.run_sql_file("maintenance/purge_ops.sql", context(ds))


def test_a_logical_date_far_in_the_future_keeps_the_recent_history(new_warehouse):
    today = dt.date.today()
    recent, old = today - dt.timedelta(days=10), today - dt.timedelta(days=500)
    history(new_warehouse, [old, recent])
    purge(new_warehouse, "2999-12-31")
    # Counted from today, not from 2999: the last 400 days stay, older rows go.
    assert days_left(new_warehouse) == {t: [recent] for t in OPS_TABLES}


def test_a_past_logical_date_purges_what_is_older_than_400_days_before_it(new_warehouse):
    ds = dt.date(2024, 6, 1)
    kept, purged = ds - dt.timedelta(days=399), ds - dt.timedelta(days=401)
    history(new_warehouse, [purged, kept, ds])
    purge(new_warehouse, ds.isoformat())
    assert days_left(new_warehouse) == {t: [kept, ds] for t in OPS_TABLES}


@pytest.mark.parametrize("ds", HOSTILE)
def test_sql_is_not_rendered_for_a_logical_date_that_is_not_a_date(ds):
    with pytest.raises(InvalidRunDate, match="is not a"):
        context(ds)


@pytest.mark.parametrize("ds", HOSTILE)
def test_a_load_refuses_a_logical_date_that_is_not_a_date(new_warehouse, tmp_path, ds):
    new_warehouse.insert("staging.orders", [{"order_id": "o1"}], "2024-01-01")
    with pytest.raises(InvalidRunDate, match="is not a"):
        new_warehouse.wh.load_entity("orders", "staging.orders", tmp_path, ds, "r")
    assert new_warehouse.scalar("select count(*) from staging.orders") == 1
