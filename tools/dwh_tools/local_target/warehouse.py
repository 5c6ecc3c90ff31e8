"""The local warehouse: a DuckDB file that runs the Redshift SQL of include/sql, transpiled.

DuckDB reads Parquet and JSON with its built-in readers (no extension download). Every public
method runs in one transaction, so a failed task leaves the warehouse as it was.

Redshift reads the processed bucket's Parquet in place through the external schema
spectrum_processed; here that schema is views over the same files of the local lake
(dwh_tools.processed_catalog), made again before every SQL file that names it, so a view on top
(mart.operational_rejects) reads the files as they are at query time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
from olist_contract import ENTITIES, check_run_date

from dwh import config
from dwh.loads import load_log_insert
from dwh.quality import check_statements, gate_sql
from dwh.sql import file_to_duckdb, local_context, render, to_duckdb
from dwh_tools import processed_catalog

LINEAGE = ["_source_file", "_source_line", "ingest_date"]
# The DDL is the same for every date; Redshift-only statements (Spectrum) are skipped locally.
DDL_CONTEXT = local_context("1970-01-01", "")


def _rule_counts(metrics: dict) -> str:
    """The metrics record's rejected-by-rule counts as JSON text (the Glue job writes text)."""
    value = metrics.get("rejected_by_rule", {})
    return value if isinstance(value, str) else json.dumps(value)


def _text(value) -> str:
    return "null" if value is None else "'" + str(value).replace("'", "''") + "'"


class Warehouse:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.con = duckdb.connect(str(self.path))
        self.con.execute("set threads to 2")
        # Bounded: above the limit DuckDB spills to <warehouse>.tmp instead of growing, so a
        # scale-10 run stays within a laptop's memory beside the Spark JVM.
        self.con.execute(f"set memory_limit = '{os.environ.get('DWH_DUCKDB_MEMORY', '2GB')}'")

    def close(self) -> None:
        self.con.close()

    def _run(self, statements: Sequence[str]) -> None:
        self.con.execute("begin transaction")
        try:
            for stmt in statements:
                self.con.execute(stmt)
        except Exception:
            self.con.execute("rollback")
            raise
        self.con.execute("commit")

    def _templates(self, templates: Sequence[str], context: dict, source: str) -> list[str]:
        out = []
        for n, t in enumerate(templates, start=1):
            stmt = to_duckdb(render(t, context), f"{source} statement {n}")
            if stmt:
                out.append(stmt)
        return out

    def ensure_schema(self) -> None:
        """Create schemas and tables from include/sql/ddl (idempotent: IF NOT EXISTS)."""
        ddl_dir = config.SQL_DIR / "ddl"
        statements = []
        for path in sorted(ddl_dir.glob("*.sql")):
            statements += file_to_duckdb(f"ddl/{path.name}", DDL_CONTEXT)
        self._run(statements)

    @staticmethod
    def _with_external(statements: list[str], processed_uri: str) -> list[str]:
        """The statements, after spectrum_processed's views over the local processed folder when
        one of them reads it."""
        if not any(f"{processed_catalog.SCHEMA}." in s for s in statements):
            return statements
        root = Path(processed_uri or config.lake("processed"))
        return processed_catalog.duckdb_views(root) + statements

    def run_sql_file(self, rel_path: str, context: dict) -> None:
        statements = file_to_duckdb(rel_path, context)
        self._run(self._with_external(statements, context.get("processed_uri", "")))

    def run_statements(
        self, statements: Sequence[str], source: str, processed_uri: str = ""
    ) -> None:
        """Rendered Redshift statements, transpiled, as one transaction (Redshift-only tuning
        such as VACUUM is skipped); ``processed_uri``: the local processed folder spectrum_processed
        reads (the lake's by default)."""
        out = []
        for n, stmt in enumerate(statements, start=1):
            duck = to_duckdb(stmt, f"{source} statement {n}")
            if duck:
                out.append(duck)
        self._run(self._with_external(out, processed_uri))

    def load_entity(
        self, entity: str, table: str, processed_root: Path, ds: str, run_id: str
    ) -> dict:
        """Staging truncate-and-load of one date's Parquet, its Glue metrics and the ledger row.

        ``ds`` names the partition read and is written into the statements' text: a value that
        is not a real date is refused (:class:`olist_contract.InvalidRunDate`)."""
        check_run_date(ds)
        cols = ", ".join([*ENTITIES[entity].column_names, *LINEAGE])
        part = Path(processed_root) / entity / f"ingest_date={ds}"
        metrics_file = (
            Path(processed_root) / "_metrics" / entity / f"ingest_date={ds}" / "metrics.json"
        )
        if not metrics_file.exists():
            raise FileNotFoundError(
                f"{metrics_file}: no Glue metrics for {entity} on {ds}; did its Glue job run?"
            )
        metrics = json.loads(metrics_file.read_text())
        files = sorted(part.glob("*.parquet"))
        statements = [f"delete from {table}"]
        if files:
            listing = ", ".join(f"'{f}'" for f in files)
            statements.append(
                f"insert into {table} ({cols}) select {cols} from read_parquet([{listing}])"
            )
        where = f"entity = '{entity}' and ingest_date = '{ds}'"
        statements += [
            f"delete from ops.glue_metrics where {where}",
            "insert into ops.glue_metrics (entity, ingest_date, run_id, rows_in, rows_out, "
            "rows_quarantined, rejected_by_rule, rows_blank, note, formats) values "
            f"('{entity}', '{ds}', {_text(metrics['run_id'])}, {int(metrics['rows_in'])}, "
            f"{int(metrics['rows_out'])}, {int(metrics['rows_quarantined'])}, "
            f"{_text(_rule_counts(metrics))}, {int(metrics.get('rows_blank', 0))}, "
            f"{_text(metrics.get('note'))}, {_text(metrics.get('formats'))})",
            f"delete from ops.load_log where {where}",
        ]
        ctx = {"ds": ds, "run_id": run_id}
        statements += self._templates([load_log_insert(entity, table)], ctx, f"load {entity}")
        self._run(statements)
        loaded = self.con.execute(f"select count(*) from {table}").fetchone()[0]
        return {
            "entity": entity,
            "table": table,
            "rows_in": metrics["rows_in"],
            "rows_quarantined": metrics["rows_quarantined"],
            "rows_blank": metrics.get("rows_blank", 0),
            "rows_loaded": loaded,
        }

    def run_checks(self, node_id: str, checks: Sequence, context: dict) -> list[dict]:
        self._run(self._templates(check_statements(node_id, checks), context, node_id))
        rows = self.con.execute(
            "select check_name, check_type, status, severity, observed, threshold "
            "from ops.quality_results where run_id = ? and node_id = ? order by check_name",
            [context["run_id"], node_id],
        ).fetchall()
        keys = ("name", "type", "status", "severity", "observed", "threshold")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def failed_blocking(self, node_id: str, run_id: str) -> int:
        (stmt,) = self._templates([gate_sql(node_id)], {"run_id": run_id, "ds": ""}, node_id)
        return len(self.con.execute(stmt).fetchall())

    def table_checksums(self, schemas: Sequence[str] = ("staging", "dw", "mart")) -> dict[str, str]:
        """Order-independent checksum of every table and view in the given schemas."""
        names = self.con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            f"where table_schema in ({', '.join(repr(s) for s in schemas)}) order by 1"
        ).fetchall()
        out = {}
        for (name,) in names:
            count, digest = self.con.execute(
                f"select count(*), coalesce(sum(hash(t)), 0) from {name} as t"
            ).fetchone()
            out[name] = f"{count}:{digest}"
        return out
