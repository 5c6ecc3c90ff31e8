"""Every check type of dwh.quality passing and failing on tiny tables, and the gate.

qc.items holds four rows: ids 1, 2, 3, 3 (one duplicate), codes a, b, z, null, parents 10, 20,
30, 10 (30 has no parent), prices 1, 2, null, 9, last updated 2024-03-08.
"""

from __future__ import annotations

import json

import duckdb
import pytest
from handmade import context

from dwh.graph import Check

DS = "2024-03-10"
NODE = "check_qc"


@pytest.fixture
def qc(new_warehouse):
    con = new_warehouse.wh.con
    con.execute("create schema qc")
    con.execute(
        "create table qc.items (id integer, code varchar, parent_id integer, "
        "price decimal(12, 2), updated date)"
    )
    con.execute("create table qc.parents (id integer)")
    con.execute("create table qc.empty (updated date)")
    con.execute(
        "insert into qc.items values (1, 'a', 10, 1, '2024-03-01'), (2, 'b', 20, 2, '2024-03-08'),"
        " (3, 'z', 30, null, '2024-03-05'), (3, null, 10, 9, '2024-03-02')"
    )
    con.execute("insert into qc.parents values (10), (20)")
    return new_warehouse


def check(name: str, type_: str, **fields) -> Check:
    return Check(name=name, type=type_, **fields)


def outcome(results: list[dict]) -> dict[str, tuple]:
    return {r["name"]: (r["observed"], r["threshold"], r["status"]) for r in results}


CHECKS = [
    check("nn_pass", "not_null", table="qc.items", column="price", max_rate=0.25),
    check("nn_fail", "not_null", table="qc.items", column="price", max_rate=0.2),
    check("uniq_pass", "unique", table="qc.items", columns=["id", "parent_id"]),
    check("uniq_fail", "unique", table="qc.items", columns=["id"]),
    check("acc_pass", "accepted_values", table="qc.items", column="code", values=["a", "b", "z"]),
    check("acc_fail", "accepted_values", table="qc.items", column="code", values=["a", "b"]),
    check(
        "rel_pass",
        "relationship",
        table="qc.items",
        column="parent_id",
        to_table="qc.parents",
        to_column="id",
        max_rate=0.25,
    ),
    check(
        "rel_fail",
        "relationship",
        table="qc.items",
        column="parent_id",
        to_table="qc.parents",
        to_column="id",
    ),
    check("fresh_pass", "freshness", table="qc.items", column="updated", max_age_days=2),
    check("fresh_fail", "freshness", table="qc.items", column="updated", max_age_days=1),
    check("fresh_empty", "freshness", table="qc.empty", column="updated", max_age_days=30),
    check("sql_pass", "sql", sql="select count(*) from qc.items where price < 0"),
    check("sql_fail", "sql", sql="select count(*) from qc.items where price > 1;"),
]


def test_each_check_type_passes_and_fails_with_its_observed_value(qc):
    results = qc.wh.run_checks(NODE, CHECKS, context(DS))
    assert outcome(results) == {
        "nn_pass": (0.25, 0.25, "pass"),  # 1 null price in 4 rows
        "nn_fail": (0.25, 0.2, "fail"),
        "uniq_pass": (0.0, 0.0, "pass"),
        "uniq_fail": (1.0, 0.0, "fail"),  # id 3 twice
        "acc_pass": (0.0, 0.0, "pass"),  # the null code is not judged
        "acc_fail": (1.0, 0.0, "fail"),  # 'z'
        "rel_pass": (0.25, 0.25, "pass"),  # parent 30 missing
        "rel_fail": (0.25, 0.0, "fail"),
        "fresh_pass": (2.0, 2.0, "pass"),  # newest 2024-03-08, run date 2024-03-10
        "fresh_fail": (2.0, 1.0, "fail"),
        "fresh_empty": (99999.0, 30.0, "fail"),
        "sql_pass": (0.0, 0.0, "pass"),
        "sql_fail": (2.0, 0.0, "fail"),  # prices 2 and 9
    }


