"""`dwh validate` refuses a pipeline file whose fields are not what they claim to be.

Every identifier of a check is an identifier, no string of the file carries Jinja (the statements
are templates), node paths stay inside include/, and a Glue job cannot set the arguments the run
or Glue sets. Each case mutates the committed ecommerce_dwh.yaml in one place: validate then
prints one line naming the file, the node and the field, and exits 2.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from dwh import config
from dwh.for_each_entity import expand
from dwh.graph import PipelineError, load_pipeline
from dwh_tools.cli import main

ECOMMERCE = config.PIPELINES_DIR / "ecommerce_dwh.yaml"
GATE = "check_warehouse"
PAYLOAD = '{{ cycler.__init__.__globals__.os.popen("id").read() }}'


def _node(doc: dict, node_id: str) -> dict:
    return next(n for n in doc["nodes"] if n["id"] == node_id)


def _check(doc: dict, name: str) -> dict:
    return next(c for c in _node(doc, GATE)["checks"] if c["name"] == name)


def _index(doc: dict, name: str) -> int:
    return [c["name"] for c in _node(doc, GATE)["checks"]].index(name)


def _extra_job(doc: dict) -> dict:
    """One more Glue job (the per-entity ones would each report the same field)."""
    job = {
        "id": "clean_extra",
        "kind": "glue_job",
        "script": "clean_entity.py",
        "arguments": {"entity": "orders"},
        "depends_on": ["crawl_raw"],
    }
    doc["nodes"].append(job)
    return job


def _extra_check(doc: dict) -> dict:
    """One more reconciliation check in the gate."""
    check = {"name": "reconciled_extra", "type": "reconciliation", "entity": "orders"}
    _node(doc, GATE)["checks"].append(check)
    return check


def _set(getter, **fields):
    def mutate(doc):
        getter(doc).update(fields)

    return mutate


# (mutation of the ecommerce document, node named, field named; None: the gate's check index)
CASES = {
    "to_table-subquery": (
        _set(lambda d: _check(d, "items_product_known"), to_table="(select usename from pg_user)"),
        GATE,
        ("items_product_known", "to_table"),
    ),
    "to_table-no-schema": (
        _set(lambda d: _check(d, "items_product_known"), to_table="dim_product"),
        GATE,
        ("items_product_known", "to_table"),
    ),
    "to_column-expression": (
        _set(lambda d: _check(d, "items_product_known"), to_column="product_id or 1=1"),
        GATE,
        ("items_product_known", "to_column"),
    ),
    "column-expression": (
        _set(lambda d: _check(d, "items_have_price"), column="price is null or true --"),
        GATE,
        ("items_have_price", "column"),
    ),
    "columns-statement": (
        _set(
            lambda d: _check(d, "orders_grain_unique"),
            columns=["order_id", "1; drop table dw.fact_orders"],
        ),
        GATE,
        ("orders_grain_unique", "columns.1"),
    ),
    "entity-quote": (
        _set(_extra_check, entity="orders' or 'a'='a"),
        GATE,
        ("reconciled_extra", "entity"),
    ),
    "values-jinja": (
        lambda d: _check(d, "order_status_known")["values"].append(PAYLOAD),
        GATE,
        ("order_status_known", "values.9"),
    ),
    "values-statement-jinja": (
        lambda d: _check(d, "order_status_known")["values"].append("{% set x = 1 %}"),
        GATE,
        ("order_status_known", "values.9"),
    ),
    "sql-check-jinja-comment": (
        _set(
            lambda d: _check(d, "orders_customer_unknown"),
            sql="select count(*) from dw.fact_orders {# hidden #}",
        ),
        GATE,
        ("orders_customer_unknown", "sql"),
    ),
    "sql-check-second-statement": (
        _set(
            lambda d: _check(d, "orders_customer_unknown"),
            sql="select 0); drop table dw.fact_orders; select (0",
        ),
        GATE,
        ("orders_customer_unknown", "sql"),
    ),
    "sql-check-closes-the-wrapper": (
        _set(
            lambda d: _check(d, "orders_customer_unknown"),
            sql="select 0)::float as observed, (select 1",
        ),
        GATE,
        ("orders_customer_unknown", "sql"),
    ),
    "sql-check-comment-swallows-the-rest": (
        _set(lambda d: _check(d, "orders_customer_unknown"), sql="select 0 --"),
        GATE,
        ("orders_customer_unknown", "sql"),
    ),
    "sql-check-not-a-query": (
        _set(lambda d: _check(d, "orders_customer_unknown"), sql="delete from dw.fact_orders"),
        GATE,
        ("orders_customer_unknown", "sql"),
    ),
    "node-doc-jinja": (
        _set(lambda d: _node(d, "refresh_marts"), doc="views {{ conn.redshift.password }}"),
        "refresh_marts",
        "doc",
    ),
    "notify-message-other-name": (
        _set(lambda d: _node(d, "notify_success"), message="loaded {{ var.value.secret }}"),
        "notify_success",
        "message",
    ),
    "notify-subject-statement": (
        _set(lambda d: _node(d, "notify_success"), subject="{% for x in range(9) %}x{% endfor %}"),
        "notify_success",
        "subject",
    ),
    "script-parent": (
        _set(_extra_job, script="../../plugins/dwh/sql.py"),
        "clean_extra",
        "script",
    ),
    "script-absolute": (
        _set(_extra_job, script=str(config.INCLUDE_DIR / "glue" / "clean_entity.py")),
        "clean_extra",
        "script",
    ),
    "sql-parent": (
        _set(lambda d: _node(d, "refresh_marts"), sql=["mart/executive.sql", "../glue/x.sql"]),
        "refresh_marts",
        "sql.1",
    ),
    "sql-absolute": (
        _set(
            lambda d: _node(d, "refresh_marts"),
            sql=str(config.INCLUDE_DIR / "sql" / "mart" / "executive.sql"),
        ),
        "refresh_marts",
        "sql.0",
    ),
}
CASES["argument-entity-not-in-the-contract"] = (
    lambda d: _extra_job(d)["arguments"].update(entity="../../secrets"),
    "clean_extra",
    "arguments.entity",
)
CASES["crawler-entity-not-a-name"] = (
    _set(lambda d: _node(d, "crawl_raw"), entities=["orders", "orders/../x"]),
    "crawl_raw",
    "entities.1",
)
RESERVED = [
    "JOB_NAME",
    "--JOB_NAME",
    "ingest_date",
    "--run_id",
    "raw_uri",
    "processed_uri",
    "formats",
    "TempDir",
    "--TempDir",
    "extra-py-files",
    "--extra-py-files",
    "extra-jars",
    "enable-metrics",
    "--enable-spark-ui",
    "job-bookmark-option",
    "job-language",
    "scriptLocation",
    "conf",
    "class",
    "additional-python-modules",
]
for name in RESERVED:
    CASES[f"argument-{name}"] = (
        lambda d, name=name: _extra_job(d)["arguments"].update({name: "x"}),
        "clean_extra",
        f"arguments.{name}",
    )


def _validate(tmp_path: Path, mutate, capsys) -> tuple[int, str, dict]:
    doc = yaml.safe_load(ECOMMERCE.read_text())
    mutate(doc)
    (tmp_path / ECOMMERCE.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    code = main(["validate", "--pipelines", str(tmp_path), "--skip-sql"])
    return code, capsys.readouterr().err, doc


@pytest.mark.parametrize(("mutate", "node", "field"), CASES.values(), ids=CASES.keys())
def test_validate_refuses_a_hostile_field_in_one_line(tmp_path, capsys, mutate, node, field):
    code, err, doc = _validate(tmp_path, mutate, capsys)
    if isinstance(field, tuple):  # a check: named by its position among the gate's checks
        names = [c["name"] for c in _node(expand(doc), GATE)["checks"]]
        field = f"checks.{names.index(field[0])}.{field[1]}"
    assert code == 2, err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith("error ecommerce_dwh.yaml: "), err
    assert f"node {node!r} field {field!r}" in err, err


def test_validate_still_passes_the_committed_pipelines_with_their_notify_placeholders(capsys):
    assert main(["validate", "--skip-sql"]) == 0
    out = capsys.readouterr().out
    assert "ok    ecommerce_dwh" in out and "ok    warehouse_maintenance" in out


def test_an_accepted_value_with_a_quote_or_a_backslash_is_a_value(tmp_path, capsys):
    """Literals are escaped, not refused: a value may hold ' and \\ (see the warehouse test)."""
    code, err, _ = _validate(
        tmp_path,
        lambda d: _check(d, "order_status_known")["values"].extend(["o'brien", "back\\slash"]),
        capsys,
    )
    assert code == 0, err


