"""SQL templating and dialects: render the Redshift SQL of include/sql and run it on DuckDB locally.

The templating contract (the same for Airflow, the local target and Step Functions):
``{{ ds }}`` the logical date, ``{{ run_id }}``, ``{{ processed_uri }}`` the processed bucket
(s3://... on AWS, a folder locally), ``{{ iam_role_arn }}`` (COPY and Spectrum on AWS only) and
``{{ glue_database }}`` (the Glue catalog database of the Spectrum schema) and
``{{ glue_processed_database }}`` (the one of spectrum_processed: the processed Parquet and its
quarantine). Schema names are fixed: staging, dw, mart, ops, spectrum, spectrum_processed.

Locally each rendered statement is transpiled from Redshift to DuckDB with sqlglot. Statements that
only tune Redshift (ANALYZE, VACUUM) have no DuckDB meaning and are skipped by name; Redshift
physical-design clauses (DISTKEY, SORTKEY, ENCODE, DISTSTYLE) are dropped, and so are PRIMARY KEY and
FOREIGN KEY declarations, which Redshift never enforces (DuckDB would), and a view's WITH NO SCHEMA
BINDING (Redshift needs it over external tables; DuckDB views always bind late). The external
schemas (CREATE EXTERNAL SCHEMA, skipped here) are resolved by each DuckDB runtime to the Parquet
files of its own lake: see dwh_tools.processed_catalog.
Anything else that does not transpile is an error naming the file and the construct.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from olist_contract import ENTITIES, check_run_date

from dwh import config

SAMPLE_CONTEXT = {
    "ds": "2024-01-01",
    "run_id": "manual__2024-01-01",
    "processed_uri": "s3://processed-bucket",
    "iam_role_arn": "arn:aws:iam::000000000000:role/copy",
    "glue_database": "dwh_dev_raw",
    "glue_processed_database": "dwh_dev_processed",
}
# Every runtime's templates also see ``contract_entities``: the contract's entity names, in order
# (a SQL file loops over them where it reads every entity, e.g. mart.operational_rejects).
CONTRACT_ENTITIES = tuple(ENTITIES)
# LOCK serialises concurrent Redshift transactions; the local warehouse holds a file lock instead.
REDSHIFT_ONLY = re.compile(r"^\s*(analyze|vacuum|grant|lock|create\s+external\s+schema)\b", re.I)


def local_context(ds: str, run_id: str, processed_uri: str = "") -> dict:
    """The templating contract on the local target. The Redshift-only names (COPY's role,
    Spectrum's catalog) are blank: the statements using them are never run on DuckDB.

    ``ds`` is written into SQL text as a literal, so it is refused unless a real date
    (:class:`olist_contract.InvalidRunDate`)."""
    return {
        "ds": check_run_date(ds),
        "run_id": run_id,
        "processed_uri": processed_uri,
        "iam_role_arn": "",
        "glue_database": "",
        "glue_processed_database": "",
    }


class SqlTranspileError(Exception):
    """A statement cannot run on DuckDB; the message names the file and the construct."""


@lru_cache(maxsize=1)
def _jinja():
    # Sandboxed: statements carry values from pipeline files, and a template must not reach
    # Python internals (``cycler.__init__.__globals__``) whatever validation let through.
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    env.globals["contract_entities"] = CONTRACT_ENTITIES
    return env


def render(template: str, context: dict) -> str:
    return _jinja().from_string(template).render(**context)


def split_statements(sql: str) -> list[str]:
    """Split on semicolons outside quotes and comments; drop empty statements."""
    out, buf, i, quote = [], [], 0, None
    while i < len(sql):
        ch = sql[i]
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            buf.append(ch)
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = len(sql) if j == -1 else j
            buf.append(sql[i:j])
            i = j
            continue
        elif ch == ";":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    out.append("".join(buf))
    return [s.strip() for s in out if _strip_comments(s).strip()]


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def _physical_properties() -> tuple:
    from sqlglot import exp

    return (exp.DistKeyProperty, exp.SortKeyProperty, exp.DistStyleProperty)


def to_duckdb(statement: str, source: str) -> str | None:
    """One Redshift statement as DuckDB SQL; None when it is Redshift-only tuning."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, UnsupportedError

    if REDSHIFT_ONLY.match(_strip_comments(statement)):
        return None
    try:
        (tree,) = sqlglot.parse(statement, read="redshift")
        # Physical design (distribution, sort keys, encodings) is Redshift's alone: drop it.
        for prop in list(tree.find_all(*_physical_properties())):
            prop.pop()
        # Redshift declares keys for the planner but never enforces them; DuckDB would, and a
        # type-1 dimension's delete-insert would then trip over its facts. Keep Redshift's rule.
        for key in list(tree.find_all(exp.PrimaryKey, exp.ForeignKey)):
            key.pop()
        if isinstance(tree, exp.Create) and tree.args.get("no_schema_binding"):
            tree.set("no_schema_binding", None)
        for enc in list(tree.find_all(exp.EncodeColumnConstraint)):
            enc.parent.pop() if isinstance(enc.parent, exp.ColumnConstraint) else enc.pop()
        return tree.sql(dialect="duckdb", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except (ParseError, UnsupportedError, ValueError) as exc:
        first = " ".join(_strip_comments(statement).split())[:80]
        raise SqlTranspileError(f"{source}: cannot run on DuckDB: {first!r}: {exc}") from None


def file_to_duckdb(rel_path: str, context: dict, sql_dir: Path | None = None) -> list[str]:
    """Render include/sql/<rel_path> and transpile each statement; Redshift-only ones dropped."""
    path = (sql_dir or config.SQL_DIR) / rel_path
    rendered = render(path.read_text(encoding="utf-8"), context)
    statements = []
    for n, stmt in enumerate(split_statements(rendered), start=1):
        out = to_duckdb(stmt, f"include/sql/{rel_path} statement {n}")
        if out:
            statements.append(out)
    return statements


def check_all_sql(sql_dir: Path | None = None) -> list[str]:
    """Render and transpile every SQL file; the problems found (empty when all is well)."""
    sql_dir = sql_dir or config.SQL_DIR
    problems = []
    for path in sorted(sql_dir.rglob("*.sql")):
        rel = str(path.relative_to(sql_dir))
        try:
            file_to_duckdb(rel, SAMPLE_CONTEXT, sql_dir)
        except SqlTranspileError as exc:
            problems.append(str(exc))
        except Exception as exc:  # a template error is a problem of that file too
            problems.append(f"include/sql/{rel}: {type(exc).__name__}: {exc}")
    return problems
