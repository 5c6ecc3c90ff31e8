"""The task graph: the typed model of a pipeline file and its loader.

A pipeline is described once in ``include/pipelines/<name>.yaml``. This module turns that file into
a validated :class:`Pipeline` whose nodes the Airflow and Step Functions compilers translate. Every
validation error names the file, the node and the field, and one broken file never stops the other
pipelines from loading (:func:`load_all` returns the errors beside the good pipelines).
"""

# (no "from __future__ import annotations": pydantic would compile every annotation string)

import datetime as dt
import hashlib
import os
import pickle
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Annotated, Literal

import pydantic
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dwh import config, for_each_entity, kinds

NODE_ID = r"^[a-z][a-z0-9_]{0,62}$"
# What the check SQL and the Glue arguments interpolate must be what it claims to be.
TABLE_NAME = r"^[a-z_]+\.[a-z][a-z0-9_]*$"
SQL_IDENTIFIER = r"^[a-z_][a-z0-9_]{0,126}$"
ENTITY_NAME = r"^[a-z][a-z0-9_]*$"
ARGUMENT_NAME = r"^[a-z][a-z0-9_]*$"
# A path below a folder: segments that never start with a dot (no '..') joined by '/'.
_SEGMENTS = r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*"
# Jinja's delimiters: statements are templates, so no value of a pipeline file may carry them
# (a notify message only {{ ds }} and {{ run_id }}, see _template_syntax).
TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")
MESSAGE_PLACEHOLDER = re.compile(r"\{\{ *(ds|run_id) *\}\}")
ALERT_CHANNELS = kinds.CHANNELS
Channel = Literal["sns", "slack"]  # kinds.CHANNELS; who delivers which: kinds.DELIVERED_BY
ALLOWED_TAGS = frozenset(
    {"ecommerce", "warehouse", "maintenance", "marts", "glue", "redshift", "fixture", "daily"}
)


def _shaped(pattern: str, what: str):
    """A string type that must match ``pattern`` (published in the JSON Schema)."""
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return Annotated[
        str, AfterValidator(check), WithJsonSchema({"type": "string", "pattern": pattern})
    ]


TableName = _shaped(TABLE_NAME, "a table name written schema.table")
ColumnName = _shaped(SQL_IDENTIFIER, "a column name (a plain SQL identifier: a-z, 0-9, _)")
EntityName = _shaped(ENTITY_NAME, "an entity name (a-z, 0-9, _)")


def _inside(folder: str, suffix: str):
    """A path of a ``suffix`` file relative to ``folder``: never absolute, never through '..'
    (a symlink out of the folder is refused where the file is looked up: _leaves)."""
    pattern = rf"^{_SEGMENTS}{re.escape(suffix)}$"

    def check(value: str) -> str:
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
            raise ValueError(f"{value!r} is an absolute path; write it relative to {folder}")
        if ".." in re.split(r"[/\\]", value):
            raise ValueError(f"{value!r} leaves {folder} through '..'")
        if not re.fullmatch(pattern, value):
            raise ValueError(
                f"{value!r} is not a path of a {suffix} file below {folder} "
                "(segments of letters, digits, _ . - joined by /)"
            )
        return value

    return Annotated[
        str, AfterValidator(check), WithJsonSchema({"type": "string", "pattern": pattern})
    ]


ScriptPath = _inside("include/glue", ".py")
SqlPath = _inside("include/sql", ".sql")
SQL_PATH = rf"^{_SEGMENTS}\.sql$"  # SqlPath's pattern, for the schema of one-or-many files


def _argument_name(value: str) -> str:
    if not re.fullmatch(ARGUMENT_NAME, value):
        raise ValueError(
            f"{value!r}: a node's argument names are a-z, 0-9 and _, written without '--'; "
            "Glue's own settings (--TempDir, --extra-*, --enable-*, --job-*, ...) are the "
            "job definition's, not the node's"
        )
    if value in kinds.RESERVED_GLUE_ARGUMENTS:
        raise ValueError(f"{value!r}: reserved Glue argument, set by the run itself")
    return value


