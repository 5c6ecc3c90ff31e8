"""SQL dependencies: what each node reads is written upstream, what it changes is created upstream."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from dwh import config
from dwh.graph import load_all, load_pipeline, pipeline_files
from dwh_tools.lineage import check_all, check_pipeline, node_tables, statement_tables

REPO_ROOT = Path(__file__).resolve().parents[2]
ECOMMERCE = config.PIPELINES_DIR / "ecommerce_dwh.yaml"


def _errors(directory: Path, include_dir: Path | None = None) -> dict:
    result = load_all(pipeline_files(directory), include_dir)
    assert not result.errors, result.errors
    paths = {name: directory / f"{name}.yaml" for name in result.pipelines}
    return {p.name: e.problems for p, e in check_all(result.pipelines, paths, include_dir).items()}


def _ecommerce_with(tmp_path: Path, change) -> Path:
    doc = yaml.safe_load(ECOMMERCE.read_text())
    # The per-entity nodes are templates (for_each_entity): a change to one changes every entity.
    templates = doc.get("for_each_entity", {}).get("nodes", [])
    nodes = {n["id"]: n for n in [*doc["nodes"], *templates]}
    change(nodes)
    path = tmp_path / "ecommerce_dwh.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _without(node_id: str, dep: str):
    def change(nodes):
        deps = nodes[node_id]["depends_on"]
        deps.remove(dep)
        # Keep what the removed edge brought transitively, so only its own tables go missing.
        if node_id == "refresh_marts":
            deps += ["build_fact_order_items", "build_fact_payments_reviews"]

    return change


def _problems_of(path: Path, include_dir: Path | None = None) -> list[str]:
    return check_pipeline(load_pipeline(path, include_dir), include_dir)


@pytest.mark.parametrize(
    ("directory", "include_dir"),
    [
        (config.PIPELINES_DIR, None),
        (REPO_ROOT / "tests/fixtures/include/pipelines", REPO_ROOT / "tests/fixtures/include"),
        (REPO_ROOT / "tests/infra/fixtures/pipelines", None),
    ],
    ids=["include-pipelines", "fixtures", "infra-fixtures"],
)
def test_committed_pipelines_have_their_sql_dependencies_upstream(directory, include_dir):
    assert _errors(directory, include_dir) == {}


@pytest.mark.parametrize(
    ("node_id", "dep", "expected"),
    [
        (
            "build_dim_product",
            "load_products",
            "node 'build_dim_product' field 'depends_on': include/sql/dw/dim_product.sql reads "
            "staging.products, written by load_products, which is not upstream",
        ),
        (
            "refresh_marts",
            "check_warehouse",  # the marts skip the gate: they still follow the facts
            "node 'refresh_marts' field 'depends_on': include/sql/mart/operational.sql reads "
            "ops.quality_results, written by check_warehouse, which is not upstream",
        ),
        (
            "check_warehouse",
            "build_fact_payments_reviews",
            "node 'check_warehouse' field 'depends_on': check 'payments_grain_unique' reads "
            "dw.fact_payments, written by build_fact_payments_reviews, which is not upstream",
        ),
        # Every writer must be upstream: the unknown members of build_reference_dims too.
        (
            "build_dim_customer",
            "build_reference_dims",
            "node 'build_fact_orders' field 'depends_on': include/sql/dw/fact_orders.sql reads "
            "dw.dim_customer, written by build_reference_dims, which is not upstream",
        ),
        # A change needs the table created upstream: the DDL is no reader's concern here.
        (
            "load_{entity}",
            "create_warehouse_schema",
            "node 'load_orders' field 'depends_on': its load writes staging.orders, created by "
            "create_warehouse_schema, which is not upstream",
        ),
    ],
    ids=["load", "quality-results", "quality-check", "second-writer", "ddl"],
)
def test_a_missing_edge_names_node_file_and_table(tmp_path, node_id, dep, expected):
    problems = _problems_of(_ecommerce_with(tmp_path, _without(node_id, dep)))
    assert expected in problems, problems


def test_the_ddl_node_must_be_upstream_not_only_somewhere(tmp_path):
    def change(nodes):
        nodes["build_reference_dims"]["depends_on"] = []

    problems = _problems_of(_ecommerce_with(tmp_path, change))
    assert (
        "node 'build_reference_dims' field 'depends_on': include/sql/dw/dim_date.sql writes "
        "dw.dim_date, created by create_warehouse_schema, which is not upstream"
    ) in problems


PIPELINE = """
pipeline: {name}
description: d
doc_md: triage notes
owner: data-platform
tags: [fixture]
schedule: "0 2 * * *"
start_date: 2024-01-01
nodes:
  - id: create_warehouse_schema
    kind: sql
    sql: [ddl/01_schemas.sql, ddl/02_staging_tables.sql, ddl/03_ops_tables.sql]
  - id: load_orders
    kind: load
    entity: orders
    table: staging.orders
    depends_on: [create_warehouse_schema]
  - id: build_x
    kind: sql
    sql: [t/first.sql, t/second.sql]
    depends_on: [load_orders]