def test_results_are_recorded_once_per_run_and_shown_on_the_operational_mart(qc):
    qc.wh.run_checks(NODE, CHECKS, context(DS))
    qc.wh.run_checks(NODE, CHECKS, context(DS))  # a retry replaces, never duplicates
    qc.build_marts(DS)
    rows = qc.rows(
        "select check_name, check_type, table_name, status, severity, ingest_date, run_id "
        "from mart.operational_quality where check_name in ('acc_fail', 'sql_pass') order by 1"
    )
    run_id = context(DS)["run_id"]
    assert [r[:5] for r in rows] == [
        ("acc_fail", "accepted_values", "qc.items", "fail", "block"),
        ("sql_pass", "sql", "", "pass", "block"),
    ]
    assert {(str(r[5]), r[6]) for r in rows} == {(DS, run_id)}
    assert qc.scalar("select count(*) from ops.quality_results") == len(CHECKS)


def test_gate_counts_only_blocking_failures(qc):
    checks = [
        c.model_copy(update={"severity": "warn"}) if c.name in ("nn_fail", "acc_fail") else c
        for c in CHECKS
    ]
    results = qc.wh.run_checks(NODE, checks, context(DS))
    # Seven checks fail; two of them only warn.
    assert sum(r["status"] == "fail" for r in results) == 7
    assert qc.wh.failed_blocking(NODE, context(DS)["run_id"]) == 5
    assert qc.wh.failed_blocking("another_node", context(DS)["run_id"]) == 0
    assert qc.wh.failed_blocking(NODE, "another_run") == 0


def test_warn_failures_are_reported_but_do_not_block(qc):
    warn_only = [c.model_copy(update={"severity": "warn"}) for c in CHECKS if "fail" in c.name]
    results = qc.wh.run_checks(NODE, warn_only, context(DS))
    assert [(r["name"], r["status"], r["severity"]) for r in results] == [
        ("acc_fail", "fail", "warn"),
        ("fresh_fail", "fail", "warn"),
        ("nn_fail", "fail", "warn"),
        ("rel_fail", "fail", "warn"),
        ("sql_fail", "fail", "warn"),
        ("uniq_fail", "fail", "warn"),
    ]
    assert qc.wh.failed_blocking(NODE, context(DS)["run_id"]) == 0


def test_row_count_change_against_the_previous_date(qc):
    change = [check("rows", "row_count_change", table="qc.items", max_change=0.5)]

    def run(ds):
        return outcome(qc.wh.run_checks(NODE, change, context(ds)))["rows"]

    assert run("2024-03-01") == (0.0, 0.5, "pass")  # 4 rows, nothing to compare with
    qc.wh.con.execute("insert into qc.items (id) values (5)")
    assert run("2024-03-02") == (0.25, 0.5, "pass")  # 4 -> 5
    qc.wh.con.execute("insert into qc.items (id) select 10 + range from range(5)")
    assert run("2024-03-03") == (1.0, 0.5, "fail")  # 5 -> 10
    assert run("2024-03-03") == (1.0, 0.5, "fail")  # a re-run compares with the day before
    counts = qc.rows("select ingest_date, row_count from ops.table_counts order by 1")
    assert [(str(d), n) for d, n in counts] == [
        ("2024-03-01", 4),
        ("2024-03-02", 5),
        ("2024-03-03", 10),
    ]