ArgumentName = Annotated[
    str,
    AfterValidator(_argument_name),
    WithJsonSchema({"type": "string", "pattern": ARGUMENT_NAME}),
]


def _free_sql_problem(sql: str) -> str | None:
    """Why a check's own query cannot be embedded as one scalar subquery (None when it can).

    The query is free SQL by design, but it is spliced into the gate's INSERT: one SELECT (or
    WITH) query, no ';', no comment (it would swallow the rest of the statement), no backslash
    (Redshift escapes with it inside literals) and balanced parentheses outside literals."""
    text = sql.strip().rstrip(";").strip()
    if not re.match(r"(?i)^(select|with)\b", text):
        return "a check's sql is one query starting with select or with"
    if "\\" in text:
        return "a check's sql may not contain a backslash"
    depth, quote, i = 0, None, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif text.startswith(("--", "/*"), i):
            return "a check's sql may not contain a comment"
        elif ch == ";":
            return "a check's sql is one query: ';' inside it would start another statement"
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return "a check's sql closes a parenthesis it did not open"
        i += 1
    if quote:
        return "a check's sql leaves a quoted literal open"
    if depth:
        return "a check's sql leaves a parenthesis open"
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Retries(_Strict):
    count: int = Field(2, ge=0, le=10)
    delay_seconds: int = Field(60, ge=0)
    exponential_backoff: bool = True
    max_delay_seconds: int = Field(900, ge=1)
    backoff_rate: float = Field(2.0, ge=1.0)

    @model_validator(mode="after")
    def _max_covers_delay(self) -> "Retries":
        if self.max_delay_seconds < self.delay_seconds:
            raise ValueError("max_delay_seconds must be >= delay_seconds")
        return self


def _no_outbox(value):
    if isinstance(value, list) and "outbox" in value:
        raise ValueError(
            "'outbox' is not a channel: use sns (the local target delivers it to its outbox)"
        )
    return value


class Alerts(_Strict):
    on_failure: list[Channel] = ["sns", "slack"]
    on_retry: list[Channel] = []

    _outbox = field_validator("on_failure", "on_retry", mode="before")(_no_outbox)


class Defaults(_Strict):
    retries: Retries = Retries()
    timeout_minutes: int = Field(60, ge=1, le=24 * 60)
    alerts: Alerts = Alerts()


class _NodeBase(_Strict):
    id: str = Field(pattern=NODE_ID)
    doc: str | None = None
    depends_on: list[str] = []
    retries: Retries | None = None
    timeout_minutes: int | None = Field(None, ge=1, le=24 * 60)
    alerts: Alerts | None = None


class GlueCrawlerNode(_NodeBase):
    kind: Literal["glue_crawler"]
    crawler: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    entities: list[EntityName] = Field(min_length=1)


class GlueJobNode(_NodeBase):
    kind: Literal["glue_job"]
    script: ScriptPath
    arguments: dict[ArgumentName, str] = Field(
        {}, json_schema_extra={"additionalProperties": False}
    )
    worker_type: Literal["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"] = "G.1X"
    number_of_workers: int = Field(2, ge=2, le=100)


class LoadNode(_NodeBase):
    kind: Literal["load"]
    entity: EntityName
    table: str = Field(pattern=r"^staging\.[a-z][a-z0-9_]*$")


