"""mart.operational_rejects reads the quarantine Parquet itself, through spectrum_processed."""

from __future__ import annotations

import datetime as dt

import pytest
from handmade import HandWarehouse
from quarantine_files import write_quarantine

from dwh import config
from dwh.sql import render, split_statements

D1, D2 = "2024-03-01", "2024-03-02"


def build(tmp_path, processed, as_statements: bool = False):
    """The operational marts over ``processed``: as a file, or as the local sql node sends them
    (rendered statements)."""
    hw = HandWarehouse(tmp_path / "warehouse.duckdb")
    ctx = {"ds": D2, "run_id": f"scheduled__{D2}", "processed_uri": str(processed)}
    if as_statements:
        text = render((config.SQL_DIR / "mart" / "operational.sql").read_text(), ctx)
        hw.wh.run_statements(split_statements(text), "refresh_marts", str(processed))
    else:
        hw.wh.run_sql_file("mart/operational.sql", ctx)
    return hw


def rejects(hw) -> list[tuple]:
    return hw.rows(
        "select ingest_date, entity, rule_name, rows_rejected from mart.operational_rejects "
        "order by ingest_date, entity, rule_name"
    )


def test_the_view_counts_the_quarantine_files_per_date_entity_and_rule(tmp_path):
    processed = tmp_path / "processed"
    write_quarantine(processed, "orders", D1, {"bad_timestamp": 3, "unknown_enum": 1})
    write_quarantine(processed, "orders", D2, {"bad_timestamp": 2})
    write_quarantine(processed, "orders", D2, {"duplicate_key": 4})  # a second file, same date
    write_quarantine(processed, "customers", D2, {"required_missing": 5})
    write_quarantine(processed, "sellers", D2, {})  # an empty partition, as for a clean day
    hw = build(tmp_path, processed)
    try:
        assert rejects(hw) == [
            (dt.date(2024, 3, 1), "orders", "bad_timestamp", 3),
            (dt.date(2024, 3, 1), "orders", "unknown_enum", 1),
            (dt.date(2024, 3, 2), "customers", "required_missing", 5),
            (dt.date(2024, 3, 2), "orders", "bad_timestamp", 2),
            (dt.date(2024, 3, 2), "orders", "duplicate_key", 4),
        ]
        # The same figure as a count over the files themselves.
        (direct,) = hw.rows(
            f"select count(*) from read_parquet('{processed}/_quarantine/*/*/*.parquet')"
        )
        assert hw.scalar("select sum(rows_rejected) from mart.operational_rejects") == direct[0]
    finally:
        hw.close()


@pytest.mark.parametrize("as_statements", [False, True], ids=["sql file", "sql node"])
def test_the_view_reads_the_files_at_query_time_not_the_ops_tables(tmp_path, as_statements):
    processed = tmp_path / "processed"
    write_quarantine(processed, "orders", D2, {"bad_timestamp": 2})
    gone = write_quarantine(processed, "orders", D2, {"duplicate_key": 4})
    hw = build(tmp_path, processed, as_statements)
    try:
        assert hw.scalar("select count(*) from ops.glue_metrics") == 0  # nothing in ops
        assert len(rejects(hw)) == 2
        gone.unlink()
        assert rejects(hw) == [(dt.date(2024, 3, 2), "orders", "bad_timestamp", 2)]
    finally:
        hw.close()


def test_no_quarantine_file_yet_reads_as_no_rows(tmp_path):
    hw = build(tmp_path, tmp_path / "processed")
    try:
        assert rejects(hw) == []
    finally:
        hw.close()
