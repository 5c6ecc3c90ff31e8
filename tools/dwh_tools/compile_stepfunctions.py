"""The Step Functions compiler: a validated pipeline graph becomes an Amazon States Language machine.

Only service integrations are used, no Lambda:

- ``glue_job``     -> ``glue:startJobRun.sync`` (Step Functions waits for the run itself); a run
  that failed on the data contract goes to the failure path at once, any other failure is
  started again as the pipeline's retries say;
- ``glue_crawler`` -> ``aws-sdk:glue:startCrawler`` then a bounded Wait/getCrawler polling loop;
- ``load``/``sql`` -> ``aws-sdk:redshiftdata:batchExecuteStatement`` (one transaction) then a bounded
  Wait/describeStatement polling loop;
- ``quality``      -> the check statements as above, then the gate query, ``getStatementResult``
  and a Choice that fails the execution when a blocking check failed;
- ``notify``       -> ``sns:publish``.

Every node's first state is named by the node id and carries ``"Comment": "node:<id> kind:<kind>"``;
its helper states are named ``<id>.<step>``. Every Task retries with exponential backoff and full
jitter, except a Glue job's start, whose failures are sorted first (see :meth:`_Builder.glue_job`);
failures are caught at the top level, published to the SNS alert topic, and end in a Fail.

The graph is laid out as a sequence of stages: chains of nodes that follow one another without
branching form one branch, and the chains whose dependencies are all in earlier stages run side by
side in a Parallel state. Every dependency edge therefore points to a later stage.

Resource names come from the execution input (see :data:`INPUT_EXAMPLE`), never from this file.
SQL is read from include/sql at compile time and rendered with the same templating contract as
Airflow; run-time values become ``States.Format`` arguments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from olist_contract import CONTRACT_VIOLATION

from dwh import config, kinds
from dwh.graph import Pipeline
from dwh.quality import MAX_BATCH_STATEMENTS

HEADER_KEY = "Comment"
POLL_SECONDS = 30
MAX_POLLS = 240  # 2 hours at POLL_SECONDS

INPUT_EXAMPLE = {
    "config": {
        "resource_prefix": "dwh-dev",
        "redshift_cluster_id": "dwh-dev-redshift",
        "redshift_database": "dwh",
        "redshift_secret_arn": "<ETL user secret arn (terraform output redshift_etl_secret_arn)>",
        "raw_uri": "s3://<raw bucket>",
        "processed_uri": "s3://<processed bucket>",
        "iam_role_arn": "<copy role arn from terraform output>",
        "glue_database": "<glue catalog database from terraform output>",
        "glue_processed_database": "<processed glue catalog database from terraform output>",
        "alert_topic_arn": "<sns topic arn from terraform output>",
    },
    "ds": "2024-01-01 (optional; defaults to the execution's start date)",
    "allow_empty": "true (optional JSON boolean; absent or false: a missing raw file never "
    "replaces processed rows; true: the extract is empty on purpose, see kinds.ALLOW_EMPTY)",
}

# Templating contract -> JSONPath of the value in every state's input.
RUNTIME_VALUES = {
    "ds": "$.ds",
    "run_id": "$.run_id",
    "processed_uri": "$.config.processed_uri",
    "raw_uri": "$.config.raw_uri",
    "iam_role_arn": "$.config.iam_role_arn",
    "glue_database": "$.config.glue_database",
    "glue_processed_database": "$.config.glue_processed_database",
    "allow_empty": "$.allow_empty",  # "true"/"false", resolved by _allow_empty_states
}

ALERT_STATE = "NotifyFailure"
FAIL_STATE = "PipelineFailed"


class StepFunctionsCompileError(Exception):
    """A node or feature that cannot be expressed in Step Functions; names the node."""


# --- intrinsic-function helpers -------------------------------------------------------------


def _escape(text: str) -> str:
    """Escape a literal for an intrinsic function string ('...'), per the ASL reserved chars."""
    return re.sub(r"([\\'{}])", r"\\\1", text)


def _strip_sql_comments(sql: str) -> str:
    """Remove -- comments (outside quotes) and fold whitespace so a statement fits on one line."""
    out, i, quote = [], 0, False
    while i < len(sql):
        ch = sql[i]
        if ch == "'":
            quote = not quote
        if not quote and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = len(sql) if j == -1 else j
            continue
        out.append(ch)
        i += 1
    text = "".join(out)
    # Fold runs of whitespace outside string literals only.
    parts = re.split(r"('(?:[^']|'')*')", text)
    parts = [p if p.startswith("'") else re.sub(r"\s+", " ", p) for p in parts]
    return "".join(parts).strip()


QUOTE_PATH = "$.sql_quote"


def _format_expression(statement: str) -> str:
    """A rendered statement with \\x00name\\x00 markers -> an intrinsic expression."""
    pieces = re.split(r"\x00(\w+)\x00", statement)
    literal, args = [], []
    for idx, piece in enumerate(pieces):
        if idx % 2 == 0:
            # SQL is full of single quotes, which intrinsic string literals would need escaped.
            # Each quote is a {} filled from $.sql_quote (set to ' by the first state) instead:
            # the same result on AWS, in the escape-free form every ASL interpreter reads.
            for n, chunk in enumerate(piece.split("'")):
                if n:
                    literal.append("{}")
                    args.append(QUOTE_PATH)
                literal.append(_escape(chunk))
        else:
            literal.append("{}")
            args.append(RUNTIME_VALUES[piece])
    if not args:
        return "'" + "".join(literal) + "'"
    return "States.Format('" + "".join(literal) + "', " + ", ".join(args) + ")"


def _render_statements(templates: list[str], source: str) -> list[str]:
    from dwh.sql import render, split_statements

    markers = {name: f"\x00{name}\x00" for name in RUNTIME_VALUES}
    statements = []
    for template in templates:
        for stmt in split_statements(render(template, markers)):
            stmt = _strip_sql_comments(stmt)
            if stmt:
                statements.append(stmt)
    if not statements:
        raise StepFunctionsCompileError(f"{source}: no SQL statement to run")
    return statements


def _has_markers(text: str) -> bool:
    return "\x00" in text


def _sql_parameter(statement: str) -> dict:
    """``Sql`` as a plain string, or ``Sql.$`` as States.Format when it needs run-time values."""
    if _has_markers(statement):
        return {"Sql.$": _format_expression(statement)}
    return {"Sql": statement}


def _sqls_parameter(statements: list[str]) -> dict:
    if not any(_has_markers(s) for s in statements):
        return {"Sqls": statements}
    return {"Sqls.$": "States.Array(" + ", ".join(_format_expression(s) for s in statements) + ")"}


# --- state builders ------------------------------------------------------------------------


def _goto(nxt: str) -> dict:
    return {"Next": nxt}


def _contains(text: str) -> str:
    """A StringMatches pattern matching any string that contains ``text``."""
    return "*" + re.sub(r"([\\*])", r"\\\1", text) + "*"


def retry_waits(retries) -> list[int]:
    """Seconds before each retry: the delay, times the backoff rate per earlier retry, capped at
    the maximum delay, as Step Functions' own Retry counts them (without its jitter)."""
    rate = retries.backoff_rate if retries.exponential_backoff else 1.0
    first = max(retries.delay_seconds, 1)
    return [round(min(first * rate**k, retries.max_delay_seconds)) for k in range(retries.count)]


