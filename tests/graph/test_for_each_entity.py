"""for_each_entity: per-entity nodes and checks stated once, expanded before validation."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from olist_contract import ENTITIES

from dwh import config
from dwh.for_each_entity import expand
from dwh.graph import PipelineError, load_pipeline

# ecommerce_dwh.yaml as it was before it used for_each_entity: the expected expansion.
BEFORE = Path(__file__).parent / "fixtures" / "ecommerce_dwh_before.yaml"

PIPELINE = """
pipeline: {name}
description: d
doc_md: triage notes
owner: data-platform
tags: [fixture]
schedule: "0 2 * * *"
start_date: 2024-01-01
for_each_entity:
  entities: [orders, customers]
  after: crawl_raw
  nodes:
    - id: "clean_{{entity}}"
      kind: glue_job
      script: clean_entity.py
      arguments: {{entity: "{{entity}}"}}
      depends_on: [crawl_raw]
    - id: "load_{{entity}}"
      kind: load
      entity: "{{entity}}"
      table: "{table}"
      depends_on: ["clean_{{entity}}"]
  checks:
    gate:
      - {{name: "reconciled_{{entity}}", type: reconciliation, entity: "{{entity}}"}}
nodes:
  - id: crawl_raw
    kind: glue_crawler
    crawler: raw
    entities: "{{entities}}"
  - id: gate
    kind: quality
    checks:
      - {{name: orders_unique, type: unique, table: staging.orders, columns: [order_id]}}
    depends_on: [load_orders, load_customers]
"""


def write(tmp_path: Path, name: str, table: str = "staging.{entity}") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(PIPELINE.format(name=name, table=table)))
    return path


def error(path: Path, include: Path) -> str:
    with pytest.raises(PipelineError) as exc:
        load_pipeline(path, include)
    return str(exc.value)


def test_ecommerce_dwh_expands_to_exactly_the_graph_it_had(tmp_path):
    before_file = tmp_path / "ecommerce_dwh.yaml"
    shutil.copyfile(BEFORE, before_file)
    before = load_pipeline(before_file)
    after = load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml")
    assert [(n.id, n.kind) for n in after.nodes] == [(n.id, n.kind) for n in before.nodes]
    assert after.edges() == before.edges()
    for old, new in zip(before.nodes, after.nodes, strict=True):
        assert new.model_dump() == old.model_dump(), new.id
    assert after.model_dump() == before.model_dump()
    assert "for_each_entity" not in BEFORE.read_text()


def test_ecommerce_dwh_has_a_clean_and_a_load_for_every_contract_entity():
    p = load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml")
    ids = {n.id for n in p.nodes}
    for name in ENTITIES:
        assert {f"clean_{name}", f"load_{name}"} <= ids, name
    assert p.node_map["crawl_raw"].entities == list(ENTITIES)


def test_templates_expand_in_order_after_their_anchor(tmp_path, fixture_include):
    p = load_pipeline(write(tmp_path, "fe"), fixture_include)
    assert [n.id for n in p.nodes] == [
        "crawl_raw",
        "clean_orders",
        "clean_customers",
        "load_orders",
        "load_customers",
        "gate",
    ]
    assert p.node_map["crawl_raw"].entities == ["orders", "customers"]
    assert p.node_map["load_customers"].table == "staging.customers"
    assert p.node_map["load_customers"].depends_on == ["clean_customers"]
    assert [c.name for c in p.node_map["gate"].checks] == [
        "reconciled_orders",
        "reconciled_customers",
        "orders_unique",
    ]


def test_a_document_without_the_block_is_unchanged():
    doc = {"pipeline": "x", "nodes": [{"id": "a", "kind": "sql"}]}
    assert expand(doc) is doc


def test_an_error_in_an_expanded_node_names_the_file_and_the_expanded_id(tmp_path, fixture_include):
    path = write(tmp_path, "bad_table", table="stage.{entity}")
    message = error(path, fixture_include)
    assert str(path) in message
    assert "node 'load_orders' field 'table'" in message
    assert "node 'load_customers' field 'table'" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"load_{{entity}}"', "load_all", "node 'load_all' field 'id': a for_each_entity"),
        (
            'table: "{table}"',
            'table: "staging.{{entiy}}"',
            "node 'load_{entity}': unknown placeholder(s) {entiy}",
        ),
        ("after: crawl_raw", "after: crawl", "field 'for_each_entity' field 'after': 'crawl'"),
        ("  checks:\n    gate:", "  checks:\n    gates:", "node 'gates' field 'checks'"),
        (
            '{{name: "reconciled_{{entity}}"',
            "{{name: reconciled",
            "node 'gate' field 'checks': check 'reconciled' field 'name'",
        ),
        ("entities: [orders, customers]", "entities: []", "field 'entities': expected"),
        ("entities: [orders, customers]", "entities: [orders, orders]", "listed twice: orders"),
        ("  after: crawl_raw", "  before: crawl_raw", "unknown key 'before'"),
    ],
)
def test_template_errors_name_the_file_and_the_node(tmp_path, fixture_include, old, new, expected):
    assert old in PIPELINE
    path = tmp_path / "broken.yaml"
    text = PIPELINE.replace(old, new).format(name="broken", table="staging.{entity}")
    path.write_text(textwrap.dedent(text))
    message = error(path, fixture_include)
    assert str(path) in message
    assert expected in message


def test_an_expanded_id_that_collides_is_a_duplicate(tmp_path, fixture_include):
    path = tmp_path / "dupe.yaml"
    text = PIPELINE.format(name="dupe", table="staging.{entity}").replace(
        "  - id: gate\n", "  - id: load_orders\n    kind: sql\n    sql: x.sql\n  - id: gate\n"
    )
    path.write_text(textwrap.dedent(text))
    assert "node 'load_orders' field 'id': duplicate node id" in error(path, fixture_include)
