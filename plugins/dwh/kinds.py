"""What a node of each kind means, once, whatever runtime runs it.

The pipeline file declares nodes (:mod:`dwh.graph`); this module defines what a node of each kind
*does*: the AWS resource it names, the Glue job's arguments, the statements it runs and as how
many transactions, the gate it applies, the channels it notifies. Three runtimes translate these
definitions and add nothing of their own; each has one registry keyed by kind:

=================  ==============================================  ==========================
runtime            registry                                        what a translation returns
=================  ==============================================  ==========================
local (laptop)     ``dwh_tools.local_target.operators.OPERATORS``  an Airflow operator
aws (MWAA)         ``dwh.operators.aws.OPERATORS``                 an Airflow operator
Step Functions     ``dwh_tools.compile_stepfunctions.STATES``      the node's ASL states
diagram            ``dwh_tools.diagram.SHAPES``                    a Mermaid node shape
=================  ==============================================  ==========================

Rules every runtime follows:

- AWS resources are named ``<prefix>-<name>`` (:func:`resource_name`): a Glue job after its node
  id, a crawler after its ``crawler`` field.
- **A node is one transaction.** All the statements of a node (every file of a multi-file ``sql``
  node, every statement of a load) run in one transaction; a node of a single statement runs it
  on its own, which for one statement is the same thing (Redshift refuses VACUUM inside a
  transaction block). A quality node records its checks in one transaction, then runs its gate.
- A Glue job receives exactly :meth:`GlueJob.arguments`: the run's arguments, then the node's own.
- A notify node uses exactly the channels it lists; a channel that some runtime cannot deliver is
  refused when the pipeline file is loaded (:func:`undeliverable_channels`).

Imports stay light (no Airflow, no engines): the DAG files, the compilers and the tooling all
read this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

RUNTIMES = ("local", "aws", "stepfunctions")


def resource_name(prefix: str, name: str) -> str:
    """The AWS name of a pipeline resource (Glue job, crawler) in one environment."""
    return f"{prefix}-{name}"


@dataclass(frozen=True)
class RunValue:
    """A value known only when a run starts: a name of the templating contract (see dwh.sql)."""

    name: str


DS = RunValue("ds")
RUN_ID = RunValue("run_id")
RAW_URI = RunValue("raw_uri")
PROCESSED_URI = RunValue("processed_uri")
# Whether the run says its extract is empty on purpose: a job that cleans an entity may then
# replace a processed partition holding rows with an empty one when that date's raw file is
# missing (include/glue/clean_entity.py). Set per run, never per node: the Airflow DAG param
# ``allow_empty``, ``dwh run --allow-empty``, the execution input's ``allow_empty``. Its value is
# a Glue argument, so text: :func:`allow_empty_value`.
ALLOW_EMPTY = RunValue("allow_empty")
RUN_VALUES = (
    "ds",
    "run_id",
    "raw_uri",
    "processed_uri",
    "iam_role_arn",
    "glue_database",
    "glue_processed_database",
    "allow_empty",
)

# The arguments every Glue job of every runtime receives, before the node's own `arguments`.
GLUE_RUN_ARGUMENTS: dict[str, RunValue] = {
    "--ingest_date": DS,
    "--run_id": RUN_ID,
    "--raw_uri": RAW_URI,
    "--processed_uri": PROCESSED_URI,
}
# Names a node's `arguments` may not use: the run's own, what GlueJob.arguments adds, what Glue
# itself sets, and Glue's special parameters of one plain word (--conf, --class). The others
# (--TempDir, --extra-py-files, --enable-*, --job-*, ...) are refused by the shape of a node's
# argument names (dwh.graph.ARGUMENT_NAME: lowercase, no '-').
RESERVED_GLUE_ARGUMENTS = frozenset(
    {a.removeprefix("--") for a in GLUE_RUN_ARGUMENTS}
    | {"formats", ALLOW_EMPTY.name, "JOB_NAME", "JOB_ID", "JOB_RUN_ID", "conf", "class"}
)

# The run's ``allow_empty`` as its Airflow DAG param says it (see compile_airflow.run_params).
ALLOW_EMPTY_DESCRIPTION = (
    "The extract of this date is empty on purpose: a Glue job that cleans an entity may replace "
    "a processed partition that holds rows with an empty one when the date's raw file is "
    "missing. Leave it off for a backfill: raw files expire after 730 days, and rows replaced "
    "then cannot be rebuilt."
)


def allow_empty_value(flag: object) -> str:
    """The Glue argument of a run's ``allow_empty``: "true" only for a boolean true."""
    return "true" if flag is True else "false"


# Who delivers which notification channel. The local target's stand-in for the SNS topic is the
# outbox ($DWH_HOME/alerts/outbox.jsonl); Step Functions' only notification integration is SNS.
CHANNELS = ("sns", "slack")
DELIVERED_BY: dict[str, tuple[str, ...]] = {
    "local": ("sns", "slack"),
    "aws": ("sns", "slack"),
    "stepfunctions": ("sns",),
}


def undeliverable_channels(channels: list[str]) -> dict[str, list[str]]:
    """Runtime -> the listed channels it cannot deliver (empty when every runtime can)."""
    out = {}
    for runtime, delivered in DELIVERED_BY.items():
        missing = [c for c in channels if c not in delivered]
        if missing:
            out[runtime] = missing
    return out


def resolve(arguments: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, str]:
    """Arguments with every :class:`RunValue` replaced by its value for one run."""
    return {k: values[v.name] if isinstance(v, RunValue) else v for k, v in arguments.items()}