# kind -> builder of its states from its definition (dwh.kinds): the _Builder methods below.
STATES = kinds.Registry("stepfunctions")


class _Builder:
    """Builds the states of one pipeline. ``top_level`` is False while building the states of a
    Parallel branch: there a failure is a Fail state that the Parallel's Catch routes to the
    alert; at the top level a Task is caught itself and a failure goes straight to the alert."""

    def __init__(self, pipeline: Pipeline, include_dir: Path):
        self.p = pipeline
        self.include_dir = include_dir
        self.top_level = True
        self.alert = "sns" in pipeline.defaults.alerts.on_failure

    @property
    def on_error(self) -> str:
        return ALERT_STATE if self.alert else FAIL_STATE

    def catch(self) -> list[dict]:
        return [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": self.on_error}]

    def retry(self, node) -> list[dict]:
        r = self.p.retries_for(node)
        if r.count == 0:
            return []
        return [
            {
                "ErrorEquals": ["States.ALL"],
                "IntervalSeconds": max(r.delay_seconds, 1),
                "MaxAttempts": r.count,
                "BackoffRate": r.backoff_rate if r.exponential_backoff else 1.0,
                "MaxDelaySeconds": r.max_delay_seconds,
                "JitterStrategy": "FULL",
            }
        ]

    def task(
        self, node, resource: str, parameters: dict, *, catch: list | None = None, **extra
    ) -> dict:
        """A Task with the node's timeout and retries, caught at the top level; ``catch`` (its
        own Catch, in a branch too) replaces both the retries and the top-level Catch."""
        state = {"Type": "Task", "Resource": resource, "Parameters": parameters}
        state.update(extra)
        state["TimeoutSeconds"] = self.p.timeout_for(node) * 60
        retry = self.retry(node) if catch is None else []
        if retry:
            state["Retry"] = retry
        if catch is not None:
            state["Catch"] = catch
        elif self.top_level:
            state["Catch"] = self.catch()
        return state

    def fail(self, error: str, cause: str, detail_path: str | tuple[str, ...] = ()) -> dict:
        """A failure of the pipeline: a Fail state in a branch, the alert at the top level.

        ``detail_path`` (JSONPaths into the state's input) appends the service's own error text
        to the cause, so the alert says why, not only where."""
        paths = (detail_path,) if isinstance(detail_path, str) else detail_path
        if paths:
            text = f"{_escape(cause)}: " + " - ".join("{}" for _ in paths)
            dynamic = f"States.Format('{text}', {', '.join(paths)})"
            if self.top_level:
                return {
                    "Type": "Pass",
                    "Parameters": {"Error": error, "Cause.$": dynamic},
                    "ResultPath": "$.error",
                    "Next": self.on_error,
                }
            return {"Type": "Fail", "Error": error, "CausePath": dynamic}
        if self.top_level:
            return {
                "Type": "Pass",
                "Result": {"Error": error, "Cause": cause},
                "ResultPath": "$.error",
                "Next": self.on_error,
            }
        return {"Type": "Fail", "Error": error, "Cause": cause}

    def retry_failed(self, node, first: str, step: str, failed: dict) -> dict:
        """States that run the node's start call again after the service reported a failure, as
        often as the pipeline's retries say, after the waits they say (:func:`retry_waits`); the
        Task Retry covers only the API call itself. Entered at ``<id>.<step>_retry``; after the
        last try, ``failed``."""
        i, r = node.id, self.p.retries_for(node)
        tries = f"$.{i}__{step}_tries"  # per node and step: a later node starts again from zero
        if r.count == 0:
            return {
                f"{i}.{step}_retry": {"Type": "Pass", "Next": f"{i}.{step}_failed"},
                f"{i}.{step}_failed": failed,
            }
        waits = retry_waits(r)
        choices = [
            {"Not": {"Variable": tries, "IsPresent": True}, "Next": f"{i}.{step}_first_retry"}
        ]
        states = {
            f"{i}.{step}_retry": {
                "Type": "Choice",
                "Choices": choices,
                "Default": f"{i}.{step}_failed",
            },
            f"{i}.{step}_first_retry": {
                "Type": "Pass",
                "Result": {"n": 1, "seconds": waits[0]},
                "ResultPath": tries,
                "Next": f"{i}.{step}_backoff",
            },
        }
        if r.count > 1:
            choices.append(
                {
                    "Variable": f"{tries}.n",
                    "NumericLessThan": r.count,
                    "Next": f"{i}.{step}_next_retry",
                }
            )
            # The wait before retry n+1 is item n of the schedule (the first is item 0).
            schedule = "States.Array(" + ", ".join(str(w) for w in waits) + ")"
            states[f"{i}.{step}_next_retry"] = {
                "Type": "Pass",
                "Parameters": {
                    "n.$": f"States.MathAdd({tries}.n, 1)",
                    "seconds.$": f"States.ArrayGetItem({schedule}, {tries}.n)",
                },
                "ResultPath": tries,
                "Next": f"{i}.{step}_backoff",
            }
        return states | {
            f"{i}.{step}_backoff": {
                "Type": "Wait",
                "SecondsPath": f"{tries}.seconds",
                "Next": first,
            },
            f"{i}.{step}_failed": failed,
        }

    def redshift_parameters(self) -> dict:
        target = (
            {"ClusterIdentifier.$": "$.config.redshift_cluster_id"}
            if self.p.redshift_api_target == "cluster"
            else {"WorkgroupName.$": "$.config.redshift_workgroup"}
        )
        return {
            **target,
            "Database.$": "$.config.redshift_database",
            "SecretArn.$": "$.config.redshift_secret_arn",
        }

    def poll(self, node, first: str, step: str, start: dict, probe: dict, verdict: dict, nxt):
        """A start call followed by a bounded wait-and-probe loop, shared by every kind that
        waits on AWS (crawls, Redshift statements).

        ``start``: the start Task's resource, parameters and the fields it keeps (``keep``: a
        ResultSelector without the poll counter). ``probe``: the probe Task's resource,
        parameters and ResultSelector, stored at ``$.<step>_status``. ``verdict``: the Choice
        rules (``ok``, ``failed``) over that result, and the Fail error names and causes.
        """
        i, at = node.id, f"$.{step}"
        keep = start["keep"]
        counted = {k: f"{at}.{k.removesuffix('.$')}" for k in keep if k.endswith(".$")}
        failed = self.fail(verdict["error"], f"{i}: {verdict['cause']}", verdict.get("detail", ()))
        after_failure = f"{i}.{step}_retry"
        states = {}
        if "error_probe" in verdict:  # fetch the service's error text before deciding
            states[f"{i}.{step}_error"] = self.task(
                node,
                probe["resource"],
                probe["parameters"],
                ResultSelector=verdict["error_probe"],
                ResultPath=f"{at}_error",
                Next=after_failure,
            )
            after_failure = f"{i}.{step}_error"
        states |= self.retry_failed(node, first, step, failed)
        return states | {
            first: self.task(
                node,
                start["resource"],
                start["parameters"],
                ResultSelector={**keep, "polls": 0},
                ResultPath=at,
                Next=f"{i}.{step}_wait",
            ),
            f"{i}.{step}_wait": {
                "Type": "Wait",
                "Seconds": POLL_SECONDS,
                "Next": f"{i}.{step}_probe",
            },
            f"{i}.{step}_probe": self.task(
                node,
                probe["resource"],
                probe["parameters"],
                ResultSelector=probe["selector"],
                ResultPath=f"{at}_status",
                Next=f"{i}.{step}_count",
            ),
            f"{i}.{step}_count": {
                "Type": "Pass",
                "Parameters": {**counted, "polls.$": f"States.MathAdd({at}.polls, 1)"},
                "ResultPath": at,
                "Next": f"{i}.{step}_done",
            },
            f"{i}.{step}_done": {
                "Type": "Choice",
                "Choices": [
                    {**verdict["failed"], "Next": after_failure},
                    {**verdict["ok"], "Next": nxt},
                    {
                        "Variable": f"{at}.polls",
                        "NumericGreaterThanEquals": MAX_POLLS,
                        "Next": f"{i}.{step}_timed_out",
                    },
                ],
                "Default": f"{i}.{step}_wait",
            },
            f"{i}.{step}_timed_out": self.fail(
                verdict["timeout"], f"{i}: still running after {MAX_POLLS} polls"
            ),
        }

    def statement(self, node, first: str, step: str, statements: list[str], nxt: str) -> dict:
        """The node's statements as one transaction (BatchExecuteStatement); a single statement
        runs on its own (VACUUM cannot run inside a transaction block). Then wait for it."""
        params = {**self.redshift_parameters(), "StatementName": f"{self.p.pipeline}.{node.id}"}
        if len(statements) == 1:
            api = "executeStatement"
            params.update(_sql_parameter(statements[0]))
        else:
            if len(statements) > MAX_BATCH_STATEMENTS:
                raise StepFunctionsCompileError(
                    f"node {node.id!r}: {len(statements)} statements, but the Redshift Data API "
                    f"runs at most {MAX_BATCH_STATEMENTS} as one transaction; split the node"
                )
            api = "batchExecuteStatement"
            params.update(_sqls_parameter(statements))
        status = f"$.{step}_status.Status"
        return self.poll(
            node,
            first,
            step,
            start={
                "resource": f"arn:aws:states:::aws-sdk:redshiftdata:{api}",
                "parameters": params,
                "keep": {"Id.$": "$.Id"},
            },
            probe={
                "resource": "arn:aws:states:::aws-sdk:redshiftdata:describeStatement",
                "parameters": {"Id.$": f"$.{step}.Id"},
                "selector": {"Status.$": "$.Status"},
            },
            verdict={
                "ok": {"Variable": status, "StringEquals": "FINISHED"},
                "failed": {
                    "Or": [
                        {"Variable": status, "StringEquals": "FAILED"},
                        {"Variable": status, "StringEquals": "ABORTED"},
                    ]
                },
                "error": "RedshiftStatementFailed",
                "cause": "a Redshift Data API statement failed or was aborted",
                # DescribeStatement carries Error only when the statement failed: read it then.
                "error_probe": {"Status.$": "$.Status", "Error.$": "$.Error"},
                "detail": f"$.{step}_error.Error",
                "timeout": "RedshiftStatementTimeout",
            },
            nxt=nxt,
        )

    # One method per node kind (STATES): the node's states, the entry state named node.id.

    @STATES.translates("glue_job")
    def glue_job(self, d: kinds.GlueJob, nxt: str) -> dict:
        """The run, waited for (``.sync``), and what follows a failure.

        A run that failed on the data contract (its ErrorMessage says ``contract violation``: a
        missing required column, an undecidable format, an incompatible type) fails the node at
        once with that message: the same file fails the same way however often it is read. Any
        other failure, of the run or of the call, starts the run again as the pipeline's retries
        say. A Retry matches error names only, and a run failed by its data and one failed for
        want of capacity are both States.TaskFailed; only the Cause (the JobRun as JSON, with its
        ErrorMessage) tells them apart. So the start has no Retry: every failure is caught and
        sorted, and :meth:`retry_failed` starts the run again.
        """
        i, step = d.id, "job"
        caught, run = f"$.{step}_error", f"$.{step}_run"
        message = f"{run}.JobRun.ErrorMessage"
        args = {}
        for name, value in d.arguments().items():
            if isinstance(value, kinds.RunValue):
                args[f"{name}.$"] = RUNTIME_VALUES[value.name]
            else:
                args[name] = value
        states = {
            i: self.task(
                d.node,
                "arn:aws:states:::glue:startJobRun.sync",
                {"JobName.$": _prefixed(d.resource), "Arguments": args},
                catch=[
                    {"ErrorEquals": ["States.ALL"], "ResultPath": caught, "Next": f"{i}.job_error"}
                ],
                ResultPath=None,
                Next=nxt,
            ),
            # A run that ended FAILED (or TIMEOUT) is States.TaskFailed with the JobRun as Cause;
            # a refused call is Glue.<exception> with a text Cause, not JSON.
            f"{i}.job_error": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": f"{caught}.Error", "StringEquals": "States.TaskFailed"},
                            {"Variable": f"{caught}.Cause", "IsPresent": True},
                            {"Variable": f"{caught}.Cause", "StringMatches": "{*}"},
                        ],
                        "Next": f"{i}.job_run",
                    }
                ],
                "Default": f"{i}.job_retry",
            },
            f"{i}.job_run": {
                "Type": "Pass",
                "Parameters": {"JobRun.$": f"States.StringToJson({caught}.Cause)"},
                "ResultPath": run,
                "Next": f"{i}.job_verdict",
            },
            f"{i}.job_verdict": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": message, "IsPresent": True},
                            {"Variable": message, "IsString": True},
                            {"Variable": message, "StringMatches": _contains(CONTRACT_VIOLATION)},
                        ],
                        "Next": f"{i}.job_rejected",
                    }
                ],
                "Default": f"{i}.job_retry",
            },
            f"{i}.job_rejected": self.fail(
                "GlueJobContractViolation",
                f"{i}: the Glue job run failed on the data contract, not retried",
                message,
            ),
        }
        # The caught error's own name cannot be raised again by a Fail state (States.* names are
        # reserved): it goes into the cause, with the service's text.
        failed = self.fail(
            "GlueJobFailed", f"{i}: the Glue job failed", (f"{caught}.Error", f"{caught}.Cause")
        )
        return states | self.retry_failed(d.node, i, step, failed)

    @STATES.translates("glue_crawler")
    def glue_crawler(self, d: kinds.GlueCrawler, nxt: str) -> dict:
        name = {"Name.$": _prefixed(d.resource)}
        state, last = "$.crawl_status.Crawler.State", "$.crawl_status.Crawler.LastCrawl.Status"
        ready = {"Variable": state, "StringEquals": "READY"}
        return self.poll(
            d.node,
            d.id,
            "crawl",
            start={
                "resource": "arn:aws:states:::aws-sdk:glue:startCrawler",
                "parameters": name,
                "keep": {},
            },
            probe={
                "resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                "parameters": name,
                "selector": {"Crawler.$": "$.Crawler"},
            },
            verdict={
                "ok": ready,
                "failed": {
                    "And": [
                        ready,
                        {"Variable": last, "IsPresent": True},
                        {
                            "Or": [
                                {"Variable": last, "StringEquals": "FAILED"},
                                {"Variable": last, "StringEquals": "CANCELLED"},
                            ]
                        },
                    ]
                },
                "error": "CrawlerFailed",
                "cause": "the crawl ended FAILED or CANCELLED",
                "timeout": "CrawlerTimeout",
            },
            nxt=nxt,
        )

    @STATES.translates("load")
    def load(self, d: kinds.Load, nxt: str) -> dict:
        stmts = _render_statements(d.templates(), d.source())
        return self.statement(d.node, d.id, "load", stmts, nxt)

    @STATES.translates("sql")
    def sql(self, d: kinds.Sql, nxt: str) -> dict:
        stmts = _render_statements(d.templates(self.include_dir), d.source())
        return self.statement(d.node, d.id, "sql", stmts, nxt)

    @STATES.translates("quality")
    def quality(self, d: kinds.Quality, nxt: str) -> dict:
        i = d.id
        record = _render_statements(d.record_templates(), i)
        gate = _render_statements([d.gate_template()], i)
        if len(gate) != 1:
            raise StepFunctionsCompileError(f"{i}: the gate query must be one statement")
        states = self.statement(d.node, i, "checks", record, f"{i}.gate")
        states |= self.statement(d.node, f"{i}.gate", "gate", gate, f"{i}.result")
        states[f"{i}.result"] = self.task(
            d.node,
            "arn:aws:states:::aws-sdk:redshiftdata:getStatementResult",
            {"Id.$": "$.gate.Id"},
            ResultSelector={"failed.$": "$.TotalNumRows"},
            ResultPath="$.gate_result",
            Next=f"{i}.verdict",
        )
        states[f"{i}.verdict"] = {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.gate_result.failed", "NumericGreaterThan": 0, "Next": f"{i}.failed"}
            ],
            "Default": nxt,
        }
        states[f"{i}.failed"] = self.fail(
            "QualityGateFailed", f"{i}: a blocking quality check failed; see ops.quality_results"
        )
        return states

    @STATES.translates("notify")
    def notify(self, d: kinds.Notify, nxt: str) -> dict:
        missing = kinds.undeliverable_channels(d.channels).get("stepfunctions")
        if missing:  # the pipeline loader refuses these; a hand-built node gets the same answer
            raise StepFunctionsCompileError(
                f"node {d.id!r} field 'channels': Step Functions cannot deliver {', '.join(missing)}"
            )
        message = _format_expression(_render_message(d.message))
        params = {"TopicArn.$": "$.config.alert_topic_arn", "Subject": d.subject}
        if message.startswith("States.Format"):
            params["Message.$"] = message
        else:
            params["Message"] = d.message
        return {
            d.id: self.task(
                d.node, "arn:aws:states:::sns:publish", params, ResultPath=None, Next=nxt
            )
        }

    def node_states(self, node, nxt: str) -> dict:
        states = STATES[node.kind](self, kinds.define(node, self.p), nxt)
        states[node.id] = {HEADER_KEY: f"node:{node.id} kind:{node.kind}", **states[node.id]}
        return states

    def chain(self, chain: list[str], nxt: str) -> dict:
        """The states of a chain of nodes that follow one another, the last going to ``nxt``."""
        nodes = self.p.node_map
        states: dict = {}
        for pos, nid in enumerate(chain):
            states |= self.node_states(nodes[nid], chain[pos + 1] if pos + 1 < len(chain) else nxt)
        return states

    def branch(self, chain: list[str]) -> dict:
        """A Parallel branch: the chain, then a Succeed state of its own."""
        self.top_level = False
        try:
            end = f"{chain[-1]}.end"
            return {
                "StartAt": chain[0],
                "States": {**self.chain(chain, end), end: {"Type": "Succeed"}},
            }
        finally:
            self.top_level = True