class SqlNode(_NodeBase):
    kind: Literal["sql"]
    # One file or a list of files; the schema says so, the model always holds a list.
    sql: Annotated[
        list[SqlPath],
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "pattern": SQL_PATH},
                    {
                        "type": "array",
                        "items": {"type": "string", "pattern": SQL_PATH},
                        "minItems": 1,
                    },
                ]
            }
        ),
    ] = Field(min_length=1)

    @field_validator("sql", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value


CheckType = Literal[
    "not_null",
    "unique",
    "accepted_values",
    "relationship",
    "row_count_change",
    "freshness",
    "reconciliation",
    "quarantine_rate",
    "rows_arrived",
    "sql",
]

# Which fields each check type needs; the rest stay optional.
_CHECK_REQUIRES: dict[str, tuple[str, ...]] = {
    "not_null": ("table", "column"),
    "unique": ("table", "columns"),
    "accepted_values": ("table", "column", "values"),
    "relationship": ("table", "column", "to_table", "to_column"),
    "row_count_change": ("table", "max_change"),
    "freshness": ("table", "column", "max_age_days"),
    "reconciliation": ("entity",),
    "quarantine_rate": ("entity",),
    "rows_arrived": ("entity",),
    "sql": ("sql",),
}
# Check types whose max_rate, when the check does not set it, is the pipeline's ingest setting.
_INGEST_THRESHOLDS = {"quarantine_rate": "max_quarantine_rate", "rows_arrived": "max_row_drop"}


class Check(_Strict):
    name: str = Field(pattern=NODE_ID)
    type: CheckType
    severity: Literal["block", "warn"] = "block"
    table: TableName | None = None
    column: ColumnName | None = None
    columns: list[ColumnName] = []
    values: list[str] = []  # any text: each becomes one quoted literal (dwh.quality._lit)
    to_table: TableName | None = None
    to_column: ColumnName | None = None
    max_rate: float = Field(0.0, ge=0.0, le=1.0)
    max_change: float | None = Field(None, ge=0.0)
    max_age_days: int | None = Field(None, ge=0)
    entity: EntityName | None = None
    sql: str | None = None

    @field_validator("sql")
    @classmethod
    def _one_query(cls, value: str | None) -> str | None:
        problem = None if value is None else _free_sql_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _required_fields(self) -> "Check":
        missing = [f for f in _CHECK_REQUIRES[self.type] if getattr(self, f) in (None, [], "")]
        if missing:
            raise ValueError(f"check type {self.type!r} needs {', '.join(missing)}")
        return self


class QualityNode(_NodeBase):
    kind: Literal["quality"]
    checks: list[Check] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> "QualityNode":
        names = [c.name for c in self.checks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate check name(s): {', '.join(dupes)}")
        return self


class NotifyNode(_NodeBase):
    kind: Literal["notify"]
    message: str
    subject: str | None = None
    channels: list[Channel] = Field(["sns"], min_length=1)

    _outbox = field_validator("channels", mode="before")(_no_outbox)


NODE_CLASSES = (GlueCrawlerNode, GlueJobNode, LoadNode, SqlNode, QualityNode, NotifyNode)
Node = Annotated[
    GlueCrawlerNode | GlueJobNode | LoadNode | SqlNode | QualityNode | NotifyNode,
    Field(discriminator="kind"),
]
# The kinds a pipeline file may use; what each means is defined in dwh.kinds.
NODE_KINDS = tuple(c.model_fields["kind"].annotation.__args__[0] for c in NODE_CLASSES)

_CRON_FIELD = r"[\d*/,\-?LW#A-Z]+"
_AIRFLOW_CRON = re.compile(rf"^{_CRON_FIELD}( {_CRON_FIELD}){{4}}$")
_PRESETS = {"@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly"}
_EVENTBRIDGE = re.compile(rf"^(cron\({_CRON_FIELD}( {_CRON_FIELD}){{5}}\)|rate\(\d+ \w+\))$")


class EntityIngest(_Strict):
    """What the pipeline file declares of one entity's extracts (each field optional)."""

    timestamp_format: str | None = Field(
        None,
        min_length=1,
        description="Spark datetime pattern of the entity's timestamps, e.g. 'd/M/yyyy H:mm', "
        "when detection cannot decide day/month order",
    )
    delimiter: Literal[",", ";", "\t", "|"] | None = None
    encoding: Literal["UTF-8", "UTF-16", "windows-1252", "ISO-8859-1"] | None = None
    max_quarantine_rate: float | None = Field(None, ge=0.0, le=1.0)
    max_row_drop: float | None = Field(None, ge=0.0, le=1.0)

    def declared_formats(self) -> dict[str, str]:
        fields = ("timestamp_format", "delimiter", "encoding")
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not None}


class Ingest(_Strict):
    """How much of an entity's extract may be rejected or missing, and declared formats."""

    max_quarantine_rate: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="share of an entity's non-blank rows the Glue job may quarantine before the "
        "quarantine_rate check fails the gate",
    )
    max_row_drop: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="share of the entity's last load's rows that may be missing from today's "
        "file before the rows_arrived check warns",
    )
    entities: dict[str, EntityIngest] = {}

    def for_entity(self, entity: str) -> EntityIngest:
        return self.entities.get(entity, EntityIngest())

    def threshold(self, setting: str, entity: str) -> float:
        own = getattr(self.for_entity(entity), setting)
        return getattr(self, setting) if own is None else own


