"""The arrival gate on the local target: after `dwh land`, start the date's run once it is complete.

The same decision as on AWS (lambdas/arrival_gate/arrival_gate.py, :func:`arrival_gate.decide`)
over the local lake: the files are $DWH_HOME/lake/raw/<entity>/ingest_date=<ds>/<file>, the
marker is $DWH_HOME/lake/raw/_arrivals/<pipeline>/ingest_date=<ds>/started.json. When a
`dwh ui` runs ($DWH_HOME/ui.json), a complete date is triggered as a DAG run through its REST API
(POST /api/v2/dags/<dag_id>/dagRuns), once; otherwise the date is reported complete with the
command that runs it.
"""

from __future__ import annotations

import sys

from dwh import config
from dwh_tools.arrival_manifest import GATE_DIR


def gate_module():
    """lambdas/arrival_gate/arrival_gate.py, imported as the Lambda runtime imports it."""
    if str(GATE_DIR) not in sys.path:
        sys.path.insert(0, str(GATE_DIR))
    import arrival_gate

    return arrival_gate


def after_landing(ds: str, entities) -> list[str]:
    """Decide for every pipeline expecting one of ``entities``; one line per decision."""
    from dwh_tools import ui

    gate = gate_module()
    manifest = gate.load_manifest()
    store = gate.LocalStore(config.lake("raw"))
    state = ui.running_ui()
    starter = (
        None
        if state is None
        else gate.AirflowRestStarter(state["url"], lambda: ui.api_token(state))
    )
    lines = []
    names = {p["pipeline"] for e in entities for p in gate.pipelines_for(manifest, e)}
    for pipeline in [p for p in manifest["pipelines"] if p["pipeline"] in names]:
        for d in gate.decide({"pipelines": [pipeline]}, store, starter, ds):
            lines.append(_line(d, pipeline, state))
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
