"""Staging loads: one processed entity of one logical date into its staging table, idempotently.

Staging holds the batch being processed: every load empties the table and reloads that date's
Parquet, records the Glue metrics beside it, and writes the reconciliation row into ops.load_log,
all in one transaction (the Redshift Data API runs a batch atomically). The local target does the
same on DuckDB in :meth:`dwh_tools.local_target.warehouse.Warehouse.load_entity`.
"""

from __future__ import annotations

from olist_contract import ENTITIES

# Tables every load writes. The loads of one run go in parallel, and Redshift's serializable
# isolation aborts one of two transactions that read and write the same table concurrently
# (error 1023): each load takes the documented explicit lock first, in one order for all.
SHARED_TABLES = ("ops.glue_metrics", "ops.load_log")


def _check(entity: str, table: str) -> None:
    if entity not in ENTITIES:
        raise ValueError(f"unknown entity {entity!r}")
    if not table.startswith("staging."):
        raise ValueError(f"{table}: loads only write staging tables")


def redshift_load_statements(entity: str, table: str) -> list[str]:
    """Jinja-templated Redshift statements for one transaction."""
    _check(entity, table)
    where = f"entity = '{entity}' and ingest_date = '{{{{ ds }}}}'"
    return [
        f"lock {', '.join(sorted(SHARED_TABLES))}",
        f"delete from {table}",
        f"copy {table} from '{{{{ processed_uri }}}}/{entity}/ingest_date={{{{ ds }}}}/' "
        "iam_role '{{ iam_role_arn }}' format as parquet",
        f"delete from ops.glue_metrics where {where}",
        "copy ops.glue_metrics from "
        f"'{{{{ processed_uri }}}}/_metrics/{entity}/ingest_date={{{{ ds }}}}/metrics.json' "
        "iam_role '{{ iam_role_arn }}' format as json 'auto'",
        f"delete from ops.load_log where {where}",
        load_log_insert(entity, table),
    ]


def load_log_insert(entity: str, table: str) -> str:
    """The reconciliation row: Glue's counts beside the rows that reached staging."""
    return (
        "insert into ops.load_log (run_id, ingest_date, entity, rows_in, rows_out, "
        "rows_quarantined, rows_loaded, rejected_by_rule, loaded_at, rows_blank, note) "
        "select '{{ run_id }}', m.ingest_date, m.entity, m.rows_in, m.rows_out, "
        f"m.rows_quarantined, (select count(*) from {table}), m.rejected_by_rule, getdate(), "
        "coalesce(m.rows_blank, 0), m.note "
        f"from ops.glue_metrics as m where m.entity = '{entity}' and m.ingest_date = '{{{{ ds }}}}'"
    )
