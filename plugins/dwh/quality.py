"""Quality checks declared in a pipeline's ``quality`` nodes, rendered to Redshift SQL.

Each check becomes one INSERT into ops.quality_results with its observed value, its threshold and a
status; the gate then counts this node's failed blocking checks for the run. The same statements run
on Redshift (Airflow's QualityGateOperator, the Step Functions quality states) and, transpiled, on
DuckDB locally. Observed values:

==================  ==========================================================  =============
type                observed                                                    passes when
==================  ==========================================================  =============
not_null            share of rows where the column is null                      <= max_rate
unique              number of key values appearing more than once               = 0
accepted_values     rows whose (non-null) value is not in the list              = 0
relationship        share of rows whose key has no match in to_table            <= max_rate
row_count_change    |rows - rows at the previous date| / rows at previous date  <= max_change
freshness           days from the newest value of the column to the run date    <= max_age_days
reconciliation      |in - out - quarantined - blank| + |loaded - out| of entity  = 0
quarantine_rate     quarantined / non-blank rows in, of the entity this date     <= max_rate
rows_arrived        1 - non-blank rows in / those of the entity's last load      <= max_rate
                    with rows (1 when the file is missing, empty or header-only)
sql                 the number the custom query returns (failing rows)          = 0
==================  ==========================================================  =============
"""

from __future__ import annotations

from collections.abc import Sequence

RUN = "'{{ run_id }}'"
MAX_BATCH_STATEMENTS = 40  # Redshift Data API BatchExecuteStatement
DS = "'{{ ds }}'"


def _lit(value) -> str:
    """A Redshift string literal of ``value``. Redshift reads a backslash in a literal as an
    escape (its QUOTE_LITERAL doubles both), so both are doubled: no value ends the literal."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def _observed(c) -> tuple[str, float]:
    """(query returning one column `observed`, threshold) for one check."""
    t = c.table
    if c.type == "not_null":
        return (
            f"select case when count(*) = 0 then 0 else "
            f"sum(case when {c.column} is null then 1 else 0 end)::float / count(*) end as observed "
            f"from {t}",
            c.max_rate,
        )
    if c.type == "unique":
        cols = ", ".join(c.columns)
        return (
            f"select count(*)::float as observed from "
            f"(select {cols} from {t} group by {cols} having count(*) > 1) as dupes",
            0.0,
        )
    if c.type == "accepted_values":
        values = ", ".join(_lit(v) for v in c.values)
        return (
            f"select count(*)::float as observed from {t} "
            f"where {c.column} is not null and {c.column} not in ({values})",
            0.0,
        )
    if c.type == "relationship":
        return (
            f"select case when count(*) = 0 then 0 else "
            f"sum(case when p.{c.to_column} is null then 1 else 0 end)::float / count(*) end "
            f"as observed from {t} as c left join "
            f"(select distinct {c.to_column} from {c.to_table}) as p "
            f"on c.{c.column} = p.{c.to_column}",
            c.max_rate,
        )
    if c.type == "row_count_change":
        prev = (
            f"(select row_count from ops.table_counts where table_name = {_lit(t)} "
            f"and ingest_date < {DS} order by ingest_date desc limit 1)"
        )
        return (
            f"select case when coalesce({prev}, 0) = 0 then 0 else "
            f"abs((select count(*) from {t}) - {prev})::float / {prev} end as observed",
            c.max_change,
        )
    if c.type == "freshness":
        return (
            f"select coalesce(datediff(day, max({c.column}), {DS}::date), 99999)::float "
            f"as observed from {t}",
            float(c.max_age_days),
        )
    entity_log = f"from ops.load_log where entity = {_lit(c.entity or '')}"
    if c.type == "reconciliation":
        return (
            "select coalesce(max(abs(rows_in - rows_out - rows_quarantined - rows_blank) "
            "+ abs(rows_loaded - rows_out)), 999999999)::float as observed "
            f"{entity_log} and ingest_date = {DS}",
            0.0,
        )
    if c.type == "quarantine_rate":
        return (
            "select coalesce(max(case when rows_in - rows_blank = 0 then 0 else "
            "rows_quarantined::float / (rows_in - rows_blank) end), 0)::float as observed "
            f"{entity_log} and ingest_date = {DS}",
            c.max_rate,
        )
    if c.type == "rows_arrived":
        # The last earlier date that brought rows: a day without a file is no baseline.
        last = (
            f"(select max(ingest_date) {entity_log} and ingest_date < {DS} "
            "and rows_in - rows_blank > 0)"
        )
        return (
            "select (case when cur.n = 0 then 1 when prev.n is null then 0 "
            "else greatest(0, 1 - cur.n::float / prev.n) end)::float as observed from "
            f"(select coalesce(max(rows_in - rows_blank), 0) as n {entity_log} "
            f"and ingest_date = {DS}) as cur cross join "
            f"(select max(rows_in - rows_blank) as n {entity_log} and ingest_date = {last}) "
            "as prev",
            c.max_rate,
        )
    if c.type == "sql":
        return (f"select ({c.sql.strip().rstrip(';')})::float as observed", 0.0)
    raise ValueError(f"unknown check type {c.type!r}")


def check_statements(node_id: str, checks: Sequence) -> list[str]:
    """Jinja-templated statements recording every check of a node for the run (idempotent)."""
    statements = [
        f"delete from ops.quality_results where run_id = {RUN} and node_id = {_lit(node_id)}"
    ]
    counted = sorted({c.table for c in checks if c.type == "row_count_change"})
    for table in counted:
        statements.append(
            f"delete from ops.table_counts where table_name = {_lit(table)} and ingest_date = {DS}"
        )
        statements.append(
            "insert into ops.table_counts (ingest_date, table_name, row_count, counted_at) "
            f"select {DS}, {_lit(table)}, count(*), getdate() from {table}"
        )
    rows = []
    for c in checks:
        query, threshold = _observed(c)
        rows.append(
            f"select {RUN}, {DS}, {_lit(node_id)}, {_lit(c.name)}, {_lit(c.type)}, "
            f"{_lit(c.table or c.entity or '')}, q.observed, {threshold}, "
            f"case when q.observed <= {threshold} then 'pass' else 'fail' end, "
            f"{_lit(c.severity)}, getdate() from ({query}) as q"
        )
    # One INSERT for every check: the Data API's BatchExecuteStatement takes at most
    # MAX_BATCH_STATEMENTS statements, and a gate with three checks per entity has dozens.
    statements.append(
        "insert into ops.quality_results (run_id, ingest_date, node_id, check_name, "
        "check_type, table_name, observed, threshold, status, severity, checked_at) "
        + " union all ".join(rows)
    )
    return statements


def gate_sql(node_id: str) -> str:
    """The node's failed blocking checks in this run, one row each (none when the gate passes).

    Rows rather than a count: the Redshift Data API reports ``TotalNumRows`` at the top of every
    result, so Step Functions decides on it without reading typed cells.
    """
    return (
        "select check_name from ops.quality_results "
        f"where run_id = {RUN} and node_id = {_lit(node_id)} "
        "and status = 'fail' and severity = 'block'"
    )