def _prefixed(resource) -> str:
    """A resource name as an intrinsic over the execution input's prefix."""
    return (
        "States.Format('"
        + _escape(resource("\x01")).replace("\x01", "{}")
        + "', $.config.resource_prefix)"
    )


def _render_message(message: str) -> str:
    """Render a notify message's Jinja ({{ ds }}, {{ run_id }}) into runtime markers."""
    from dwh.sql import render

    return render(message, {name: f"\x00{name}\x00" for name in RUNTIME_VALUES})


# --- layout: chains and stages -------------------------------------------------------------


def chains_and_stages(pipeline: Pipeline) -> list[list[list[str]]]:
    """Group nodes into chains, and chains into stages; stage k depends only on stages < k."""
    up = pipeline.upstream()
    down: dict[str, set[str]] = {n: set() for n in up}
    for n, deps in up.items():
        for d in deps:
            down[d].add(n)
    order = pipeline.topological_order()
    chain_of: dict[str, int] = {}
    chains: list[list[str]] = []
    for n in order:
        deps = up[n]
        if len(deps) == 1:
            (p,) = deps
            if len(down[p]) == 1 and chains[chain_of[p]][-1] == p:
                chains[chain_of[p]].append(n)
                chain_of[n] = chain_of[p]
                continue
        chain_of[n] = len(chains)
        chains.append([n])
    level: dict[int, int] = {}
    for idx, chain in enumerate(chains):  # chains are created in topological order
        deps = {chain_of[d] for d in up[chain[0]]}
        level[idx] = 1 + max((level[d] for d in deps), default=-1)
    stages: list[list[list[str]]] = [[] for _ in range(max(level.values()) + 1)]
    for idx, chain in enumerate(chains):
        stages[level[idx]].append(chain)
    return stages


