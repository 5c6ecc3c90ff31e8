"""Nodes that may run at the same time and write the same table lock it first, in one order.

Redshift runs transactions under serializable isolation: two that read and write one table
concurrently are not both allowed to commit (error 1023, one aborts). Its documented remedy is an
explicit LOCK of the shared tables at the start of each transaction, in the same order everywhere.
"""

from __future__ import annotations

import itertools
import re

import pytest

from dwh import config
from dwh.graph import load_all
from dwh_tools import lineage

PIPELINES = sorted(load_all().pipelines.values(), key=lambda p: p.pipeline)


def first_lock(node) -> list[str] | None:
    statements = lineage.node_statements(node, config.SQL_DIR)
    if not statements:
        return None
    m = re.match(r"^\s*lock\s+(?:table\s+)?([\w., ]+?)\s*;?\s*$", statements[0][1], re.I)
    return [t.strip().lower() for t in m.group(1).split(",")] if m else None


def concurrent_writers(pipeline) -> dict[str, set[str]]:
    """Node id -> tables it writes that another node, unordered with it, writes too."""
    up = lineage._upstream(pipeline)
    writes = {n.id: lineage.node_tables(n, config.SQL_DIR).writes for n in pipeline.nodes}
    shared: dict[str, set[str]] = {}
    for a, b in itertools.combinations(pipeline.nodes, 2):
        if a.id in up[b.id] or b.id in up[a.id]:
            continue
        both = writes[a.id] & writes[b.id]
        for n in (a, b):
            if both:
                shared.setdefault(n.id, set()).update(both)
    return shared


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda p: p.pipeline)
def test_concurrent_writers_lock_the_shared_tables_first_in_one_order(pipeline):
    nodes = pipeline.node_map
    for node_id, tables in concurrent_writers(pipeline).items():
        locked = first_lock(nodes[node_id])
        assert locked is not None, f"{node_id} writes {sorted(tables)} beside others, unlocked"
        assert tables <= set(locked), f"{node_id} does not lock {sorted(tables - set(locked))}"
        assert locked == sorted(locked), f"{node_id} locks in another order: {locked}"


def test_the_loads_of_the_main_pipeline_are_such_writers():
    """The check above has something to check: the parallel loads share the ops ledger."""
    (main,) = [p for p in PIPELINES if p.pipeline == "ecommerce_dwh"]
    shared = concurrent_writers(main)
    assert shared["load_orders"] == {"ops.glue_metrics", "ops.load_log"}
