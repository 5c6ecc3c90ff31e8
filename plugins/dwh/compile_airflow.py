"""The Airflow compiler: a validated pipeline graph becomes an Airflow DAG.

A DAG file in dags/ is two lines: it calls :func:`dag_for_file` with its own path, so the dag_id,
the file name and the pipeline file stem are one name. The target (``local`` or ``aws``) comes from
configuration (``DWH_TARGET`` / ``[dwh] target``); both targets produce the same task ids and edges.
Parsing reads only the pipeline YAML and the assets manifest beside it: no network, no Variable,
no SQL file. The tasks writing published tables (the marts) have those tables as Airflow asset
outlets (:mod:`dwh.assets`), the same on both targets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from airflow.sdk import DAG, Param

from dwh import assets, config, kinds
from dwh.graph import Pipeline, load_pipeline


def operators(target: str) -> dict:
    """The target's registry: node kind -> translation of its definition into an operator.

    The local registry lives with the laptop tooling (tools/dwh_tools/local_target), which MWAA
    never receives; it is imported only when the target is local.
    """
    if target == "aws":
        from dwh.operators.aws import OPERATORS
    else:
        from dwh_tools.local_target.operators import OPERATORS
    return OPERATORS


def _callbacks(target: str, channels: list[str], event: str) -> list:
    if not channels:
        return []
    if target == "aws":
        from dwh.operators.aws import failure_notifiers

        return failure_notifiers(channels, event)
    from dwh_tools.local_target.alerts import LocalAlertNotifier

    return [LocalAlertNotifier(event, channels)]


def _task_kwargs(pipeline: Pipeline, node, target: str) -> dict:
    retries = pipeline.retries_for(node)
    alerts = pipeline.alerts_for(node)
    return {
        "task_id": node.id,
        "doc_md": node.doc,
        "retries": retries.count,
        "retry_delay": dt.timedelta(seconds=retries.delay_seconds),
        "retry_exponential_backoff": retries.backoff_rate if retries.exponential_backoff else 0,
        "max_retry_delay": dt.timedelta(seconds=retries.max_delay_seconds),
        "execution_timeout": dt.timedelta(minutes=pipeline.timeout_for(node)),
        "on_failure_callback": _callbacks(target, alerts.on_failure, "failure"),
        "on_retry_callback": _callbacks(target, alerts.on_retry, "retry"),
    }


def _sql_macros(target: str) -> dict | None:
    """The SQL templating contract's values beyond ds and run_id (aws: from Variables)."""
    if target != "aws":
        return None  # local operators render SQL with dwh_tools.local_target.operators.sql_context
    from dwh.operators.aws import SQL_MACROS

    return dict(SQL_MACROS)


def run_params() -> dict[str, Param]:
    """The DAG's params: what one run says of itself, in the trigger form and a run's conf."""
    return {
        kinds.ALLOW_EMPTY.name: Param(
            False,
            type="boolean",
            title="Extract empty on purpose",
            description=kinds.ALLOW_EMPTY_DESCRIPTION,
        )
    }


def build_dag(pipeline: Pipeline, target: str | None = None) -> DAG:
    """Compile one pipeline for one target into an Airflow DAG."""
    target = target or config.target()
    registry = operators(target)
    # The assets manifest beside the pipeline's own file (a folder of test pipelines has none).
    outlets = assets.outlets(pipeline, pipeline.source_dir)
    start = dt.datetime.combine(pipeline.start_date, dt.time(), tzinfo=dt.UTC)
    with DAG(
        dag_id=pipeline.pipeline,
        description=pipeline.description,
        doc_md=pipeline.doc_md,
        schedule=pipeline.schedule,
        start_date=start,
        catchup=pipeline.catchup,
        max_active_runs=pipeline.max_active_runs,
        tags=[*pipeline.tags, f"target:{target}"],
        default_args={"owner": pipeline.owner},
        template_searchpath=[str(config.SQL_DIR)],
        user_defined_macros=_sql_macros(target),
        dagrun_timeout=dt.timedelta(hours=12),
        params=run_params(),
    ) as dag:
        tasks = {
            n.id: registry[n.kind](
                kinds.define(n, pipeline),
                **_task_kwargs(pipeline, n, target),
                outlets=outlets.get(n.id, []),
            )
            for n in pipeline.nodes
        }
        for n in pipeline.nodes:
            for dep in n.depends_on:
                tasks[dep] >> tasks[n.id]
    return dag


def dag_for_file(dag_file: str, target: str | None = None) -> DAG:
    """The DAG of include/pipelines/<stem of dag_file>.yaml (dag_id = file name)."""
    stem = Path(dag_file).stem
    return build_dag(load_pipeline(config.PIPELINES_DIR / f"{stem}.yaml"), target)