def write_load(root, entity: str, ds: str, order_ids: list[str], metrics: dict) -> None:
    """A processed Parquet partition and the Glue metrics record beside it."""
    part = root / entity / f"ingest_date={ds}"
    part.mkdir(parents=True)
    values = ", ".join(f"('{o}', {n})" for n, o in enumerate(order_ids, start=2)) or "('', 0)"
    duckdb.connect().execute(
        "copy (select order_id, 'c_' || order_id as customer_id, 'delivered' as order_status, "
        "timestamp '2024-03-09 10:00:00' as order_purchase_timestamp, "
        "null::timestamp as order_approved_at, null::timestamp as order_delivered_carrier_date, "
        "null::timestamp as order_delivered_customer_date, "
        "null::timestamp as order_estimated_delivery_date, 'orders.csv' as _source_file, "
        f"line::bigint as _source_line, date '{ds}' as ingest_date "
        f"from (values {values}) as t(order_id, line) where {bool(order_ids)}) "
        f"to '{part}/part-0.parquet' (format parquet)"
    )
    mdir = root / "_metrics" / entity / f"ingest_date={ds}"
    mdir.mkdir(parents=True)
    (mdir / "metrics.json").write_text(json.dumps({"run_id": "glue-run", **metrics}))


RECONCILED = [check("reconciled_orders", "reconciliation", entity="orders")]


def test_reconciliation_passes_when_glue_counts_and_loaded_rows_agree(qc, tmp_path):
    metrics = {"rows_in": 4, "rows_out": 3, "rows_quarantined": 1, "rejected_by_rule": {"x": 1}}
    write_load(tmp_path, "orders", DS, ["o1", "o2", "o3"], metrics)
    loaded = qc.wh.load_entity("orders", "staging.orders", tmp_path, DS, context(DS)["run_id"])
    assert loaded["rows_loaded"] == 3
    assert outcome(qc.wh.run_checks(NODE, RECONCILED, context(DS))) == {
        "reconciled_orders": (0.0, 0.0, "pass")
    }


def test_reconciliation_fails_when_rows_go_missing(qc, tmp_path):
    # Glue read 5 rows but accounts for 4 (|5 - 4 - 0| = 1), and only 3 of its 4 output rows
    # reached staging (|3 - 4| = 1).
    metrics = {"rows_in": 5, "rows_out": 4, "rows_quarantined": 0, "rejected_by_rule": {}}
    write_load(tmp_path, "orders", DS, ["o1", "o2", "o3"], metrics)
    qc.wh.load_entity("orders", "staging.orders", tmp_path, DS, context(DS)["run_id"])
    assert outcome(qc.wh.run_checks(NODE, RECONCILED, context(DS))) == {
        "reconciled_orders": (2.0, 0.0, "fail")
    }
    assert qc.wh.failed_blocking(NODE, context(DS)["run_id"]) == 1


def test_reconciliation_fails_when_the_entity_was_never_loaded(qc):
    assert outcome(qc.wh.run_checks(NODE, RECONCILED, context(DS))) == {
        "reconciled_orders": (999999999.0, 0.0, "fail")
    }


def test_blank_rows_are_part_of_the_reconciliation(qc, tmp_path):
    # 30 rows in: 3 loaded, 1 quarantined, 26 blank padding rows counted and dropped.
    metrics = {"rows_in": 30, "rows_blank": 26, "rows_out": 3, "rows_quarantined": 1}
    write_load(tmp_path, "orders", DS, ["o1", "o2", "o3"], metrics)
    qc.wh.load_entity("orders", "staging.orders", tmp_path, DS, context(DS)["run_id"])
    assert outcome(qc.wh.run_checks(NODE, RECONCILED, context(DS))) == {
        "reconciled_orders": (0.0, 0.0, "pass")
    }
    row = qc.wh.con.execute("select rows_blank, note from ops.load_log").fetchone()
    assert row == (26, None)


def quarantine_rate(max_rate: float) -> list[Check]:
    return [check("quarantine_rate_orders", "quarantine_rate", entity="orders", max_rate=max_rate)]


def test_the_quarantine_rate_gate_counts_non_blank_rows(qc, tmp_path):
    # Every order read by position was quarantined: reconciled, yet nothing loaded.
    metrics = {"rows_in": 14, "rows_blank": 4, "rows_out": 0, "rows_quarantined": 10}
    write_load(tmp_path, "orders", DS, [], metrics)
    qc.wh.load_entity("orders", "staging.orders", tmp_path, DS, context(DS)["run_id"])
    checks = RECONCILED + quarantine_rate(0.05)
    assert outcome(qc.wh.run_checks(NODE, checks, context(DS))) == {
        "reconciled_orders": (0.0, 0.0, "pass"),
        "quarantine_rate_orders": (1.0, 0.05, "fail"),
    }
    assert qc.wh.failed_blocking(NODE, context(DS)["run_id"]) == 1


