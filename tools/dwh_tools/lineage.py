"""SQL dependencies: every table a node uses is there, and filled, before the node runs.

``dwh validate`` reads what each node does to which table and checks it against ``depends_on``.
The statements are the ones the node runs: a ``sql`` node's files rendered with the templating
contract (:data:`dwh.sql.SAMPLE_CONTEXT`), a ``load`` node's
:func:`dwh.loads.redshift_load_statements`, a ``quality`` node's
:func:`dwh.quality.check_statements` and gate. sqlglot (Redshift dialect) tells, per statement,

- the table it **creates** (CREATE TABLE / VIEW) or **changes** (INSERT, UPDATE, DELETE, MERGE, COPY,
  TRUNCATE, DROP): its target. Creating or changing is *writing*. ANALYZE and VACUUM <table>
  change no rows but need the table: they count as changes that write nothing;
- the tables it **reads**: everything else it names (FROM, JOIN, subqueries, USING, the query of
  an INSERT or a CREATE ... AS). CTE names and subquery aliases are not tables, and a FOREIGN KEY's
  table is not read (Redshift never enforces keys).

A node's own tables are not dependencies: once one of its statements creates or writes a table
(a temp table, or the dimension a delete-insert replaces), its later statements, and the rest of
that same statement (``insert ... where not exists (select ... from <target>)``), use the node's
own table. Temp tables are seen by their node only. Tables of an external schema (``create
external schema``, Spectrum over the Glue catalog) and system tables (``pg_*``, ``stl_*``,
``svv_*``, ``information_schema`` ...) are not graph dependencies.

The rules, for each table a node uses that is not its own:

1. **A read needs every writer upstream.** Every other node of the pipeline that creates or
   writes the table must be upstream of the reader (transitively). Several writers are common: the
   DDL creates ``dw.dim_customer``, ``build_reference_dims`` adds its unknown member and
   ``build_dim_customer`` its SCD2 versions; a fact reading it needs all three done. "One writer
   upstream" would not do: the DDL is upstream of nearly everything, so a reader that lost the
   edge to its load would still pass while racing it. A writer downstream of the reader fails as
   well (the reader would see the previous run's rows). The committed pipelines satisfy the rule
   as they are. A table no node writes must be created by the warehouse the pipeline assumes.
2. **A change needs the table created upstream.** A node that changes a table it did not create
   needs the node creating it (the DDL) upstream, or the warehouse the pipeline assumes: the first
   run of a new environment would otherwise write before the table exists.

``assumes_warehouse: <pipeline>`` in a pipeline file says that it runs on the warehouse the named
pipeline creates: every table that pipeline creates exists before this one starts
(``warehouse_maintenance`` and the fixture pipelines run on the ``ecommerce_dwh`` warehouse).

Errors read like the loader's: ``node 'build_dim_product' field 'depends_on':
include/sql/dw/dim_product.sql reads staging.products, written by load_products, which is not
upstream``. sqlglot is a tooling dependency (it is not installed on MWAA): this module is never
imported when DAGs are parsed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dwh import config
from dwh.graph import LoadNode, Pipeline, PipelineError, QualityNode, SqlNode, load_pipeline

SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})
SYSTEM_PREFIXES = ("pg_", "stl_", "stv_", "svv_", "svl_", "svcs_", "stcs_", "sys_")
_EXTERNAL_SCHEMA = re.compile(
    r"^\s*create\s+external\s+schema\s+(?:if\s+not\s+exists\s+)?(\w+)", re.I
)
_VACUUM_WORDS = r"(?:full|sort\s+only|delete\s+only|reindex|recluster)"
_VACUUM = re.compile(
    rf"^\s*vacuum(?:\s+{_VACUUM_WORDS})?\s+(?!(?:{_VACUUM_WORDS}|to|boost)\b)([\w.]+)", re.I
)


@dataclass(frozen=True)
class Use:
    """A table a node uses that is not its own: it ``reads`` its rows, ``writes`` them, or
    ``uses`` it without either (ANALYZE, VACUUM)."""

    table: str
    source: str
    action: str

    @property
    def reads(self) -> bool:
        return self.action == "reads"


@dataclass
class NodeTables:
    creates: set[str] = field(default_factory=set)  # tables and views, temp tables excluded
    writes: set[str] = field(default_factory=set)  # created or changed, temp tables excluded
    uses: list[Use] = field(default_factory=list)
    external_schemas: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _name(table) -> str:
    return f"{table.db}.{table.name}".lower() if table.db else table.name.lower()


def _is_system(name: str) -> bool:
    schema, _, table = name.rpartition(".")
    return schema in SYSTEM_SCHEMAS or table.startswith(SYSTEM_PREFIXES)


def _parse(statement: str):
    import sqlglot

    # Statements sqlglot only knows as commands (VACUUM, CREATE EXTERNAL SCHEMA) log a warning.
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return sqlglot.parse_one(statement, read="redshift")
    finally:
        logger.setLevel(level)


def statement_tables(statement: str) -> Iterator[tuple[str, str]]:
    """(role, table) for one statement, the target first. Roles: ``create``, ``create_temp``,
    ``write`` (changes rows), ``touch`` (ANALYZE, VACUUM: needs the table, writes no rows),
    ``read`` and ``external_schema``."""
    from sqlglot import exp

    tree = _parse(statement)
    if isinstance(tree, exp.Command):
        text = re.sub(r"--[^\n]*", "", statement)
        if m := _EXTERNAL_SCHEMA.match(text):
            yield "external_schema", m.group(1).lower()
        elif m := _VACUUM.match(text):
            yield "touch", m.group(1).lower()
        return
    targets = []
    if isinstance(tree, exp.Analyze):  # statistics only: the table must exist, nothing is written
        for table in tree.find_all(exp.Table):
            yield "touch", _name(table)
        return
    if isinstance(tree, exp.TruncateTable):
        targets = list(tree.expressions)
    elif isinstance(
        tree, exp.Create | exp.Insert | exp.Update | exp.Delete | exp.Merge | exp.Copy | exp.Drop
    ):
        target = tree.this
        target = target.this if isinstance(target, exp.Schema) else target
        targets = [target] if isinstance(target, exp.Table) else []
    for target in targets:
        if isinstance(tree, exp.Create):
            kind = str(tree.args.get("kind") or "").upper()
            if kind == "SCHEMA":
                continue
            if tree.find(exp.ExternalProperty):
                yield "external_schema", target.db.lower()
            elif tree.find(exp.TemporaryProperty):
                yield "create_temp", _name(target)
            else:
                yield "create", _name(target)
        else:
            yield "write", _name(target)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if any(table is t for t in targets) or table.find_ancestor(exp.Reference):
            continue
        if not table.db and table.name.lower() in ctes:
            continue
        yield "read", _name(table)


def node_statements(node, sql_dir: Path) -> list[tuple[str, str]]:
    """(source, statement) of what the node runs, in order, rendered with the sample context."""
    from dwh.loads import redshift_load_statements
    from dwh.quality import check_statements, gate_sql
    from dwh.sql import SAMPLE_CONTEXT, render, split_statements

    if isinstance(node, SqlNode):
        return [
            (f"include/sql/{rel}", stmt)
            for rel in node.sql
            for stmt in split_statements(
                render((sql_dir / rel).read_text(encoding="utf-8"), SAMPLE_CONTEXT)
            )
        ]
    if isinstance(node, LoadNode):
        return [
            ("its load", render(stmt, SAMPLE_CONTEXT))
            for stmt in redshift_load_statements(node.entity, node.table)
        ]
    if isinstance(node, QualityNode):
        out = [
            (f"check {c.name!r}", render(stmt, SAMPLE_CONTEXT))
            for c in node.checks
            for stmt in check_statements(node.id, [c])
        ]
        return out + [("its gate", render(gate_sql(node.id), SAMPLE_CONTEXT))]
    return []


def node_tables(node, sql_dir: Path) -> NodeTables:
    """What one node creates and writes, and the tables it uses that are not its own."""
    result = NodeTables()
    own: set[str] = set()
    temp: set[str] = set()
    seen: set[tuple[str, str]] = set()

    def use(table: str, source: str, action: str) -> None:
        if table not in own and (table, action) not in seen:
            seen.add((table, action))
            result.uses.append(Use(table, source, action))

    for source, statement in node_statements(node, sql_dir):
        try:
            roles = list(statement_tables(statement))
        except Exception as exc:  # a parse error is a problem of that file
            first = " ".join(statement.split())[:80]
            result.problems.append(f"{source}: does not parse as Redshift: {first!r}: {exc}")
            continue
        for role, table in roles:
            if role == "external_schema":
                result.external_schemas.add(table)
            elif role == "create_temp":
                own.add(table)
                temp.add(table)
            elif role == "create":
                own.add(table)
                result.creates.add(table)
                result.writes.add(table)
            elif role == "write":
                use(table, source, "writes")
                own.add(table)
                if table not in temp:
                    result.writes.add(table)
            elif role == "touch":
                use(table, source, "uses")
            else:
                use(table, source, "reads")
    return result


def _upstream(p: Pipeline) -> dict[str, set[str]]:
    direct = p.upstream()
    closed: dict[str, set[str]] = {}
    for node_id in p.topological_order():
        closed[node_id] = set(direct[node_id])
        for dep in direct[node_id]:
            closed[node_id] |= closed[dep]
    return closed


def _names(ids: list[str]) -> str:
    if len(ids) == 1:
        return f"{ids[0]}, which is not upstream"
    return f"{', '.join(ids[:-1])} and {ids[-1]}, which are not upstream"


def check_pipeline(
    p: Pipeline, include_dir: Path | None = None, pipelines: Mapping[str, Pipeline] | None = None
) -> list[str]:
    """The problems of one pipeline. Its assumed warehouse is looked up among ``pipelines``, then
    in include/pipelines."""
    warehouse: dict[str, NodeTables] = {}
    if p.assumes_warehouse:
        try:
            warehouse = _analyse(p.assumes_warehouse, pipelines or {}, include_dir)
        except (FileNotFoundError, PipelineError):
            return [f"field 'assumes_warehouse': unknown pipeline {p.assumes_warehouse!r}"]
    sql_dir = (include_dir or config.INCLUDE_DIR) / "sql"
    tables = {n.id: node_tables(n, sql_dir) for n in p.nodes}
    upstream = _upstream(p)
    writers: dict[str, list[str]] = {}
    creators: dict[str, list[str]] = {}
    external = set()
    for n in p.nodes:
        for t in sorted(tables[n.id].writes):
            writers.setdefault(t, []).append(n.id)
        for t in sorted(tables[n.id].creates):
            creators.setdefault(t, []).append(n.id)
        external |= tables[n.id].external_schemas
    assumed: set[str] = set()
    for t in warehouse.values():
        assumed |= t.creates
        external |= t.external_schemas
    elsewhere = f", nor does its warehouse {p.assumes_warehouse}" if p.assumes_warehouse else ""

    problems = []
    for n in p.nodes:
        problems += [f"node {n.id!r} field 'sql': {x}" for x in tables[n.id].problems]
        for u in tables[n.id].uses:
            schema = u.table.rpartition(".")[0]
            if schema in external or _is_system(u.table):
                continue
            where = f"node {n.id!r} field 'depends_on': {u.source}"
            if u.reads:
                others = [w for w in writers.get(u.table, []) if w != n.id]
                missing = [w for w in others if w not in upstream[n.id]]
                if missing:
                    problems.append(f"{where} reads {u.table}, written by {_names(missing)}")
                elif not others and u.table not in assumed:
                    problems.append(
                        f"{where} reads {u.table}, which no node of the pipeline creates or "
                        f"writes{elsewhere}"
                    )
                continue
            made = [c for c in creators.get(u.table, []) if c != n.id]
            if u.table in assumed or any(c in upstream[n.id] for c in made):
                continue
            if made:
                problems.append(f"{where} {u.action} {u.table}, created by {_names(made)}")
            else:
                problems.append(
                    f"{where} {u.action} {u.table}, which no node of the pipeline creates{elsewhere}"
                )
    return problems


def check_all(
    pipelines: Mapping[str, Pipeline], paths: Mapping[str, Path], include_dir: Path | None = None
) -> dict[Path, PipelineError]:
    """Check every pipeline; the errors by pipeline file, as the loader reports them."""
    errors: dict[Path, PipelineError] = {}
    for name, p in sorted(pipelines.items()):
        problems = check_pipeline(p, include_dir, pipelines)
        if problems:
            errors[paths[name]] = PipelineError(paths[name], problems)
    return errors


def _analyse(
    name: str, pipelines: Mapping[str, Pipeline], include_dir: Path | None
) -> dict[str, NodeTables]:
    if name in pipelines:
        p = pipelines[name]
    else:
        include_dir = config.INCLUDE_DIR
        path = config.PIPELINES_DIR / f"{name}.yaml"
        if not path.is_file():
            raise FileNotFoundError(path)
        p = load_pipeline(path, include_dir)
    sql_dir = (include_dir or config.INCLUDE_DIR) / "sql"
    return {n.id: node_tables(n, sql_dir) for n in p.nodes}


def published_writes(
    pipelines: Mapping[str, Pipeline], paths: Mapping[str, Path], include_dir: Path | None = None
) -> dict[str, dict[str, dict[str, list[str]]]]:
    """What ``include/pipelines/assets.json`` holds (see :mod:`dwh.assets`): per pipeline, per
    node whose tables are decided by the pipeline file (sql and load nodes), its ``sources`` and
    the published tables it writes (``publishes``: its Airflow outlets).

    A published table is one asset with one producer: two nodes writing it (in one pipeline or
    two) raise :class:`PipelineError` naming both."""
    from dwh import assets

    sql_dir = (include_dir or config.INCLUDE_DIR) / "sql"
    out: dict[str, dict[str, dict[str, list[str]]]] = {}
    writer: dict[str, tuple[str, str]] = {}
    for name, p in sorted(pipelines.items()):
        out[name] = {}
        for n in p.nodes:
            if not assets.sources(n):
                continue
            publishes = sorted(t for t in node_tables(n, sql_dir).writes if assets.published(t))
            out[name][n.id] = {"sources": assets.sources(n), "publishes": publishes}
            for t in publishes:
                if t in writer:
                    first = f"node {writer[t][1]!r} of {writer[t][0]}"
                    raise PipelineError(
                        paths[name],
                        [
                            f"node {n.id!r} field 'sql': writes {t}, which {first} writes too; "
                            "a published table (an Airflow asset) has one producer"
                        ],
                    )
                writer[t] = (name, n.id)
    return out
