"""The aws runtime (MWAA): each node kind's definition (dwh.kinds) as provider operators.

:data:`OPERATORS` maps every kind to its translation. Names of AWS resources come from Airflow
Variables rendered at run time (``{{ var.value.* }}``), never at parse time and never from
literals; see README "Configuration on MWAA".
"""

from __future__ import annotations

from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.operators.glue_crawler import GlueCrawlerRunOperator
from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
from airflow.providers.common.sql.operators.sql import SQLCheckOperator
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from olist_contract import CONTRACT_VIOLATION, ENTITIES

from dwh import kinds
from dwh.redaction import redact_text, redacting_logger

REDSHIFT_CONN_ID = "redshift_default"
SLACK_CONN_ID = "slack_alerts"


def var(name: str) -> str:
    return "{{ var.value.dwh_" + name + " }}"


class _Variable:
    """A DAG macro whose text is an Airflow Variable, read only when a template renders it."""

    def __init__(self, key: str):
        self.key = key

    def __str__(self) -> str:
        from airflow.sdk import Variable

        return Variable.get(self.key)

    __html__ = __str__


# The SQL templating contract (see dwh.sql) on MWAA: ds and run_id come from Airflow's context,
# the rest from Variables at render time, so parsing reads nothing.
SQL_MACROS = {
    "processed_uri": _Variable("dwh_processed_uri"),
    "iam_role_arn": _Variable("dwh_redshift_copy_role_arn"),
    "glue_database": _Variable("dwh_glue_database"),
    "glue_processed_database": _Variable("dwh_glue_processed_database"),
    "contract_entities": tuple(ENTITIES),  # fixed by the contract, as in dwh.sql
}


class RedshiftSqlOperator(RedshiftDataOperator):
    """Run a SQL file (or statements) through the Redshift Data API as one batch transaction.

    The file is read and rendered at run time (template_ext), then split into statements, since
    ExecuteStatement takes one statement and BatchExecuteStatement runs a list atomically.
    """

    template_fields = (*RedshiftDataOperator.template_fields, "secret_arn")

    def __init__(self, *, api_target: str = "cluster", **kwargs):
        # A provisioned cluster or a Redshift Serverless workgroup (the pipeline's
        # redshift_api_target): Terraform writes the Variable of the one it deployed, and only
        # that one, so only that one is read (the backend's role may read no other).
        if not (kwargs.get("cluster_identifier") or kwargs.get("workgroup_name")):
            if api_target == "workgroup":
                kwargs["workgroup_name"] = var("redshift_workgroup")
            else:
                kwargs["cluster_identifier"] = var("redshift_cluster_id")
        kwargs.setdefault("database", var("redshift_database"))
        kwargs.setdefault("secret_arn", var("redshift_secret_arn"))
        # Every try submits the SQL again. The provider's default (durable) keeps the statement id
        # in task state and, when a clear or retry finds that statement FINISHED, returns without
        # running anything: "fix the data and clear load_*" would then change nothing. The node's
        # statements are one idempotent transaction, so running them again is always safe.
        kwargs.setdefault("durable", False)
        super().__init__(**kwargs)

    def execute(self, context):
        parts = self.sql if isinstance(self.sql, list) else [self.sql]
        statements = kinds.statements(parts, render=str)  # Airflow rendered them already
        # The node is one transaction (BatchExecuteStatement); a single statement runs on its
        # own (ExecuteStatement), since VACUUM refuses a transaction block.
        self.sql = statements[0] if len(statements) == 1 else statements
        return super().execute(context)


class QualityGateOperator(SQLCheckOperator):
    """Record every declared check in ops.quality_results, then fail if a blocking one failed.

    The gate itself is common-sql's SQLCheckOperator: its query returns ``failed = 0``.
    """

    template_fields = (*SQLCheckOperator.template_fields, "record_sql")

    def __init__(self, *, record_sql: list[str], **kwargs):
        super().__init__(**kwargs)
        self.record_sql = record_sql

    def execute(self, context):
        self.get_db_hook().run(self.record_sql)
        return super().execute(context)


# kind -> translation of its definition (dwh.kinds) into an operator.
OPERATORS = kinds.Registry("aws")

# Run-time values of the definitions, as Airflow templates rendered when the task runs.
RUN_VALUE_TEMPLATES = {
    "ds": "{{ ds }}",
    "run_id": "{{ run_id }}",
    "raw_uri": var("raw_uri"),
    "processed_uri": var("processed_uri"),
    # The run's DAG param (a boolean; Jinja would print True/False): as kinds.allow_empty_value.
    "allow_empty": "{{ 'true' if params.allow_empty is sameas true else 'false' }}",
}


def slack_hook(conn_id: str):
    """The Slack webhook hook, its client logging through a redacting logger: the client logs
    the webhook URL, which is the secret, when it retries a post."""
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    return SlackWebhookHook(slack_webhook_conn_id=conn_id, logger=redacting_logger("dwh.slack"))


class NotifyOperator(BaseOperator):
    """Send a notify node's message on exactly its channels: the SNS alert topic, Slack."""

    template_fields = ("message", "subject", "target_arn")
    ui_color = "#dddddd"

    def __init__(self, *, message: str, subject: str, channels: list[str], **kwargs):
        super().__init__(**kwargs)
        self.message = message
        self.subject = subject
        self.channels = list(channels)
        self.target_arn = var("alert_topic_arn")

    def execute(self, context) -> None:
        self.message, self.subject = redact_text(self.message), redact_text(self.subject)
        if "sns" in self.channels:
            from airflow.providers.amazon.aws.hooks.sns import SnsHook

            SnsHook().publish_to_target(
                target_arn=self.target_arn, message=self.message, subject=self.subject
            )
        if "slack" in self.channels:
            slack_hook(SLACK_CONN_ID).send(text=self.message)


