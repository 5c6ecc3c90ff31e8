"""Every Redshift batch of a committed state machine fits one BatchExecuteStatement call."""

from __future__ import annotations

import json

import pytest

from dwh import config
from dwh.quality import MAX_BATCH_STATEMENTS
from dwh_tools.compile_stepfunctions import walk_states

MACHINES = sorted(config.STEPFUNCTIONS_DIR.glob("*.asl.json"))


def batch_sizes(path) -> dict[str, int]:
    sizes = {}
    for name, state in walk_states(json.loads(path.read_text())):
        params = state.get("Parameters") or {}
        if "Sqls" in params:
            sizes[name] = len(params["Sqls"])
        elif "Sqls.$" in params:
            # States.Array('…', States.Format('…', …), …): count its top-level items.
            inner = params["Sqls.$"].removeprefix("States.Array(").removesuffix(")")
            depth, quoted, items = 0, False, 1
            for i, ch in enumerate(inner):
                if ch == "'" and inner[i - 1] != "\\":
                    quoted = not quoted
                elif not quoted and ch in "(":
                    depth += 1
                elif not quoted and ch == ")":
                    depth -= 1
                elif not quoted and depth == 0 and ch == ",":
                    items += 1
            sizes[name] = items
    return sizes


@pytest.mark.parametrize("path", MACHINES, ids=[p.name for p in MACHINES])
def test_no_batch_exceeds_what_the_data_api_accepts(path):
    sizes = batch_sizes(path)
    assert sizes, "no Redshift batch found"
    too_big = {n: k for n, k in sizes.items() if k > MAX_BATCH_STATEMENTS}
    assert not too_big, f"more than {MAX_BATCH_STATEMENTS} statements in one batch: {too_big}"