INVALID_RUN_DATE = "InvalidRunDate"


def _run_date_states(first: str) -> dict:
    """The logical date: the execution input's ``ds``, else the execution's start date.

    A given ``ds`` becomes part of S3 paths and SQL text, so it must be a date written
    YYYY-MM-DD: it must be a string, and ``<ds>T00:00:00Z`` must be an ASL timestamp (RFC 3339,
    which takes exactly that form of a date and a real calendar day). Otherwise the execution
    fails with InvalidRunDate before any task runs. (Choice rules have no regular expressions:
    StringMatches knows only ``*``, so the timestamp check is what pins the shape.)"""

    def context(ds: str) -> dict:
        return {
            "Type": "Pass",
            "Parameters": {
                "config.$": "$.config",
                "ds.$": ds,
                "run_id.$": "$$.Execution.Name",
                "allow_empty.$": "$.allow_empty",  # resolved before (_allow_empty_states)
                "sql_quote": "'",
            },
            "Next": first,
        }

    check = "$.ds_check.timestamp"
    return {
        "ResolveRunDate": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ds", "IsPresent": True, "Next": "CheckRunDateIsText"}],
            "Default": "UseStartDate",
        },
        # A rule reading a missing field is a run-time error, so the field is known present here.
        "CheckRunDateIsText": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ds", "IsString": True, "Next": "DateAsTimestamp"}],
            "Default": INVALID_RUN_DATE,
        },
        "DateAsTimestamp": {
            "Type": "Pass",
            "Parameters": {"timestamp.$": "States.Format('{}T00:00:00Z', $.ds)"},
            "ResultPath": "$.ds_check",
            "Next": "CheckRunDate",
        },
        "CheckRunDate": {
            "Type": "Choice",
            "Choices": [{"Variable": check, "IsTimestamp": True, "Next": "UseGivenDate"}],
            "Default": INVALID_RUN_DATE,
        },
        INVALID_RUN_DATE: {
            "Type": "Fail",
            "Error": INVALID_RUN_DATE,
            "Cause": "execution input field ds: not a date written YYYY-MM-DD (a real calendar "
            "date, such as 2024-01-01); leave it out to run for the execution's start date",
        },
        "UseGivenDate": context("$.ds"),
        "UseStartDate": context(
            "States.ArrayGetItem(States.StringSplit($$.Execution.StartTime, 'T'), 0)"
        ),
    }


