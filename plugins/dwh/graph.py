"""The task graph: the typed model of a pipeline file and its loader.

A pipeline is described once in ``include/pipelines/<name>.yaml``. This module turns that file into
a validated :class:`Pipeline` whose nodes the Airflow and Step Functions compilers translate. Every
validation error names the file, the node and the field, and one broken file never stops the other
pipelines from loading (:func:`load_all` returns the errors beside the good pipelines).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dwh import config, for_each_entity, kinds

NODE_ID = r"^[a-z][a-z0-9_]{0,62}$"
ALERT_CHANNELS = kinds.CHANNELS
Channel = Literal["sns", "slack"]  # kinds.CHANNELS; who delivers which: kinds.DELIVERED_BY
ALLOWED_TAGS = frozenset(
    {"ecommerce", "warehouse", "maintenance", "marts", "glue", "redshift", "fixture", "daily"}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Retries(_Strict):
    count: int = Field(2, ge=0, le=10)
    delay_seconds: int = Field(60, ge=0)
    exponential_backoff: bool = True
    max_delay_seconds: int = Field(900, ge=1)
    backoff_rate: float = Field(2.0, ge=1.0)

    @model_validator(mode="after")
    def _max_covers_delay(self) -> Retries:
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
    entities: list[str] = Field(min_length=1)


class GlueJobNode(_NodeBase):
    kind: Literal["glue_job"]
    script: str
    arguments: dict[str, str] = {}
    worker_type: Literal["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"] = "G.1X"
    number_of_workers: int = Field(2, ge=2, le=100)

    @field_validator("arguments")
    @classmethod
    def _not_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        taken = sorted(
            k.removeprefix("--")
            for k in value
            if k.removeprefix("--") in kinds.RESERVED_GLUE_ARGUMENTS
        )
        if taken:
            raise ValueError(
                f"{', '.join(taken)}: reserved Glue argument(s), set by the run itself"
            )
        return value


class LoadNode(_NodeBase):
    kind: Literal["load"]
    entity: str
    table: str = Field(pattern=r"^staging\.[a-z][a-z0-9_]*$")


class SqlNode(_NodeBase):
    kind: Literal["sql"]
    # One file or a list of files; the schema says so, the model always holds a list.
    sql: Annotated[
        list[str],
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
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
    table: str | None = Field(None, pattern=r"^[a-z_]+\.[a-z][a-z0-9_]*$")
    column: str | None = None
    columns: list[str] = []
    values: list[str] = []
    to_table: str | None = None
    to_column: str | None = None
    max_rate: float = Field(0.0, ge=0.0, le=1.0)
    max_change: float | None = Field(None, ge=0.0)
    max_age_days: int | None = Field(None, ge=0)
    entity: str | None = None
    sql: str | None = None

    @model_validator(mode="after")
    def _required_fields(self) -> Check:
        missing = [f for f in _CHECK_REQUIRES[self.type] if getattr(self, f) in (None, [], "")]
        if missing:
            raise ValueError(f"check type {self.type!r} needs {', '.join(missing)}")
        return self


class QualityNode(_NodeBase):
    kind: Literal["quality"]
    checks: list[Check] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> QualityNode:
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


def _location(raw: dict, loc: tuple, error_type: str = "") -> str:
    """Turn a pydantic error location into 'node <id> field <a.b>' using the raw document."""
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        nodes = raw.get("nodes") or []
        node = nodes[loc[1]] if loc[1] < len(nodes) and isinstance(nodes[loc[1]], dict) else {}
        node_id = node.get("id", f"#{loc[1]}")
        # Drop the discriminator tag pydantic inserts (e.g. 'glue_job') from the field path.
        rest = [str(p) for p in loc[2:] if p not in NODE_KINDS]
        if not rest and error_type in ("union_tag_invalid", "union_tag_not_found"):
            rest = ["kind"]
        field = ".".join(rest) or "(node)"
        return f"node {node_id!r} field {field!r}"
    return f"field {'.'.join(str(p) for p in loc) or '(file)'!r}"


def _semantic_problems(p: Pipeline, include_dir: Path) -> list[str]:
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
            for rel in n.sql:
                if not (include_dir / "sql" / rel).is_file():
                    problems.append(
                        f"node {n.id!r} field 'sql': missing SQL file include/sql/{rel}"
                    )
        if isinstance(n, NotifyNode):
            for runtime, missing in kinds.undeliverable_channels(n.channels).items():
                problems.append(
                    f"node {n.id!r} field 'channels': {', '.join(missing)} cannot be delivered "
                    f"by the {runtime} runtime (it delivers {', '.join(kinds.DELIVERED_BY[runtime])})"
                )
        if isinstance(n, GlueJobNode) and not (include_dir / "glue" / n.script).is_file():
            problems.append(
                f"node {n.id!r} field 'script': missing Glue script include/glue/{n.script}"
            )
    from olist_contract import ENTITIES

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


def load_pipeline(path: Path, include_dir: Path | None = None) -> Pipeline:
    """Load and validate one pipeline file; raise :class:`PipelineError` on any problem."""
    include_dir = include_dir or config.INCLUDE_DIR
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PipelineError(path, [f"field '(file)': not valid YAML: {exc}"]) from None
    if not isinstance(raw, dict):
        raise PipelineError(path, ["field '(file)': expected a mapping at the top level"])
    try:
        raw = for_each_entity.expand(raw)  # per-entity templates become ordinary nodes
    except for_each_entity.TemplateError as exc:
        raise PipelineError(path, exc.problems) from None
    try:
        pipeline = Pipeline.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_location(raw, e['loc'], e['type'])}: {e['msg']}" for e in exc.errors()]
        raise PipelineError(path, problems) from None
    if pipeline.pipeline != path.stem:
        raise PipelineError(
            path,
            [f"field 'pipeline': {pipeline.pipeline!r} must equal the file stem {path.stem!r}"],
        )
    problems = _semantic_problems(pipeline, include_dir)
    if problems:
        raise PipelineError(path, problems)
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
