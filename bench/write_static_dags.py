"""Write the reference DAGs of the parse benchmark: every pipeline as a plain static DAG file.

Each file in bench/static_dags/ is what a team would write by hand without the task graph: one
operator call per task with literal arguments, explicit callbacks and explicit dependencies. The
benchmark parses it beside the compiled DAG to show what the compiler costs at parse time.
Regenerate after changing a pipeline: ``python bench/write_static_dags.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dwh import kinds
from dwh.compile_airflow import _task_kwargs
from dwh.graph import load_all

OUT = Path(__file__).resolve().parent / "static_dags"


def lit(value) -> str:
    if isinstance(value, dt.timedelta):
        return f"timedelta(seconds={int(value.total_seconds())})"
    return repr(value)


def callbacks(target: str, channels: list[str], event: str) -> str:
    if not channels:
        return "[]"
    if target == "local":
        return f"[LocalAlertNotifier({event!r}, {channels!r})]"
    text = (
        f"[{event}] {{{{ ti.dag_id }}}}.{{{{ ti.task_id }}}} run {{{{ run_id }}}} "
        f"try {{{{ ti.try_number }}}}: {{{{ exception }}}}\\nlog: {{{{ ti.log_url }}}}"
    )
    parts = []
    if "sns" in channels:
        parts.append(
            "SnsNotifier(target_arn='{{ var.value.dwh_alert_topic_arn }}', "
            f"message='{text}', subject='dwh {event}')"
        )
    if "slack" in channels:
        parts.append(f"SlackWebhookNotifier(slack_webhook_conn_id='slack_alerts', text='{text}')")
    return "[" + ", ".join(parts) + "]"


def operator_call(node, target: str) -> str:
    prefix = "{{ var.value.dwh_resource_prefix }}"
    if target == "local":
        if node.kind == "quality":
            return f"LocalQualityOperator(checks=CHECKS_{node.id.upper()}"
        if node.kind == "glue_job":
            script_args = {
                "--ingest_date": kinds.DS,
                "--run_id": kinds.RUN_ID,
                "--raw_uri": kinds.RAW_URI,
                "--processed_uri": kinds.PROCESSED_URI,
                **{f"--{k}": v for k, v in node.arguments.items()},
            }
            return (
                f"LocalGlueJobOperator(script={node.script!r}, job_name='local-{node.id}', "
                f"arguments={script_args!r}"
            )
        cls, fields = {
            "glue_crawler": ("LocalGlueCrawlerOperator", ("crawler", "entities")),
            "glue_job": ("LocalGlueJobOperator", ("script", "arguments")),
            "load": ("LocalLoadOperator", ("entity", "table")),
            "sql": ("LocalSqlOperator", ("sql",)),
            "notify": ("LocalNotifyOperator", ("message", "subject", "channels")),
        }[node.kind]
        call = f"{cls}(" + ", ".join(f"{f}={getattr(node, f)!r}" for f in fields)
        # The formats the pipeline file declares per entity (none in these pipelines).
        return call + ", declared={}" if node.kind == "glue_crawler" else call
    if node.kind == "glue_crawler":
        return (
            f"GlueCrawlerRunOperator(crawler_name='{prefix}-{node.crawler}', "
            "wait_for_completion=True, fail_on_already_running=False"
        )
    if node.kind == "glue_job":
        script_args = {
            "--ingest_date": "{{ ds }}",
            "--run_id": "{{ run_id }}",
            "--raw_uri": "{{ var.value.dwh_raw_uri }}",
            "--processed_uri": "{{ var.value.dwh_processed_uri }}",
            **{f"--{k}": v for k, v in node.arguments.items()},
        }
        return (
            f"GlueJobOperator(job_name='{prefix}-{node.id}', script_args={script_args!r}, "
            "wait_for_completion=True, resume_glue_job_on_retry=True, stop_job_run_on_kill=True"
        )
    if node.kind == "load":
        from dwh.loads import redshift_load_statements

        return f"RedshiftSqlOperator(sql={redshift_load_statements(node.entity, node.table)!r}"
    if node.kind == "sql":
        return f"RedshiftSqlOperator(sql={list(node.sql)!r}"
    if node.kind == "quality":
        from dwh.quality import check_statements, gate_sql

        gate = f"select count(*) = 0 as no_blocking_failures from ({gate_sql(node.id)}) as failed"
        return (
            f"QualityGateOperator(conn_id='redshift_default', "
            f"record_sql={check_statements(node.id, node.checks)!r}, sql={gate!r}"
        )
    if node.kind == "notify":
        return (
            f"NotifyOperator(message={node.message!r}, subject={(node.subject or node.id)!r}, "
            f"channels={list(node.channels)!r}"
        )
    raise ValueError(node.kind)


HEADERS = {
    "local": [
        "from dwh_tools.local_target.alerts import LocalAlertNotifier",
        "from dwh.graph import Check",
        "from dwh.kinds import RunValue",
        "from dwh_tools.local_target.operators import (",
        "    LocalGlueCrawlerOperator,",
        "    LocalGlueJobOperator,",
        "    LocalLoadOperator,",
        "    LocalNotifyOperator,",
        "    LocalQualityOperator,",
        "    LocalSqlOperator,",
        ")",
    ],
    "aws": [
        "from airflow.providers.amazon.aws.notifications.sns import SnsNotifier",
        "from airflow.providers.amazon.aws.operators.glue import GlueJobOperator",
        "from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator",
        "from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier",
        "from dwh.operators.aws import NotifyOperator, QualityGateOperator, RedshiftSqlOperator",
    ],
}


def render(pipeline, target: str) -> str:
    lines = [
        f'"""{pipeline.pipeline} written out by hand as a static DAG (target {target}); '
        'parse-benchmark reference. Generated by bench/write_static_dags.py."""',
        "",
        "from datetime import datetime, timedelta, timezone",
        "",
        "from airflow.sdk import DAG",
        *HEADERS[target],
        "",
    ]
    if target == "local":
        for n in pipeline.nodes:
            if n.kind == "quality":
                checks = ", ".join(
                    "Check("
                    + ", ".join(
                        f"{k}={v!r}" for k, v in c.model_dump(exclude_defaults=True).items()
                    )
                    + ")"
                    for c in n.checks
                )
                lines.append(f"CHECKS_{n.id.upper()} = [{checks}]")
        lines.append("")
    start = pipeline.start_date
    lines += [
        "with DAG(",
        f"    dag_id={pipeline.pipeline!r},",
        f"    description={pipeline.description!r},",
        f"    doc_md={pipeline.doc_md!r},",
        f"    schedule={pipeline.schedule!r},",
        f"    start_date=datetime({start.year}, {start.month}, {start.day}, tzinfo=timezone.utc),",
        f"    catchup={pipeline.catchup!r},",
        f"    max_active_runs={pipeline.max_active_runs},",
        f"    tags={[*pipeline.tags, 'target:' + target]!r},",
        f"    default_args={{'owner': {pipeline.owner!r}}},",
        "    dagrun_timeout=timedelta(hours=12),",
        ") as dag:",
    ]
    for n in pipeline.nodes:
        kw = _task_kwargs(pipeline, n, "local")
        extra = [
            f"task_id={n.id!r}",
            f"retries={kw['retries']}",
            f"retry_delay={lit(kw['retry_delay'])}",
            f"retry_exponential_backoff={kw['retry_exponential_backoff']}",
            f"max_retry_delay={lit(kw['max_retry_delay'])}",
            f"execution_timeout={lit(kw['execution_timeout'])}",
            f"on_failure_callback={callbacks(target, pipeline.alerts_for(n).on_failure, 'failure')}",
            f"on_retry_callback={callbacks(target, pipeline.alerts_for(n).on_retry, 'retry')}",
        ]
        if n.doc:
            extra.append(f"doc_md={n.doc!r}")
        lines.append(f"    {n.id} = {operator_call(n, target)}, " + ", ".join(extra) + ")")
    lines.append("")
    for n in pipeline.nodes:
        if n.depends_on:
            ups = ", ".join(n.depends_on)
            lines.append(f"    [{ups}] >> {n.id}")
    return "\n".join(lines) + "\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for pipeline in load_all().pipelines.values():
        for target in ("local", "aws"):
            path = OUT / f"{pipeline.pipeline}__{target}.py"
            path.write_text(render(pipeline, target))
            print(f"wrote {path.relative_to(OUT.parents[1])}")


if __name__ == "__main__":
    main()
