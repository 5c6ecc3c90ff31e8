"""The arrival gate on the local target: once a logical date is complete, start its run once.

The same decision as on AWS (lambdas/arrival_gate/arrival_gate.py, :func:`arrival_gate.decide`)
over the local lake: the files are $DWH_HOME/lake/raw/<entity>/ingest_date=<ds>/<file>, the
marker is $DWH_HOME/lake/raw/_arrivals/<pipeline>/ingest_date=<ds>/started.json. The expected
files come from the pipelines being run ($DWH_INCLUDE_DIR, else include/), through the same
:func:`dwh_tools.arrival_manifest.entry` that writes the Lambda's manifest.

`dwh land`, `dwh generate` and the UI launcher call :func:`after_landing`. When a `dwh ui` runs
($DWH_HOME/ui.json), a complete date is triggered as a DAG run through its REST API
(POST /api/v2/dags/<dag_id>/dagRuns), once; otherwise the date is reported complete with the
command that runs it.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
from pathlib import Path

from dwh import config
from dwh_tools.arrival_manifest import GATE_DIR

# A UI that has just started may not have parsed the DAG yet: its REST API answers 404 until then.
DAG_PARSE_WAIT = 120.0


def gate_module():
    """lambdas/arrival_gate/arrival_gate.py, imported as the Lambda runtime imports it."""
    if str(GATE_DIR) not in sys.path:
        sys.path.insert(0, str(GATE_DIR))
    import arrival_gate

    return arrival_gate


def manifest() -> dict:
    """The gate's manifest for the pipelines this process runs (read now, not at import: the
    tests and `dwh ui` point DWH_INCLUDE_DIR at other pipelines)."""
    from dwh.graph import load_all, pipeline_files
    from dwh_tools.arrival_manifest import build

    include = Path(os.environ.get("DWH_INCLUDE_DIR") or config.REPO_ROOT / "include").resolve()
    return build(load_all(pipeline_files(include / "pipelines"), include).pipelines)


class PatientStarter:
    """The REST starter, waiting up to ``wait`` seconds for a DAG the UI has not parsed yet."""

    def __init__(self, starter, wait: float = DAG_PARSE_WAIT):
        self.starter, self.wait, self.name = starter, wait, starter.name

    def start(self, pipeline: dict, ds: str) -> str:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                return self.starter.start(pipeline, ds)
            except urllib.error.HTTPError as exc:
                if exc.code != 404 or time.monotonic() > deadline:
                    raise
            time.sleep(2)


def after_landing(ds: str, entities) -> list[str]:
    """Decide for every pipeline expecting one of ``entities``; one line per decision."""
    from dwh_tools import ui

    gate = gate_module()
    known = manifest()
    store = gate.LocalStore(config.lake("raw"))
    state = ui.running_ui()
    starter = (
        None
        if state is None
        else PatientStarter(gate.AirflowRestStarter(state["url"], lambda: ui.api_token(state)))
    )
    lines = []
    names = {p["pipeline"] for e in entities for p in gate.pipelines_for(known, e)}
    for pipeline in [p for p in known["pipelines"] if p["pipeline"] in names]:
        dags = state and state.get("dags_folder")
        if dags and not (Path(dags) / f"{pipeline['dag_id']}.py").exists():
            lines.append(
                f"{pipeline['pipeline']} {ds}: the running UI has no DAG file for it in {dags}"
            )
            continue
        try:
            decisions = gate.decide({"pipelines": [pipeline]}, store, starter, ds)
        except urllib.error.HTTPError as exc:
            # decide() released the marker: a later landing (or `dwh ui`) tries again.
            lines.append(
                f"{pipeline['pipeline']} {ds}: complete, but {state['url']} refused DAG run "
                f"arrival__{ds} of {pipeline['dag_id']}: HTTP {exc.code} "
                f"{'(no such DAG on that UI)' if exc.code == 404 else exc.reason}"
            )
            continue
        lines += [_line(d, pipeline, state) for d in decisions]
    return lines


def _line(d, pipeline: dict, state: dict | None) -> str:
    head = f"{d.pipeline} {d.ds}:"
    if d.outcome == "waiting":
        missing = ", ".join(k.split("/", 1)[0] for k in d.missing)
        return f"{head} waiting for {len(d.missing)} more file(s): {missing}"
    if d.outcome == "complete":
        return (
            f"{head} complete (every file its crawler expects is in); no `dwh ui` is running, "
            f"so run it with `dwh run --pipeline {d.pipeline} --ds {d.ds}`"
        )
    run = f"DAG run arrival__{d.ds} of {pipeline['dag_id']}"
    if d.outcome == "started":
        return f"{head} complete; triggered {run} on {state['url']}"
    return f"{head} complete; {run} was already triggered"