"""


@pytest.fixture
def include(tmp_path) -> Path:
    """An include folder with the real DDL and the files of build_x (written by each test)."""
    root = tmp_path / "include"
    (root / "sql" / "t").mkdir(parents=True)
    # A copy: a SQL file symlinked out of include/sql is refused.
    shutil.copytree(config.SQL_DIR / "ddl", root / "sql" / "ddl")
    return root


def _build_x(tmp_path, include, first: str, second: str = "select 1;", **top) -> list[str]:
    (include / "sql/t/first.sql").write_text(textwrap.dedent(first))
    (include / "sql/t/second.sql").write_text(textwrap.dedent(second))
    doc = yaml.safe_load(PIPELINE.format(name="x"))
    doc.update(top)
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return _problems_of(path, include)


def test_ctes_subqueries_and_the_nodes_own_tables_are_not_reads(tmp_path, include):
    first = """
        create temp table batch_orders as
        with latest as (select order_id, max(ingest_date) as d from staging.orders group by 1)
        select l.order_id from latest as l
        inner join (select order_id from staging.orders) as s on l.order_id = s.order_id;
        create table if not exists dw.x_orders (order_id varchar(64));
    """
    second = """
        -- reads what the first file wrote, a CTE shadowing nothing, and its own temp table
        insert into dw.x_orders
        with batch_orders_cte as (select order_id from batch_orders)
        select order_id from batch_orders_cte
        where order_id not in (select order_id from dw.x_orders);
        drop table batch_orders;
    """
    assert _build_x(tmp_path, include, first, second) == []


def test_a_table_nobody_writes_is_reported(tmp_path, include):
    problems = _build_x(tmp_path, include, "select count(*) from staging.nope;")
    assert problems == [
        "node 'build_x' field 'depends_on': include/sql/t/first.sql reads staging.nope, "
        "which no node of the pipeline creates or writes"
    ]


def test_an_assumed_warehouse_provides_its_ddl_and_no_more(tmp_path, include):
    sql = "select count(*) from dw.fact_orders;\nselect count(*) from dw.nope;"
    problems = _build_x(tmp_path, include, sql, assumes_warehouse="ecommerce_dwh")
    assert problems == [
        "node 'build_x' field 'depends_on': include/sql/t/first.sql reads dw.nope, which no "
        "node of the pipeline creates or writes, nor does its warehouse ecommerce_dwh"
    ]
    # Without the declaration the warehouse's tables are not there either.
    assert len(_build_x(tmp_path, include, sql)) == 2


def test_external_and_system_tables_are_not_dependencies(tmp_path, include):
    sql = """
        create external schema if not exists lake from data catalog database 'x' iam_role 'y';
        select count(*) from lake.orders;
        select * from stl_load_errors;
        select * from pg_catalog.pg_tables;
        select * from information_schema.tables;
        select * from svv_table_info;
    """
    assert _build_x(tmp_path, include, sql) == []
    # Spectrum of the ecommerce_dwh DDL (ddl/05_spectrum.sql), through the assumed warehouse.
    spectrum = "select count(*) from spectrum.orders;"
    assert _build_x(tmp_path, include, spectrum, assumes_warehouse="ecommerce_dwh") == []


def test_an_unknown_assumed_warehouse_is_reported(tmp_path):
    doc = yaml.safe_load(ECOMMERCE.read_text())
    doc["assumes_warehouse"] = "no_such_pipeline"
    path = tmp_path / "ecommerce_dwh.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    errors = check_all({"ecommerce_dwh": load_pipeline(path)}, {"ecommerce_dwh": path})
    assert errors[path].problems == [
        "field 'assumes_warehouse': unknown pipeline 'no_such_pipeline'"
    ]


def test_statement_roles():
    roles = lambda sql: list(statement_tables(sql))  # noqa: E731
    assert roles("copy staging.orders from 's3://b/o/' iam_role 'r' format as parquet") == [
        ("write", "staging.orders")
    ]
    assert roles("truncate staging.orders") == [("write", "staging.orders")]
    assert roles(
        "merge into dw.t using staging.s as s on t.id = s.id when matched then delete"
    ) == [
        ("write", "dw.t"),
        ("read", "staging.s"),
    ]
    assert roles("update dw.t set a = s.a from staging.s as s where dw.t.id = s.id") == [
        ("write", "dw.t"),
        ("read", "staging.s"),
    ]
    assert roles("delete from dw.t using staging.s where dw.t.id = staging.s.id") == [
        ("write", "dw.t"),
        ("read", "staging.s"),
    ]
    assert roles("create or replace view mart.v as select * from dw.t") == [
        ("create", "mart.v"),
        ("read", "dw.t"),
    ]
    # Redshift never enforces foreign keys: the referenced table is not read.
    assert roles("create table dw.f (k int, foreign key (k) references dw.d (k))") == [
        ("create", "dw.f")
    ]
    assert roles("analyze dw.t") == [("touch", "dw.t")]
    assert roles("vacuum delete only dw.t to 90 percent") == [("touch", "dw.t")]
    assert roles("vacuum") == []


def test_a_quality_node_reads_its_checks_tables():
    p = load_pipeline(ECOMMERCE)
    tables = node_tables(p.node_map["check_warehouse"], config.SQL_DIR)
    reads = {u.table for u in tables.uses if u.reads}
    assert {"dw.fact_order_items", "dw.fact_payments", "dw.dim_seller", "ops.load_log"} <= reads
    assert {"ops.quality_results", "ops.table_counts"} <= tables.writes


def test_cli_validate_exits_2_naming_node_file_and_table(tmp_path, capsys):
    from dwh_tools.cli import main

    _ecommerce_with(tmp_path, _without("build_dim_product", "load_products"))
    assert main(["validate", "--pipelines", str(tmp_path), "--skip-sql"]) == 2
    err = capsys.readouterr().err
    assert (
        "error ecommerce_dwh.yaml: "
        "node 'build_dim_product' field 'depends_on': include/sql/dw/dim_product.sql reads "
        "staging.products, written by load_products, which is not upstream"
    ) in err


def test_cli_validate_passes_the_committed_pipelines(capsys):
    from dwh_tools.cli import main

    assert main(["validate", "--skip-sql"]) == 0
    assert "ok    ecommerce_dwh" in capsys.readouterr().out