def test_the_quarantine_rate_passes_within_its_threshold(qc, tmp_path):
    metrics = {"rows_in": 104, "rows_blank": 4, "rows_out": 96, "rows_quarantined": 4}
    write_load(tmp_path, "orders", DS, [f"o{i}" for i in range(96)], metrics)
    qc.wh.load_entity("orders", "staging.orders", tmp_path, DS, context(DS)["run_id"])
    assert outcome(qc.wh.run_checks(NODE, quarantine_rate(0.05), context(DS))) == {
        "quarantine_rate_orders": (0.04, 0.05, "pass")
    }


ARRIVED = [check("rows_arrived_orders", "rows_arrived", entity="orders", max_rate=0.9)]


@pytest.mark.parametrize(
    ("today", "observed", "status"),
    [
        ({"rows_in": 0, "note": "no file"}, 1.0, "fail"),
        ({"rows_in": 0, "note": "header only"}, 1.0, "fail"),
        ({"rows_in": 30, "rows_blank": 30, "note": "blank rows only"}, 1.0, "fail"),
        ({"rows_in": 5}, 0.95, "fail"),  # 5 rows where the last load had 100
        ({"rows_in": 60}, 0.4, "pass"),
        ({"rows_in": 150}, 0.0, "pass"),
    ],
    ids=["missing", "header_only", "blank_only", "far_fewer", "fewer", "more"],
)
def test_rows_arrived_warns_of_a_missing_empty_or_shrunk_file(
    qc, tmp_path, today, observed, status
):
    # The last load with rows is 2024-03-08 (100 rows); 2024-03-09 brought no file.
    for ds, m in [("2024-03-08", {"rows_in": 100}), ("2024-03-09", {"rows_in": 0}), (DS, today)]:
        m = {"rows_out": m["rows_in"] - m.get("rows_blank", 0), "rows_quarantined": 0, **m}
        write_load(tmp_path, "orders", ds, [], m)
        qc.wh.load_entity("orders", "staging.orders", tmp_path, ds, context(ds)["run_id"])
    (result,) = qc.wh.run_checks(NODE, ARRIVED, context(DS))
    assert (round(result["observed"], 4), result["status"]) == (observed, status)


def test_rows_arrived_passes_on_a_first_load_with_rows(qc, tmp_path):
    write_load(tmp_path, "orders", DS, ["o1"], {"rows_in": 1, "rows_out": 1, "rows_quarantined": 0})
    qc.wh.load_entity("orders", "staging.orders", tmp_path, DS, context(DS)["run_id"])
    assert outcome(qc.wh.run_checks(NODE, ARRIVED, context(DS))) == {
        "rows_arrived_orders": (0.0, 0.9, "pass")
    }


def test_accepted_values_with_quotes_and_backslashes_stay_literals(qc):
    """A value is one SQL literal whatever it holds: Redshift reads a backslash as an escape, so
    an unescaped one would end the literal and run the rest of the value as SQL."""
    con = qc.wh.con
    con.execute("create table qc.names (name varchar)")
    con.execute("insert into qc.names values ('o''brien'), ('back\\slash'), ('other')")
    hostile = "a\\' or 1=1 or name in ('x"
    checks = [
        check(
            "names_known",
            "accepted_values",
            table="qc.names",
            column="name",
            values=["o'brien", "back\\slash", hostile],
        )
    ]
    results = outcome(qc.wh.run_checks(NODE, checks, context(DS)))
    # Only 'other' is not accepted: the hostile value matched nothing and ran nothing.
    assert results == {"names_known": (1.0, 0.0, "fail")}
