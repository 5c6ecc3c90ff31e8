"""The pipeline file's ``ingest`` block: the gate's thresholds per entity and declared formats."""

from __future__ import annotations

import json

import pytest
import yaml

from dwh import config, kinds
from dwh.graph import PipelineError, load_pipeline

SOURCE = config.PIPELINES_DIR / "ecommerce_dwh.yaml"


def load_with(tmp_path, ingest: dict):
    doc = yaml.safe_load(SOURCE.read_text())
    doc["ingest"] = ingest
    path = tmp_path / "ecommerce_dwh.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_pipeline(path)


def gate_thresholds(p) -> dict[str, float]:
    return {c.name: c.max_rate for c in p.node_map["check_warehouse"].checks}


def test_the_committed_pipeline_states_its_default_thresholds():
    p = load_pipeline(SOURCE)
    thresholds = gate_thresholds(p)
    assert thresholds["quarantine_rate_orders"] == p.ingest.max_quarantine_rate == 0.05
    assert thresholds["rows_arrived_geolocation"] == p.ingest.max_row_drop == 0.9


def test_an_entity_overrides_the_default_and_declares_its_formats(tmp_path):
    orders = {"timestamp_format": "d/M/yyyy H:mm", "delimiter": ";", "max_quarantine_rate": 0.2}
    p = load_with(tmp_path, {"max_quarantine_rate": 0.01, "entities": {"orders": orders}})
    thresholds = gate_thresholds(p)
    assert thresholds["quarantine_rate_orders"] == 0.2
    assert thresholds["quarantine_rate_customers"] == 0.01
    # Every runtime passes the declared formats to the entity's Glue job, and only its own.
    args = {
        n: kinds.define(p.node_map[n], p).arguments()["--formats"]
        for n in ("clean_orders", "clean_customers")
    }
    assert json.loads(args["clean_orders"]) == {
        "timestamp_format": "d/M/yyyy H:mm",
        "delimiter": ";",
    }
    assert json.loads(args["clean_customers"]) == {}
    crawl = kinds.define(p.node_map["crawl_raw"], p)
    assert crawl.declared_formats()["orders"]["timestamp_format"] == "d/M/yyyy H:mm"


def test_a_check_that_sets_its_own_threshold_keeps_it(tmp_path):
    doc = yaml.safe_load(SOURCE.read_text())
    (gate,) = [n for n in doc["nodes"] if n["id"] == "check_warehouse"]
    gate["checks"].append(
        {"name": "strict_orders", "type": "quarantine_rate", "entity": "orders", "max_rate": 0}
    )
    path = tmp_path / "ecommerce_dwh.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert gate_thresholds(load_pipeline(path))["strict_orders"] == 0.0


@pytest.mark.parametrize(
    ("ingest", "message"),
    [
        ({"entities": {"order": {}}}, "field 'ingest' entities: unknown entity 'order'"),
        ({"max_quarantine_rate": 2}, "field 'ingest.max_quarantine_rate'"),
        ({"entities": {"orders": {"delimiter": ":"}}}, "field 'ingest.entities.orders.delimiter'"),
    ],
    ids=["unknown_entity", "rate_above_one", "unknown_delimiter"],
)
def test_a_wrong_ingest_block_names_the_field(tmp_path, ingest, message):
    with pytest.raises(PipelineError) as err:
        load_with(tmp_path, ingest)
    assert message in str(err.value)