class ContractAwareGlueJobOperator(GlueJobOperator):
    """GlueJobOperator whose run that failed on the data contract fails the task for good.

    A contract violation (``olist_contract.ContractError``: a missing required column, an
    undecidable timestamp format, an incompatible type) is in the file itself: another try reads
    the same file and fails the same way, so the pipeline's retries would only delay the alert by
    their backoff. Such a run fails the task without retries (AirflowFailException), with the
    run's error message, which names the entity, file and column, in the exception that the
    failure alerts carry; the provider's own exception says only "Run State: FAILED". Every
    other failure is raised as the provider raises it and retried as the pipeline says.
    """

    ERROR_LINES = 5  # of the run's ErrorMessage in the exception; a Java stack trace is long

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowException:
            self._fail_on_contract_violation(self._job_run_id)
            raise

    def execute_complete(self, context, event=None):
        # Deferred (deferrable=True), the run's end reaches the task as the trigger's event.
        try:
            return super().execute_complete(context, event)
        except AirflowException:
            self._fail_on_contract_violation((event or {}).get("run_id"))
            raise

    def _fail_on_contract_violation(self, run_id: str | None) -> None:
        if not run_id:  # the run was never started: nothing of the contract to read
            return
        try:
            run = self.hook.conn.get_job_run(JobName=self.job_name, RunId=run_id)["JobRun"]
        except Exception:  # the provider's failure stands, and is retried
            self.log.warning("Could not read Glue job run %s", run_id, exc_info=True)
            return
        message = run.get("ErrorMessage") or ""
        if run.get("JobRunState") == "FAILED" and CONTRACT_VIOLATION in message:
            first = "\n".join(message.strip().splitlines()[: self.ERROR_LINES])
            raise AirflowFailException(
                f"Glue job {self.job_name} run {run_id} failed on the data contract "
                f"(not retried: the same file fails again): {first}"
            )


@OPERATORS.translates("glue_crawler")
def glue_crawler(d: kinds.GlueCrawler, **kw):
    return GlueCrawlerRunOperator(
        crawler_name=d.resource(var("resource_prefix")),
        wait_for_completion=True,
        # A retry that finds the crawl of the failed try still running waits for it instead of
        # failing on CrawlerRunningException.
        fail_on_already_running=False,
        **kw,
    )


@OPERATORS.translates("glue_job")
def glue_job(d: kinds.GlueJob, **kw):
    return ContractAwareGlueJobOperator(
        job_name=d.resource(var("resource_prefix")),
        script_args=kinds.resolve(d.arguments(), RUN_VALUE_TEMPLATES),
        wait_for_completion=True,
        # A retried task attaches to the still-running Glue run instead of starting a second one.
        resume_glue_job_on_retry=True,
        stop_job_run_on_kill=True,
        **kw,
    )


@OPERATORS.translates("load")
def load(d: kinds.Load, **kw):
    return RedshiftSqlOperator(sql=d.templates(), api_target=d.redshift_api_target, **kw)


@OPERATORS.translates("sql")
def sql(d: kinds.Sql, **kw):
    # File names: Airflow reads and renders them when the task runs (template_ext), not at parse.
    return RedshiftSqlOperator(sql=d.files, api_target=d.redshift_api_target, **kw)


@OPERATORS.translates("quality")
def quality(d: kinds.Quality, **kw):
    return QualityGateOperator(
        conn_id=REDSHIFT_CONN_ID,
        record_sql=d.record_templates(),
        sql=f"select count(*) = 0 as no_blocking_failures from ({d.gate_template()}) as failed",
        **kw,
    )


@OPERATORS.translates("notify")
def notify(d: kinds.Notify, **kw):
    return NotifyOperator(message=d.message, subject=d.subject, channels=d.channels, **kw)


class RedactingNotifier:
    """Mixin of a notifier whose rendered text is redacted before it is sent: the failure text
    carries the exception's message, which can carry a secret (dwh.redaction)."""

    REDACTED_FIELDS = ("message", "subject", "text")

    def render_template_fields(self, context, jinja_env=None) -> None:
        super().render_template_fields(context, jinja_env)
        for field in self.REDACTED_FIELDS:
            if field in self.template_fields:
                setattr(self, field, redact_text(getattr(self, field)))


def failure_notifiers(channels: list[str], event: str) -> list:
    """Task callbacks of the aws target for a failure or retry, on exactly these channels."""
    text = (
        f"[{event}] {{{{ ti.dag_id }}}}.{{{{ ti.task_id }}}} run {{{{ run_id }}}} "
        f"try {{{{ ti.try_number }}}}: {{{{ exception }}}}\nlog: {{{{ ti.log_url }}}}"
    )
    notifiers = []
    if "sns" in channels:
        from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

        class RedactingSnsNotifier(RedactingNotifier, SnsNotifier):
            pass

        notifiers.append(
            RedactingSnsNotifier(
                target_arn=var("alert_topic_arn"), message=text, subject=f"dwh {event}"
            )
        )
    if "slack" in channels:
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        class RedactingSlackNotifier(RedactingNotifier, SlackWebhookNotifier):
            @property
            def hook(self):
                return slack_hook(self.slack_webhook_conn_id)

            def notify(self, context):  # the provider's logs the webhook URL after sending
                response = self.hook.send(text=self.text)
                self.log.info("Slack alert sent: HTTP %s", response.status_code)

        notifiers.append(RedactingSlackNotifier(slack_webhook_conn_id=SLACK_CONN_ID, text=text))
    return notifiers
