"""The Step Functions compiler: a validated pipeline graph becomes an Amazon States Language machine.

Only service integrations are used, no Lambda:

- ``glue_job``     -> ``glue:startJobRun.sync`` (Step Functions waits for the run itself);
- ``glue_crawler`` -> ``aws-sdk:glue:startCrawler`` then a bounded Wait/getCrawler polling loop;
- ``load``/``sql`` -> ``aws-sdk:redshiftdata:batchExecuteStatement`` (one transaction) then a bounded
  Wait/describeStatement polling loop;
- ``quality``      -> the check statements as above, then the gate query, ``getStatementResult``
  and a Choice that fails the execution when a blocking check failed;
- ``notify``       -> ``sns:publish``.

Every node's first state is named by the node id and carries ``"Comment": "node:<id> kind:<kind>"``;
its helper states are named ``<id>.<step>``. Every Task retries with exponential backoff and full
jitter; failures are caught at the top level, published to the SNS alert topic, and end in a Fail.

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

from dwh import config
from dwh.graph import (
    GlueCrawlerNode,
    GlueJobNode,
    LoadNode,
    NotifyNode,
    Pipeline,
    QualityNode,
    SqlNode,
)

HEADER_KEY = "Comment"
POLL_SECONDS = 30
MAX_POLLS = 240  # 2 hours at POLL_SECONDS

INPUT_EXAMPLE = {
    "config": {
        "resource_prefix": "dwh-dev",
        "redshift_cluster_id": "dwh-dev-redshift",
        "redshift_database": "dwh",
        "redshift_secret_arn": "<secret arn from terraform output>",
        "raw_uri": "s3://<raw bucket>",
        "processed_uri": "s3://<processed bucket>",
        "iam_role_arn": "<copy role arn from terraform output>",
        "glue_database": "<glue catalog database from terraform output>",
        "alert_topic_arn": "<sns topic arn from terraform output>",
    },
    "ds": "2024-01-01 (optional; defaults to the execution's start date)",
}

# Templating contract -> JSONPath of the value in every state's input.
RUNTIME_VALUES = {
    "ds": "$.ds",
    "run_id": "$.run_id",
    "processed_uri": "$.config.processed_uri",
    "raw_uri": "$.config.raw_uri",
    "iam_role_arn": "$.config.iam_role_arn",
    "glue_database": "$.config.glue_database",
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


class _Builder:
    def __init__(self, pipeline: Pipeline, include_dir: Path):
        self.p = pipeline
        self.include_dir = include_dir

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

    def task(self, node, resource: str, parameters: dict, **extra) -> dict:
        state = {"Type": "Task", "Resource": resource, "Parameters": parameters}
        state.update(extra)
        state["TimeoutSeconds"] = self.p.timeout_for(node) * 60
        retry = self.retry(node)
        if retry:
            state["Retry"] = retry
        return state

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

    def statement_loop(self, node, first: str, name: str, entry: dict, nxt: str) -> dict:
        """``entry`` (a Redshift Data call) followed by a bounded describeStatement loop."""
        sid = f"$.{name}"
        states = {
            first: {
                **entry,
                "ResultSelector": {"Id.$": "$.Id", "polls": 0},
                "ResultPath": sid,
                "Next": f"{node.id}.{name}_wait",
            },
            f"{node.id}.{name}_wait": {
                "Type": "Wait",
                "Seconds": POLL_SECONDS,
                "Next": f"{node.id}.{name}_describe",
            },
            f"{node.id}.{name}_describe": self.task(
                node,
                "arn:aws:states:::aws-sdk:redshiftdata:describeStatement",
                {"Id.$": f"{sid}.Id"},
                ResultSelector={"Status.$": "$.Status"},
                ResultPath=f"{sid}_status",
                Next=f"{node.id}.{name}_count",
            ),
            f"{node.id}.{name}_count": {
                "Type": "Pass",
                "Parameters": {"Id.$": f"{sid}.Id", "polls.$": f"States.MathAdd({sid}.polls, 1)"},
                "ResultPath": sid,
                "Next": f"{node.id}.{name}_done",
            },
            f"{node.id}.{name}_done": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": f"{sid}_status.Status", "StringEquals": "FINISHED", "Next": nxt},
                    {
                        "Or": [
                            {"Variable": f"{sid}_status.Status", "StringEquals": "FAILED"},
                            {"Variable": f"{sid}_status.Status", "StringEquals": "ABORTED"},
                        ],
                        "Next": f"{node.id}.{name}_failed",
                    },
                    {
                        "Variable": f"{sid}.polls",
                        "NumericGreaterThanEquals": MAX_POLLS,
                        "Next": f"{node.id}.{name}_timed_out",
                    },
                ],
                "Default": f"{node.id}.{name}_wait",
            },
            f"{node.id}.{name}_failed": {
                "Type": "Fail",
                "Error": "RedshiftStatementFailed",
                "Cause": f"{node.id}: a Redshift Data API statement failed or was aborted",
            },
            f"{node.id}.{name}_timed_out": {
                "Type": "Fail",
                "Error": "RedshiftStatementTimeout",
                "Cause": f"{node.id}: statement still running after {MAX_POLLS} polls",
            },
        }
        return states

    def batch(self, node, first: str, name: str, statements: list[str], nxt: str) -> dict:
        """Several statements run as one transaction; a single one runs on its own (VACUUM
        cannot run inside a transaction block)."""
        params = {**self.redshift_parameters(), "StatementName": f"{self.p.pipeline}.{node.id}"}
        if len(statements) == 1:
            api = "executeStatement"
            params.update(_sql_parameter(statements[0]))
        else:
            api = "batchExecuteStatement"
            params.update(_sqls_parameter(statements))
        entry = self.task(node, f"arn:aws:states:::aws-sdk:redshiftdata:{api}", params)
        return self.statement_loop(node, first, name, entry, nxt)

    # One method per node kind: each returns the node's states, entry state named node.id.

    def glue_job(self, node: GlueJobNode, nxt: str) -> dict:
        args = {"--ingest_date.$": "$.ds", "--run_id.$": "$.run_id"}
        args.update({f"--{k}": v for k, v in node.arguments.items()})
        return {
            node.id: self.task(
                node,
                "arn:aws:states:::glue:startJobRun.sync",
                {
                    "JobName.$": f"States.Format('{{}}-{node.id}', $.config.resource_prefix)",
                    "Arguments": args,
                },
                ResultPath=None,
                Next=nxt,
            )
        }

    def glue_crawler(self, node: GlueCrawlerNode, nxt: str) -> dict:
        name = f"States.Format('{{}}-{node.crawler}', $.config.resource_prefix)"
        i = node.id
        return {
            i: self.task(
                node,
                "arn:aws:states:::aws-sdk:glue:startCrawler",
                {"Name.$": name},
                ResultSelector={"polls": 0},
                ResultPath="$.crawl",
                Next=f"{i}.wait",
            ),
            f"{i}.wait": {"Type": "Wait", "Seconds": POLL_SECONDS, "Next": f"{i}.get"},
            f"{i}.get": self.task(
                node,
                "arn:aws:states:::aws-sdk:glue:getCrawler",
                {"Name.$": name},
                ResultSelector={"Crawler.$": "$.Crawler"},
                ResultPath="$.crawler",
                Next=f"{i}.count",
            ),
            f"{i}.count": {
                "Type": "Pass",
                "Parameters": {"polls.$": "States.MathAdd($.crawl.polls, 1)"},
                "ResultPath": "$.crawl",
                "Next": f"{i}.done",
            },
            f"{i}.done": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.crawler.Crawler.State", "StringEquals": "READY"},
                            {"Variable": "$.crawler.Crawler.LastCrawl.Status", "IsPresent": True},
                            {
                                "Or": [
                                    {
                                        "Variable": "$.crawler.Crawler.LastCrawl.Status",
                                        "StringEquals": "FAILED",
                                    },
                                    {
                                        "Variable": "$.crawler.Crawler.LastCrawl.Status",
                                        "StringEquals": "CANCELLED",
                                    },
                                ]
                            },
                        ],
                        "Next": f"{i}.failed",
                    },
                    {"Variable": "$.crawler.Crawler.State", "StringEquals": "READY", "Next": nxt},
                    {
                        "Variable": "$.crawl.polls",
                        "NumericGreaterThanEquals": MAX_POLLS,
                        "Next": f"{i}.timed_out",
                    },
                ],
                "Default": f"{i}.wait",
            },
            f"{i}.failed": {
                "Type": "Fail",
                "Error": "CrawlerFailed",
                "Cause": f"{i}: the crawl ended FAILED or CANCELLED",
            },
            f"{i}.timed_out": {
                "Type": "Fail",
                "Error": "CrawlerTimeout",
                "Cause": f"{i}: crawler still running after {MAX_POLLS} polls",
            },
        }

    def load(self, node: LoadNode, nxt: str) -> dict:
        from dwh.loads import redshift_load_statements

        stmts = _render_statements(redshift_load_statements(node.entity, node.table), node.id)
        return self.batch(node, node.id, "load", stmts, nxt)

    def sql(self, node: SqlNode, nxt: str) -> dict:
        templates = [
            (self.include_dir / "sql" / rel).read_text(encoding="utf-8") for rel in node.sql
        ]
        stmts = _render_statements(templates, f"{node.id} ({', '.join(node.sql)})")
        return self.batch(node, node.id, "sql", stmts, nxt)

    def quality(self, node: QualityNode, nxt: str) -> dict:
        from dwh.quality import check_statements, gate_sql

        i = node.id
        record = _render_statements(check_statements(i, node.checks), i)
        gate = _render_statements([gate_sql(i)], i)
        if len(gate) != 1:
            raise StepFunctionsCompileError(f"{i}: the gate query must be one statement")
        gate_entry = self.task(
            node,
            "arn:aws:states:::aws-sdk:redshiftdata:executeStatement",
            {
                **self.redshift_parameters(),
                **_sql_parameter(gate[0]),
                "StatementName": f"{self.p.pipeline}.{i}.gate",
            },
        )
        states = self.batch(node, i, "checks", record, f"{i}.gate")
        states |= self.statement_loop(node, f"{i}.gate", "gate", gate_entry, f"{i}.result")
        states[f"{i}.result"] = self.task(
            node,
            "arn:aws:states:::aws-sdk:redshiftdata:getStatementResult",
            {"Id.$": "$.gate.Id"},
            ResultSelector={"failed.$": "$.TotalNumRows"},
            ResultPath="$.gate_result",
            Next=f"{i}.verdict",
        )
        states[f"{i}.verdict"] = {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.gate_result.failed",
                    "NumericGreaterThan": 0,
                    "Next": f"{i}.failed",
                }
            ],
            "Default": nxt,
        }
        states[f"{i}.failed"] = {
            "Type": "Fail",
            "Error": "QualityGateFailed",
            "Cause": f"{i}: a blocking quality check failed; see ops.quality_results",
        }
        return states

    def notify(self, node: NotifyNode, nxt: str) -> dict:
        if "sns" not in node.channels:
            raise StepFunctionsCompileError(
                f"node {node.id!r}: notify without the 'sns' channel cannot be expressed in Step "
                "Functions (its only notification integration here is SNS)"
            )
        message = _format_expression(_render_message(node.message))
        params = {"TopicArn.$": "$.config.alert_topic_arn", "Subject": node.subject or node.id}
        if message.startswith("States.Format"):
            params["Message.$"] = message
        else:
            params["Message"] = node.message
        return {
            node.id: self.task(
                node, "arn:aws:states:::sns:publish", params, ResultPath=None, Next=nxt
            )
        }

    def node_states(self, node, nxt: str) -> dict:
        states = getattr(self, node.kind)(node, nxt)
        states[node.id] = {HEADER_KEY: f"node:{node.id} kind:{node.kind}", **states[node.id]}
        return states


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


def compile_pipeline(pipeline: Pipeline, include_dir: Path | None = None) -> dict:
    """The ASL document of one pipeline."""
    b = _Builder(pipeline, include_dir or config.INCLUDE_DIR)
    nodes = pipeline.node_map
    stages = chains_and_stages(pipeline)
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": ALERT_STATE}]

    def chain_states(chain: list[str], end_next: str | None, top_level: bool) -> dict:
        states: dict = {}
        for pos, nid in enumerate(chain):
            nxt = chain[pos + 1] if pos + 1 < len(chain) else (end_next or "__END__")
            states |= b.node_states(nodes[nid], nxt)
        for st in list(states.values()):
            if st.get("Next") == "__END__":
                del st["Next"]
                st["End"] = True
            for choice in st.get("Choices", []):
                if choice.get("Next") == "__END__":
                    choice["Next"] = f"{chain[-1]}.end"
                    states[f"{chain[-1]}.end"] = {"Type": "Succeed"}
            if st.get("Default") == "__END__":
                st["Default"] = f"{chain[-1]}.end"
                states[f"{chain[-1]}.end"] = {"Type": "Succeed"}
            if top_level and st["Type"] == "Task":
                st["Catch"] = catch
            if top_level and st["Type"] == "Fail":
                # A Fail state is not caught: at the top level route it through the alert.
                error = {"Error": st.pop("Error"), "Cause": st.pop("Cause")}
                st.clear()
                st.update(Type="Pass", Result=error, ResultPath="$.error", Next=ALERT_STATE)
        return states

    states: dict = {
        "ResolveRunDate": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ds", "IsPresent": True, "Next": "UseGivenDate"}],
            "Default": "UseStartDate",
        },
        "UseGivenDate": {
            "Type": "Pass",
            "Parameters": {
                "config.$": "$.config",
                "ds.$": "$.ds",
                "run_id.$": "$$.Execution.Name",
                "sql_quote": "'",
            },
            "Next": None,
        },
        "UseStartDate": {
            "Type": "Pass",
            "Parameters": {
                "config.$": "$.config",
                "ds.$": "States.ArrayGetItem(States.StringSplit($$.Execution.StartTime, 'T'), 0)",
                "run_id.$": "$$.Execution.Name",
                "sql_quote": "'",
            },
            "Next": None,
        },
    }
    stage_names = []
    for k, stage in enumerate(stages):
        stage_names.append(stage[0][0] if len(stage) == 1 else f"Stage{k + 1}")
    states["UseGivenDate"]["Next"] = states["UseStartDate"]["Next"] = stage_names[0]
    for k, stage in enumerate(stages):
        nxt = stage_names[k + 1] if k + 1 < len(stages) else "Succeeded"
        if len(stage) == 1:
            states |= chain_states(stage[0], nxt, top_level=True)
            continue
        branches = []
        for chain in stage:
            branch_states = chain_states(chain, None, top_level=False)
            branches.append({"StartAt": chain[0], "States": branch_states})
        states[stage_names[k]] = {
            "Type": "Parallel",
            "Comment": "independent branches: " + ", ".join(c[0] for c in stage),
            "Branches": branches,
            "ResultPath": None,
            "Next": nxt,
            "Catch": catch,
        }
    states[ALERT_STATE] = {
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
        "StartAt": "ResolveRunDate",
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