INVALID_ALLOW_EMPTY = "InvalidAllowEmpty"


def _allow_empty_states(first: str) -> dict:
    """The run's ``allow_empty`` (kinds.ALLOW_EMPTY) as its Glue argument, at ``$.allow_empty``.

    The execution input's ``allow_empty`` is optional: absent or ``false`` gives "false", ``true``
    gives "true". Any other value (``"yes"``, ``"true"`` as text, ``1``) fails the execution with
    InvalidAllowEmpty before any task runs, as the Airflow DAG param refuses a non-boolean: a
    guess either way would be wrong for someone. Each rule reads the field only once the one
    before has shown it present and a boolean (a rule reading a missing field is an error)."""

    def value(text: str) -> dict:
        return {"Type": "Pass", "Result": text, "ResultPath": "$.allow_empty", "Next": first}

    return {
        "ResolveAllowEmpty": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.allow_empty", "IsPresent": True, "Next": "CheckAllowEmptyIsBoolean"}
            ],
            "Default": "AllowEmptyFalse",
        },
        "CheckAllowEmptyIsBoolean": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.allow_empty", "IsBoolean": True, "Next": "CheckAllowEmpty"}
            ],
            "Default": INVALID_ALLOW_EMPTY,
        },
        "CheckAllowEmpty": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.allow_empty", "BooleanEquals": True, "Next": "AllowEmptyTrue"}
            ],
            "Default": "AllowEmptyFalse",
        },
        INVALID_ALLOW_EMPTY: {
            "Type": "Fail",
            "Error": INVALID_ALLOW_EMPTY,
            "Cause": "execution input field allow_empty: not a JSON boolean; give true when the "
            "extract of the date is empty on purpose, or leave it out (false)",
        },
        "AllowEmptyTrue": value(kinds.allow_empty_value(True)),
        "AllowEmptyFalse": value(kinds.allow_empty_value(False)),
    }