def _with_threshold(check, ingest: Ingest):
    if (
        isinstance(check, dict)
        and check.get("type") in _INGEST_THRESHOLDS
        and "max_rate" not in check
        and isinstance(check.get("entity"), str)
    ):
        return {
            **check,
            "max_rate": ingest.threshold(_INGEST_THRESHOLDS[check["type"]], check["entity"]),
        }
    return check


class Pipeline(_Strict):
    pipeline: str = Field(pattern=NODE_ID)
    description: str
    doc_md: str
    owner: str
    tags: list[str] = Field(min_length=1)
    schedule: str | None
    stepfunctions_schedule: str | None = None
    start_date: dt.date
    catchup: bool = False
    max_active_runs: int = Field(1, ge=1)
    redshift_api_target: Literal["cluster", "workgroup"] = "cluster"
    # The pipeline runs on the warehouse another pipeline creates (its DDL): the tables that
    # pipeline creates exist before this one starts (see dwh_tools.lineage).
    assumes_warehouse: str | None = Field(None, pattern=NODE_ID)
    defaults: Defaults = Defaults()
    ingest: Ingest = Ingest()
    nodes: list[Node] = Field(min_length=1)
    # The folder of the file it was loaded from (load_pipeline); None for one built in memory.
    _source_dir: Path | None = PrivateAttr(default=None)

    @property
    def source_dir(self) -> Path | None:
        return self._source_dir

    @model_validator(mode="before")
    @classmethod
    def _ingest_thresholds(cls, raw):
        """A quarantine_rate or rows_arrived check that sets no max_rate gets its entity's
        threshold from ``ingest`` (an invalid ingest block is reported by its own field)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("nodes"), list):
            return raw
        try:
            ingest = Ingest.model_validate(raw.get("ingest") or {})
        except ValueError:
            return raw
        nodes = []
        for n in raw["nodes"]:
            if isinstance(n, dict) and isinstance(n.get("checks"), list):
                n = {**n, "checks": [_with_threshold(c, ingest) for c in n["checks"]]}
            nodes.append(n)
        return {**raw, "nodes": nodes}

    @field_validator("schedule")
    @classmethod
    def _airflow_schedule(cls, value: str | None) -> str | None:
        if value is None or value in _PRESETS:
            return value
        if not _AIRFLOW_CRON.match(value):
            raise ValueError(f"{value!r} is not a 5-field cron expression or an Airflow preset")
        from croniter import croniter  # Airflow dependency; only imported when validating

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid cron expression")
        return value

    @field_validator("stepfunctions_schedule")
    @classmethod
    def _eventbridge_schedule(cls, value: str | None) -> str | None:
        if value is not None and not _EVENTBRIDGE.match(value):
            raise ValueError(f"{value!r} is not an EventBridge cron(...) or rate(...) expression")
        return value

    @field_validator("tags")
    @classmethod
    def _allowed_tags(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - ALLOWED_TAGS)
        if unknown:
            raise ValueError(
                f"unknown tag(s) {', '.join(unknown)}; allowed: {', '.join(sorted(ALLOWED_TAGS))}"
            )
        return value

    # Effective per-node settings: the node's own, else the pipeline defaults.
    def retries_for(self, node: _NodeBase) -> Retries:
        return node.retries or self.defaults.retries

    def timeout_for(self, node: _NodeBase) -> int:
        return node.timeout_minutes or self.defaults.timeout_minutes

    def alerts_for(self, node: _NodeBase) -> Alerts:
        return node.alerts or self.defaults.alerts

    @property
    def node_map(self) -> dict[str, _NodeBase]:
        return {n.id: n for n in self.nodes}

    def upstream(self) -> dict[str, set[str]]:
        return {n.id: set(n.depends_on) for n in self.nodes}

    def topological_order(self) -> list[str]:
        return list(TopologicalSorter(self.upstream()).static_order())

    def sql_files(self, prefix: str = "") -> list[str]:
        """The SQL files the sql nodes run (paths under include/sql starting with ``prefix``),
        in an order the task graph runs them."""
        nodes = self.node_map
        return [
            f
            for node_id in self.topological_order()
            if isinstance(nodes[node_id], SqlNode)
            for f in nodes[node_id].sql
            if f.startswith(prefix)
        ]

    def edges(self) -> set[tuple[str, str]]:
        return {(dep, n.id) for n in self.nodes for dep in n.depends_on}


class PipelineError(Exception):
    """A pipeline file is invalid; the message names the file, the node and the field."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _location(raw: dict, loc: tuple, error_type: str = "", tagged: bool = True) -> str:
    """Turn a pydantic error location (``tagged``: with the node's kind after its index) or a
    plain path of the raw document into 'node <id> field <a.b>'."""
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        nodes = raw.get("nodes") or []
        node = nodes[loc[1]] if loc[1] < len(nodes) and isinstance(nodes[loc[1]], dict) else {}
        node_id = node.get("id", f"#{loc[1]}")
        # Drop the discriminator tag pydantic inserts (e.g. 'glue_job') from the field path,
        # and the marker of a mapping's key (the key itself names the field).
        rest = list(loc[2:])
        if tagged and rest and rest[0] in NODE_KINDS:
            rest = rest[1:]
        rest = [str(p) for p in rest if p != "[key]"]
        if not rest and error_type in ("union_tag_invalid", "union_tag_not_found"):
            rest = ["kind"]
        field = ".".join(rest) or "(node)"
        return f"node {node_id!r} field {field!r}"
    return f"field {'.'.join(str(p) for p in loc) or '(file)'!r}"


