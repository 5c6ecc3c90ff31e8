"""Every SQL file of include/sql parses as Redshift, transpiles and really runs on DuckDB."""

from __future__ import annotations

from handmade import DW_FILES, MART_FILES, context

from dwh import config
from dwh.sql import check_all_sql, file_to_duckdb

ALL_FILES = sorted(str(p.relative_to(config.SQL_DIR)) for p in config.SQL_DIR.rglob("*.sql"))


def test_every_sql_file_transpiles_without_problems():
    assert check_all_sql() == []


def test_the_pipeline_runs_every_dw_and_mart_file():
    # Files nobody runs would go stale unnoticed.
    assert sorted(DW_FILES) == [f for f in ALL_FILES if f.startswith("dw/")]
    assert sorted(MART_FILES) == [f for f in ALL_FILES if f.startswith("mart/")]


def test_every_sql_file_runs_on_duckdb_in_pipeline_order(new_warehouse):
    # ensure_schema ran ddl/; then the star schema, the marts and the maintenance files, twice
    # (every file is idempotent).
    maintenance = [f for f in ALL_FILES if f.startswith("maintenance/")]
    ddl = [f for f in ALL_FILES if f.startswith("ddl/")]
    for _ in range(2):
        for rel in [*ddl, *DW_FILES, *MART_FILES, *maintenance]:
            new_warehouse.wh.run_sql_file(rel, context("2024-01-01"))
    marts = new_warehouse.rows(
        "select table_name from information_schema.tables where table_schema = 'mart' order by 1"
    )
    assert [m for (m,) in marts] == [
        "customer_cohorts",
        "customer_rfm",
        "customer_segments",
        "customer_summary",
        "executive_monthly",
        "executive_months",
        "executive_states",
        "executive_summary",
        "operational_checks_latest",
        "operational_daily",
        "operational_loads",
        "operational_quality",
        "operational_rejects",
        "operational_runs",
        "product_categories",
        "product_category_sales",
        "product_summary",
    ]


def test_redshift_only_tuning_is_skipped_not_run():
    assert file_to_duckdb("maintenance/vacuum.sql", context("2024-01-01")) == []
    assert file_to_duckdb("maintenance/analyze.sql", context("2024-01-01")) == []


def test_an_untranspilable_statement_is_reported_with_its_file(tmp_path):
    (tmp_path / "dw").mkdir()
    (tmp_path / "dw" / "good.sql").write_text("select 1;\n")
    # BACKUP NO is valid Redshift with no DuckDB meaning.
    (tmp_path / "dw" / "bad.sql").write_text(
        "select 1;\ncreate table dw.scratch (a integer) backup no;\n"
    )
    (tmp_path / "dw" / "bad_template.sql").write_text("select '{{ no_such_variable }}';\n")
    problems = check_all_sql(tmp_path)
    assert len(problems) == 2
    assert problems[0].startswith("include/sql/dw/bad.sql statement 2: cannot run on DuckDB:")
    assert "create table dw.scratch" in problems[0]
    assert problems[1].startswith("include/sql/dw/bad_template.sql: UndefinedError")