def statements(templates: list[str], render: Callable[[str], str]) -> list[str]:
    """Render each template and split it into statements, in order, empty ones dropped."""
    from dwh.sql import split_statements

    return [s for t in templates for s in split_statements(render(t)) if s.strip()]


def sql_templates(files: list[str], include_dir: Path | None = None) -> list[str]:
    """The text of SQL files under include/sql, in order (read when a node runs or compiles)."""
    from dwh import config

    sql_dir = (include_dir or config.INCLUDE_DIR) / "sql"
    return [(sql_dir / rel).read_text(encoding="utf-8") for rel in files]


class Registry(dict):
    """One runtime's translations, kind -> function, filled where each function is defined::

    OPERATORS = kinds.Registry("aws")

    @OPERATORS.translates("load")
    def load(d: kinds.Load, **task_kwargs): ...
    """

    def __init__(self, runtime: str):
        super().__init__()
        self.runtime = runtime

    def translates(self, kind: str):
        def add(fn):
            if kind in self:
                raise ValueError(f"{self.runtime}: kind {kind!r} is translated twice")
            self[kind] = fn
            return fn

        return add


# --- one definition per kind ------------------------------------------------------------------


class Kind:
    """The runtime-neutral meaning of one node; subclasses are the kinds (see KINDS)."""

    name: ClassVar[str]

    def __init__(self, node, pipeline=None):
        self.node = node
        # Where the pipeline's Redshift statements go: a provisioned cluster or a Redshift
        # Serverless workgroup (the pipeline's redshift_api_target; Terraform matches it).
        self.redshift_api_target = pipeline.redshift_api_target if pipeline else "cluster"
        self.pipeline = pipeline

    @property
    def id(self) -> str:
        return self.node.id


class GlueCrawler(Kind):
    """Catalogue the raw files of the listed entities; stop on an incompatible schema change."""

    name = "glue_crawler"

    def resource(self, prefix: str) -> str:
        return resource_name(prefix, self.node.crawler)

    @property
    def entities(self) -> list[str]:
        return list(self.node.entities)

    def declared_formats(self) -> dict[str, dict[str, str]]:
        """Entity -> the formats the pipeline file declares for it (``ingest.entities``)."""
        if self.pipeline is None:
            return {}
        return {e: self.pipeline.ingest.for_entity(e).declared_formats() for e in self.entities}


class GlueJob(Kind):
    """Run a script of include/glue with the run's arguments and the node's own."""

    name = "glue_job"

    def resource(self, prefix: str) -> str:
        return resource_name(prefix, self.node.id)

    @property
    def script(self) -> str:
        return self.node.script

    def arguments(self) -> dict[str, Any]:
        """Job arguments in Glue's form (``--name``), run-time values as :class:`RunValue`.

        A job that cleans an entity (an ``entity`` argument) also receives ``--formats``: what the
        pipeline file declares of that entity's formats (``ingest.entities``), as JSON, ``{}``
        when nothing is declared and the job detects everything itself, and ``--allow_empty``,
        the run's :data:`ALLOW_EMPTY` ("true" or "false")."""
        own = {f"--{k}": v for k, v in self.node.arguments.items()}
        if "entity" in self.node.arguments:
            ingest = (
                self.pipeline.ingest.for_entity(self.node.arguments["entity"])
                if (self.pipeline)
                else None
            )
            declared = ingest.declared_formats() if ingest else {}
            own["--formats"] = json.dumps(declared, sort_keys=True)
            own[f"--{ALLOW_EMPTY.name}"] = ALLOW_EMPTY
        return {**GLUE_RUN_ARGUMENTS, **own}


class Load(Kind):
    """Replace a staging table with one date's processed Parquet, reconciled, in one
    transaction (see dwh.loads)."""

    name = "load"

    @property
    def entity(self) -> str:
        return self.node.entity

    @property
    def table(self) -> str:
        return self.node.table

    def templates(self, include_dir: Path | None = None) -> list[str]:
        from dwh.loads import redshift_load_statements

        return redshift_load_statements(self.entity, self.table)

    def source(self) -> str:
        return f"{self.id} (load {self.entity})"


class Sql(Kind):
    """Run the node's SQL files, in order, as one transaction."""

    name = "sql"

    @property
    def files(self) -> list[str]:
        return list(self.node.sql)

    def templates(self, include_dir: Path | None = None) -> list[str]:
        return sql_templates(self.files, include_dir)

    def source(self) -> str:
        return f"{self.id} ({', '.join(self.files)})"


class Quality(Kind):
    """Record every check in ops.quality_results (one transaction), then fail when the gate
    query returns a row: one per blocking check that failed in this run."""

    name = "quality"

    def record_templates(self) -> list[str]:
        from dwh.quality import check_statements

        return check_statements(self.id, self.node.checks)

    def gate_template(self) -> str:
        from dwh.quality import gate_sql

        return gate_sql(self.id)


class Notify(Kind):
    """Send the node's message on exactly the channels it lists."""

    name = "notify"

    @property
    def channels(self) -> list[str]:
        return list(self.node.channels)

    @property
    def message(self) -> str:
        return self.node.message

    @property
    def subject(self) -> str:
        return self.node.subject or self.node.id


KINDS: dict[str, type[Kind]] = {
    k.name: k for k in (GlueCrawler, GlueJob, Load, Sql, Quality, Notify)
}


def define(node, pipeline=None) -> Kind:
    """The definition of one node of the graph (of ``pipeline``, whose settings it may use)."""
    return KINDS[node.kind](node, pipeline)
