"""The local runtime: each node kind's definition (dwh.kinds) as an operator on embedded engines.

:data:`OPERATORS` maps every kind to its translation. They keep the AWS semantics: the crawler infers schemas over the raw folder, the Glue job runs the
same script from include/glue on local PySpark, loads and SQL run on the DuckDB warehouse file.
Engine imports (PySpark, DuckDB) happen inside ``execute`` so that parsing a DAG stays cheap and
MWAA never imports them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from dwh import config, kinds
from dwh.sql import local_context, render
from dwh_tools.faults import raise_if_injected
from dwh_tools.local_target import alerts

ENGINE_TIMES = "engine_times.jsonl"
# The local stand-in for the environment prefix of AWS resource names.
RESOURCE_PREFIX = "local"


def sql_context(context) -> dict:
    """The SQL templating contract on the local target (see dwh.sql)."""
    return local_context(context["ds"], context["run_id"], str(config.lake("processed")))


@contextlib.contextmanager
def open_warehouse() -> Iterator:
    """The DuckDB warehouse, held under an exclusive file lock.

    DuckDB allows one writing process per file; with a parallel executor several task processes
    would otherwise race for it, so they queue on the lock instead of failing.
    """
    from dwh_tools.local_target.warehouse import Warehouse

    path = config.warehouse_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wh = Warehouse(path)
        try:
            wh.ensure_schema()
            yield wh
        finally:
            wh.close()
            fcntl.flock(lock, fcntl.LOCK_UN)


class LocalOperator(BaseOperator):
    """Base of the local operators: injected faults first, then the engine work, timed.

    Each task's engine seconds go to $DWH_HOME/metrics/engine_times.jsonl, so the benchmark can
    tell engine work from Airflow's and the framework's overhead.
    """

    def work(self, context):
        raise NotImplementedError

    def execute(self, context):
        from olist_contract import ContractError

        raise_if_injected(self.dag_id, self.task_id)
        t0 = time.perf_counter()
        try:
            return self.work(context)
        except ContractError as exc:
            # A file that breaks the contract stays broken on retry: fail at once, with its text.
            raise AirflowFailException(str(exc)) from exc
        finally:
            record = {
                "dag_id": self.dag_id,
                "task_id": self.task_id,
                "run_id": context["run_id"],
                "seconds": round(time.perf_counter() - t0, 3),
            }
            path = config.dwh_home() / "metrics" / ENGINE_TIMES
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as fh:
                fh.write(json.dumps(record) + "\n")


class LocalGlueCrawlerOperator(LocalOperator):
    """Infer the schema of each landed raw entity into the local catalog; fail on drift."""

    ui_color = "#f5d5a8"

    def __init__(self, *, crawler: str, entities: list[str], declared: dict[str, dict], **kwargs):
        super().__init__(**kwargs)
        self.crawler = crawler
        self.entities = list(entities)
        self.declared = dict(declared)

    def work(self, context) -> dict:
        from dwh_tools.local_target.crawler import crawl

        report = crawl(
            config.lake("raw"),
            config.dwh_home() / "catalog",
            context["ds"],
            self.entities,
            self.declared,
        )
        self.log.info("crawler %s: %s", self.crawler, report)
        return report


class LocalGlueJobOperator(LocalOperator):
    """Run a Glue script from include/glue on the shared local Spark session."""

    ui_color = "#f0b46e"

    def __init__(self, *, script: str, job_name: str, arguments: dict, **kwargs):
        super().__init__(**kwargs)
        self.script = script
        self.job_name = job_name
        self.arguments = dict(arguments)

    def work(self, context) -> dict:
        from dwh_tools.local_target.spark import run_glue_script

        values = {
            "ds": context["ds"],
            "run_id": context["run_id"],
            "raw_uri": str(config.lake("raw")),
            "processed_uri": str(config.lake("processed")),
            "allow_empty": kinds.allow_empty_value(
                context.get("params", {}).get(kinds.ALLOW_EMPTY.name)
            ),
        }
        # Glue sets JOB_NAME itself on AWS (the job's name); here the runner passes it.
        args = {"--JOB_NAME": self.job_name, **kinds.resolve(self.arguments, values)}
        metrics = run_glue_script(config.GLUE_DIR / self.script, args)
        self.log.info("glue job %s: %s", self.task_id, metrics)
        return metrics


class LocalLoadOperator(LocalOperator):
    """Truncate-and-load one staging table from that date's processed Parquet."""

    ui_color = "#a8d5f5"

    def __init__(self, *, entity: str, table: str, **kwargs):
        super().__init__(**kwargs)
        self.entity = entity
        self.table = table

    def work(self, context) -> dict:
        with open_warehouse() as wh:
            result = wh.load_entity(
                self.entity,
                self.table,
                config.lake("processed"),
                context["ds"],
                context["run_id"],
            )
        self.log.info("loaded %s: %s", self.table, result)
        return result