# --- paths leaving include/ through a symlink: a copy of include/ with planted links -------


@pytest.fixture
def include_copy(tmp_path) -> Path:
    include = tmp_path / "include"
    shutil.copytree(config.INCLUDE_DIR / "glue", include / "glue")
    shutil.copytree(config.INCLUDE_DIR / "sql", include / "sql")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.py").write_text("print('outside include')\n")
    (outside / "evil.sql").write_text("select 1;\n")
    (include / "glue" / "linked.py").symlink_to(outside / "evil.py")
    (include / "sql" / "mart" / "linked.sql").symlink_to(outside / "evil.sql")
    (include / "sql" / "elsewhere").symlink_to(outside, target_is_directory=True)
    return include


def _load_mutated(tmp_path: Path, include: Path, mutate) -> str:
    doc = yaml.safe_load(ECOMMERCE.read_text())
    mutate(doc)
    path = tmp_path / ECOMMERCE.name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(PipelineError) as exc:
        load_pipeline(path, include)
    return str(exc.value)


def test_a_script_symlinked_out_of_include_is_refused(tmp_path, include_copy):
    message = _load_mutated(tmp_path, include_copy, _set(_extra_job, script="linked.py"))
    assert "node 'clean_extra' field 'script': include/glue/linked.py leaves include/glue" in (
        message
    )


@pytest.mark.parametrize("rel", ["mart/linked.sql", "elsewhere/evil.sql"])
def test_sql_symlinked_out_of_include_is_refused(tmp_path, include_copy, rel):
    message = _load_mutated(
        tmp_path, include_copy, _set(lambda d: _node(d, "refresh_marts"), sql=rel)
    )
    assert f"node 'refresh_marts' field 'sql.0': include/sql/{rel} leaves include/sql" in message


def test_the_committed_pipeline_loads_from_the_include_copy(tmp_path, include_copy):
    """The links themselves are harmless while no node names them."""
    assert load_pipeline(ECOMMERCE, include_copy).pipeline == "ecommerce_dwh"