def _leaves(folder: Path, rel: str) -> bool:
    """Whether include/<folder>/<rel> resolves (symlinks followed) outside the folder."""
    return not (folder / rel).resolve().is_relative_to(folder.resolve())


def _template_syntax(raw: dict) -> list[str]:
    """Every string of the (expanded) document carrying Jinja syntax, named by node and field.

    The check SQL, the Glue arguments and the notify messages are rendered as templates, so a
    value with ``{{``, ``{%`` or ``{#`` would run as Jinja; only a notify message or subject may
    use the templating contract's ``{{ ds }}`` and ``{{ run_id }}``."""
    problems: list[str] = []

    def message_field(loc: tuple) -> bool:
        if len(loc) != 3 or loc[0] != "nodes" or loc[2] not in ("message", "subject"):
            return False
        node = raw["nodes"][loc[1]]
        return isinstance(node, dict) and node.get("kind") == "notify"

    def walk(value, loc: tuple) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(k, (*loc, k))
                walk(v, (*loc, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*loc, i))
        elif isinstance(value, str):
            allowed = message_field(loc)
            text = MESSAGE_PLACEHOLDER.sub("", value) if allowed else value
            if TEMPLATE_SYNTAX.search(text):
                only = "; a message may use only {{ ds }} and {{ run_id }}" if allowed else ""
                problems.append(
                    f"{_location(raw, loc, tagged=False)}: template syntax ({{{{, {{% or {{#}}) is not "
                    f"allowed in a pipeline file{only}"
                )

    walk(raw, ())
    return list(dict.fromkeys(problems))