class LocalSqlOperator(LocalOperator):
    """Render, transpile to DuckDB and run the node's SQL files, all in one transaction."""

    ui_color = "#c6e2b4"

    def __init__(self, *, sql: list[str], **kwargs):
        super().__init__(**kwargs)
        self.sql = list(sql)

    def work(self, context) -> None:
        ctx = sql_context(context)
        stmts = kinds.statements(kinds.sql_templates(self.sql), lambda t: render(t, ctx))
        self.log.info("running include/sql/%s as one transaction", ", include/sql/".join(self.sql))
        with open_warehouse() as wh:
            wh.run_statements(
                stmts, f"{self.task_id} ({', '.join(self.sql)})", ctx["processed_uri"]
            )


class LocalQualityOperator(LocalOperator):
    """Run the declared checks, record them in ops.quality_results, gate on blocking failures."""

    ui_color = "#e8b4d8"

    def __init__(self, *, checks: list, **kwargs):
        super().__init__(**kwargs)
        self.checks = list(checks)

    def work(self, context) -> list[dict]:
        ctx = sql_context(context)
        with open_warehouse() as wh:
            results = wh.run_checks(self.task_id, self.checks, ctx)
            failed = wh.failed_blocking(self.task_id, context["run_id"])
        for r in results:
            self.log.info(
                "%-6s %-5s %s observed=%s threshold=%s",
                r["status"],
                r["severity"],
                r["name"],
                r["observed"],
                r["threshold"],
            )
        if failed:
            names = [
                r["name"] for r in results if r["status"] == "fail" and r["severity"] == "block"
            ]
            # Data does not fix itself on retry: fail at once and let the alert route it.
            raise AirflowFailException(
                f"{failed} blocking quality check(s) failed: {', '.join(names)}"
            )
        return results


class LocalNotifyOperator(LocalOperator):
    """Send the node's message on its channels: sns to the outbox (the local stand-in for the
    topic), slack to the webhook when the ``slack_alerts`` connection exists."""

    template_fields = ("message", "subject")
    ui_color = "#dddddd"

    def __init__(self, *, message: str, subject: str | None, channels: list[str], **kwargs):
        super().__init__(**kwargs)
        self.message = message
        self.subject = subject
        self.channels = list(channels)

    def work(self, context) -> None:
        record = {
            "event": "notify",
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "run_id": context["run_id"],
            "subject": self.subject,
            "message": self.message,
        }
        alerts.deliver(record, self.channels)


# kind -> translation of its definition (dwh.kinds) into a local operator.
OPERATORS = kinds.Registry("local")


@OPERATORS.translates("glue_crawler")
def glue_crawler(d: kinds.GlueCrawler, **kw):
    return LocalGlueCrawlerOperator(
        crawler=d.resource(RESOURCE_PREFIX),
        entities=d.entities,
        declared=d.declared_formats(),
        **kw,
    )


@OPERATORS.translates("glue_job")
def glue_job(d: kinds.GlueJob, **kw):
    return LocalGlueJobOperator(
        script=d.script, job_name=d.resource(RESOURCE_PREFIX), arguments=d.arguments(), **kw
    )


@OPERATORS.translates("load")
def load(d: kinds.Load, **kw):
    return LocalLoadOperator(entity=d.entity, table=d.table, **kw)


@OPERATORS.translates("sql")
def sql(d: kinds.Sql, **kw):
    return LocalSqlOperator(sql=d.files, **kw)


@OPERATORS.translates("quality")
def quality(d: kinds.Quality, **kw):
    return LocalQualityOperator(checks=d.node.checks, **kw)


@OPERATORS.translates("notify")
def notify(d: kinds.Notify, **kw):
    return LocalNotifyOperator(message=d.message, subject=d.subject, channels=d.channels, **kw)