def _alert_states(pipeline: Pipeline) -> dict:
    return {
        ALERT_STATE: {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn.$": "$.config.alert_topic_arn",
                "Subject": f"dwh failure: {pipeline.pipeline}",
                "Message.$": (
                    f"States.Format('{pipeline.pipeline} execution {{}} failed: {{}} - {{}}', "
                    "$$.Execution.Name, $.error.Error, $.error.Cause)"
                ),
            },
            "ResultPath": None,
            "Retry": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": 3,
                    "BackoffRate": 2.0,
                    "JitterStrategy": "FULL",
                }
            ],
            "Next": FAIL_STATE,
        }
    }


def compile_pipeline(pipeline: Pipeline, include_dir: Path | None = None) -> dict:
    """The ASL document of one pipeline."""
    b = _Builder(pipeline, include_dir or config.INCLUDE_DIR)
    stages = chains_and_stages(pipeline)
    names = [stage[0][0] if len(stage) == 1 else f"Stage{k + 1}" for k, stage in enumerate(stages)]
    states: dict = _allow_empty_states("ResolveRunDate") | _run_date_states(names[0])
    for k, stage in enumerate(stages):
        nxt = names[k + 1] if k + 1 < len(stages) else "Succeeded"
        if len(stage) == 1:
            states |= b.chain(stage[0], nxt)
            continue
        states[names[k]] = {
            "Type": "Parallel",
            "Comment": "independent branches: " + ", ".join(c[0] for c in stage),
            "Branches": [b.branch(chain) for chain in stage],
            "ResultPath": None,
            "Next": nxt,
            "Catch": b.catch(),
        }
    if b.alert:
        states |= _alert_states(pipeline)
    states[FAIL_STATE] = {
        "Type": "Fail",
        "Error": "PipelineFailed",
        "Cause": f"{pipeline.pipeline}: a task failed; the alert topic has the details",
    }
    states["Succeeded"] = {"Type": "Succeed"}
    return {
        "Comment": f"{pipeline.pipeline}: {pipeline.description} "
        f"Generated from include/pipelines/{pipeline.pipeline}.yaml by `dwh compile`; "
        "do not edit by hand.",
        "StartAt": "ResolveAllowEmpty",
        "TimeoutSeconds": 12 * 3600,
        "States": states,
    }


def render_document(pipeline: Pipeline, include_dir: Path | None = None) -> str:
    return json.dumps(compile_pipeline(pipeline, include_dir), indent=2, ensure_ascii=False) + "\n"


def output_path(pipeline: Pipeline, out_dir: Path | None = None) -> Path:
    return (out_dir or config.STEPFUNCTIONS_DIR) / f"{pipeline.pipeline}.asl.json"


def walk_states(definition: dict) -> Callable:
    """Yield (name, state) for every state, inside Parallel branches too."""

    def walk(states: dict):
        for name, state in states.items():
            yield name, state
            for branch in state.get("Branches", []):
                yield from walk(branch["States"])

    return walk(definition["States"])


def node_states(definition: dict) -> dict[str, str]:
    """Node id -> kind of every node entry state (marked by its Comment)."""
    found = {}
    for _name, state in walk_states(definition):
        comment = state.get(HEADER_KEY, "")
        if comment.startswith("node:"):
            nid, kind = comment.removeprefix("node:").split(" kind:")
            found[nid] = kind
    return found