def _semantic_problems(p: Pipeline, include_dir: Path) -> list[str]:
    from olist_contract import ENTITIES

    problems: list[str] = []
    seen: set[str] = set()
    for n in p.nodes:
        if n.id in seen:
            problems.append(f"node {n.id!r} field 'id': duplicate node id")
        seen.add(n.id)
    ids = {n.id for n in p.nodes}
    for n in p.nodes:
        for dep in n.depends_on:
            if dep not in ids:
                problems.append(f"node {n.id!r} field 'depends_on': unknown dependency {dep!r}")
            if dep == n.id:
                problems.append(f"node {n.id!r} field 'depends_on': depends on itself")
        if isinstance(n, SqlNode):
            for k, rel in enumerate(n.sql):
                if _leaves(include_dir / "sql", rel):
                    problems.append(
                        f"node {n.id!r} field 'sql.{k}': include/sql/{rel} leaves include/sql "
                        "(a symlink)"
                    )
                elif not (include_dir / "sql" / rel).is_file():
                    problems.append(
                        f"node {n.id!r} field 'sql': missing SQL file include/sql/{rel}"
                    )
        if isinstance(n, NotifyNode):
            for runtime, missing in kinds.undeliverable_channels(n.channels).items():
                problems.append(
                    f"node {n.id!r} field 'channels': {', '.join(missing)} cannot be delivered "
                    f"by the {runtime} runtime (it delivers {', '.join(kinds.DELIVERED_BY[runtime])})"
                )
        if isinstance(n, GlueJobNode):
            if _leaves(include_dir / "glue", n.script):
                problems.append(
                    f"node {n.id!r} field 'script': include/glue/{n.script} leaves include/glue "
                    "(a symlink)"
                )
            elif not (include_dir / "glue" / n.script).is_file():
                problems.append(
                    f"node {n.id!r} field 'script': missing Glue script include/glue/{n.script}"
                )
        named = []  # (field, entity) pairs naming a contract entity
        if isinstance(n, GlueJobNode) and "entity" in n.arguments:
            named.append(("arguments.entity", n.arguments["entity"]))
        if isinstance(n, LoadNode):
            named.append(("entity", n.entity))
        if isinstance(n, QualityNode):
            named += [(f"checks.{k}.entity", c.entity) for k, c in enumerate(n.checks) if c.entity]
        for field, entity in named:
            if entity not in ENTITIES:
                problems.append(
                    f"node {n.id!r} field {field!r}: unknown entity {entity!r} "
                    f"(the contract has: {', '.join(ENTITIES)})"
                )

    for name in p.ingest.entities:
        if name not in ENTITIES:
            problems.append(
                f"field 'ingest' entities: unknown entity {name!r} "
                f"(the contract has: {', '.join(ENTITIES)})"
            )
    if not problems:
        try:
            p.topological_order()
        except CycleError as exc:
            cycle = " -> ".join(exc.args[1])
            problems.append(f"node {exc.args[1][0]!r} field 'depends_on': cycle {cycle}")
    return problems


