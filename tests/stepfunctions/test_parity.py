"""Both compilers agree: the same task set, and every Airflow edge is ordered in the state machine."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dwh.compile_airflow import build_dag
from dwh_tools.compile_stepfunctions import (
    chains_and_stages,
    compile_pipeline,
    node_states,
    walk_states,
)


def transitions(definition: dict) -> dict[str, set[str]]:
    """State -> states it can move to next, with each Parallel joined after all its branches."""
    graph: dict[str, set[str]] = {}

    def add(states: dict, exit_to: str | None):
        for name, st in states.items():
            targets = set()
            if "Next" in st:
                targets.add(st["Next"])
            targets.update(c["Next"] for c in st.get("Choices", []))
            if "Default" in st:
                targets.add(st["Default"])
            if (st.get("End") or st["Type"] == "Succeed") and exit_to:
                targets.add(exit_to)
            if st["Type"] == "Parallel":
                targets = {b["StartAt"] for b in st["Branches"]}
                for b in st["Branches"]:
                    add(b["States"], st.get("Next"))
            graph[name] = targets

    add(definition["States"], None)
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.parametrize("target", ["local", "aws"])
def test_same_task_set_and_order(pipeline_and_include, target):
    pipeline, include = pipeline_and_include
    dag = build_dag(pipeline, target)
    definition = compile_pipeline(pipeline, include)

    sfn_nodes = node_states(definition)
    assert set(dag.task_ids) == set(sfn_nodes)
    assert {t.task_id: n.kind for t, n in zip(dag.tasks, pipeline.nodes, strict=True)} == sfn_nodes

    graph = transitions(definition)
    airflow_edges = {(up, t.task_id) for t in dag.tasks for up in t.upstream_task_ids}
    assert airflow_edges == pipeline.edges()
    for up, down in airflow_edges:
        assert down in reachable(graph, up), f"{up} -> {down} not ordered in the state machine"
        assert up not in reachable(graph, down), f"{down} may run before {up}"


def test_independent_branches_run_in_parallel(fixture_include):
    from dwh.graph import load_pipeline

    p = load_pipeline(fixture_include / "pipelines" / "fixture_all_kinds.yaml", fixture_include)
    stages = chains_and_stages(p)
    assert stages == [
        [["crawl_raw"]],
        [["clean_customers", "load_customers"], ["clean_orders", "load_orders"]],
        [["build_customer_orders", "check_customer_orders", "notify_done"]],
    ]
    definition = compile_pipeline(p, fixture_include)
    parallel = [s for _, s in walk_states(definition) if s["Type"] == "Parallel"]
    assert len(parallel) == 1 and len(parallel[0]["Branches"]) == 2


def test_every_task_retries_with_backoff_and_jitter_and_is_caught(pipeline_and_include):
    pipeline, include = pipeline_and_include
    definition = compile_pipeline(pipeline, include)
    top = definition["States"]
    for name, st in walk_states(definition):
        if st["Type"] != "Task" or name == "NotifyFailure":
            continue
        node = pipeline.node_map[name.split(".")[0]]
        wanted = pipeline.retries_for(node)
        if name == node.id and node.kind == "glue_job":
            # A Retry would start a run that failed on the data contract again: every failure is
            # caught, and the node's own loop starts the others again.
            assert "Retry" not in st and st["Catch"][0]["ErrorEquals"] == ["States.ALL"], name
            assert f"{name}.job_retry" in dict(walk_states(definition)), name
            continue
        (retry,) = st["Retry"]
        assert retry["MaxAttempts"] == wanted.count, name
        assert retry["BackoffRate"] == (wanted.backoff_rate if wanted.exponential_backoff else 1.0)
        assert retry["JitterStrategy"] == "FULL", name
        assert st["TimeoutSeconds"] > 0
        if name in top:
            assert st["Catch"][0]["Next"] == "NotifyFailure", name
    assert top["NotifyFailure"]["Resource"] == "arn:aws:states:::sns:publish"
    assert top["NotifyFailure"]["Next"] == "PipelineFailed"
    assert "Lambda" not in json.dumps(definition) and ":lambda:" not in json.dumps(definition)


def test_polling_loops_are_bounded(pipeline_and_include):
    pipeline, include = pipeline_and_include
    definition = compile_pipeline(pipeline, include)
    states = dict(walk_states(definition))
    for name, st in states.items():
        if st["Type"] == "Wait" and name.endswith("_backoff"):
            # A retry loop: its Choice starts the count, counts on below the retries, else fails.
            count = pipeline.retries_for(pipeline.node_map[name.split(".")[0]]).count
            retry = states[name.removesuffix("_backoff") + "_retry"]
            assert retry["Default"] == name.removesuffix("_backoff") + "_failed", name
            for rule in retry["Choices"]:
                assert "Not" in rule or rule["NumericLessThan"] <= count, name
        elif st["Type"] == "Wait":
            node = name.split(".")[0]
            loop = [
                s
                for n, s in walk_states(definition)
                if n.startswith(node + ".") and s["Type"] == "Choice"
            ]
            assert any("NumericGreaterThanEquals" in c for s in loop for c in s["Choices"]), (
                f"{name}: polling without a bound"
            )


def statelint_cmd() -> list[str]:
    # statelint sits beside the interpreter in the virtualenv; PATH may not include it.
    return [shutil.which("statelint") or str(Path(sys.executable).parent / "statelint")]


def statelint(pipeline, include, tmp_path) -> subprocess.CompletedProcess:
    path = tmp_path / f"{pipeline.pipeline}.asl.json"
    path.write_text(json.dumps(compile_pipeline(pipeline, include)))
    return subprocess.run([*statelint_cmd(), str(path)], capture_output=True, text=True)


def test_statelint_accepts_every_generated_state_machine(pipeline_and_include, tmp_path):
    run = statelint(*pipeline_and_include, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr


def test_statelint_accepts_every_machine_without_retries(pipeline_without_retries, tmp_path):
    """A pipeline may say ``retries: {count: 0}``: its failure paths must still be complete."""
    run = statelint(*pipeline_without_retries, tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr


def test_statelint_catches_a_broken_machine(tmp_path):
    # Guards the test above: statelint must reject a state machine with a dangling Next.
    path = tmp_path / "broken.asl.json"
    path.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}))
    run = subprocess.run([*statelint_cmd(), str(path)], capture_output=True, text=True)
    assert run.returncode != 0