def _validate(path: Path, text: str, include_dir: Path) -> "Pipeline":
    """Parse and validate a pipeline file's text; raise :class:`PipelineError` on any problem."""
    try:
        raw = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise PipelineError(path, [f"field '(file)': not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise PipelineError(path, ["field '(file)': expected a mapping at the top level"])
    try:
        raw = for_each_entity.expand(raw)  # per-entity templates become ordinary nodes
    except for_each_entity.TemplateError as exc:
        raise PipelineError(path, exc.problems) from None
    templated = _template_syntax(raw)
    try:
        pipeline = Pipeline.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_location(raw, e['loc'], e['type'])}: {e['msg']}" for e in exc.errors()]
        # A field refused for its template syntax is not reported a second time.
        named = {t.split(": ", 1)[0] for t in templated}
        problems = templated + [q for q in problems if q.split(": ", 1)[0] not in named]
        raise PipelineError(path, problems) from None
    if templated:
        raise PipelineError(path, templated)
    if pipeline.pipeline != path.stem:
        raise PipelineError(
            path,
            [f"field 'pipeline': {pipeline.pipeline!r} must equal the file stem {path.stem!r}"],
        )
    return pipeline


# libyaml's parser where PyYAML was built with it (same safe constructor, several times faster).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Validated pipelines by digest of the file's content (see _cache_key), in this process and in a
# small on-disk cache, so that parsing a DAG validates a pipeline file once per content.
CACHE_DIR_ENV = "DWH_CACHE_DIR"  # the on-disk cache's folder; empty: no on-disk cache
_VALIDATED: dict[str, "Pipeline"] = {}
_CODE_DIGEST: list[str] = []


def _code_digest() -> str:
    """Digest of the code that decides validation, so a changed validator never reads an entry
    of an older one."""
    if not _CODE_DIGEST:
        h = hashlib.sha256(f"{sys.version}|{pydantic.VERSION}|{yaml.__version__}".encode())
        for module in (sys.modules[__name__], for_each_entity, kinds):
            h.update(Path(module.__file__).read_bytes())
        _CODE_DIGEST.append(h.hexdigest())
    return _CODE_DIGEST[0]


def _cache_key(path: Path, data: bytes, include_dir: Path) -> str:
    h = hashlib.sha256(_code_digest().encode())
    for part in (str(path.resolve()), str(Path(include_dir).resolve())):
        h.update(part.encode() + b"\0")
    h.update(data)
    return h.hexdigest()


def cache_dir() -> Path | None:
    """The on-disk cache's folder: $DWH_CACHE_DIR, else $XDG_CACHE_HOME/dwh (~/.cache/dwh)."""
    value = os.environ.get(CACHE_DIR_ENV)
    if value is not None:
        return Path(value) / "pipelines" if value else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dwh" / "pipelines"


def _private(folder: Path) -> bool:
    """Whether ``folder`` is this user's alone (a pickle is only read from such a folder)."""
    st = folder.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _cached(key: str) -> "Pipeline | None":
    folder = cache_dir()
    try:
        if folder is None or not folder.is_dir() or not _private(folder):
            return None
        pipeline = pickle.loads((folder / f"{key}.pickle").read_bytes())
    except Exception:  # noqa: BLE001 - a missing, partial or foreign entry: validate again
        return None
    return pipeline if isinstance(pipeline, Pipeline) else None


def _store(key: str, pipeline: "Pipeline") -> None:
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _private(folder):
            return
        partial = folder / f"{key}.{os.getpid()}.tmp"
        partial.write_bytes(pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(folder / f"{key}.pickle")  # atomic: a parallel parse sees all or nothing
    except OSError:
        pass  # a read-only home: every parse validates, as without a cache


def load_pipeline(path: Path, include_dir: Path | None = None) -> "Pipeline":
    """Load and validate one pipeline file; raise :class:`PipelineError` on any problem.

    A file's content is validated once: the result is kept by digest of the content (and of
    the validating code), in memory and on disk (:func:`cache_dir`). An edited file has another
    digest and is validated again; a file that fails validation is never cached. What the
    content alone does not decide (the SQL and Glue files it names exist) is checked every time.
    """
    include_dir = include_dir or config.INCLUDE_DIR
    data = path.read_bytes()
    key = _cache_key(path, data, include_dir)
    pipeline = _VALIDATED.get(key) or _cached(key)
    if pipeline is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PipelineError(path, [f"field '(file)': not UTF-8 text: {exc}"]) from None
        pipeline = _validate(path, text, include_dir)
        _store(key, pipeline)
    problems = _semantic_problems(pipeline, include_dir)
    if problems:
        raise PipelineError(path, problems)
    _VALIDATED[key] = pipeline
    pipeline._source_dir = path.parent
    return pipeline


@dataclass
class LoadResult:
    pipelines: dict[str, Pipeline]
    errors: dict[Path, PipelineError]


def pipeline_files(directory: Path | None = None) -> list[Path]:
    return sorted((directory or config.PIPELINES_DIR).glob("*.yaml"))


def load_all(paths: Iterable[Path] | None = None, include_dir: Path | None = None) -> LoadResult:
    """Load every pipeline file; errors are collected per file so good pipelines still load."""
    result = LoadResult({}, {})
    for path in paths if paths is not None else pipeline_files():
        try:
            p = load_pipeline(path, include_dir)
        except PipelineError as exc:
            result.errors[path] = exc
        else:
            result.pipelines[p.pipeline] = p
    return result


def json_schema() -> dict:
    """The published JSON Schema of a pipeline file, exported from the model."""
    schema = Pipeline.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "dwh pipeline"
    return for_each_entity.publish(schema, NODE_KINDS)
