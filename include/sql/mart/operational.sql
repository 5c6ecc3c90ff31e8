-- Operational dashboard: rows per stage and quarantine rate per entity and date, and the
-- quality results of every run.
create or replace view mart.operational_loads as
select
    ingest_date,
    entity,
    run_id,
    rows_in,
    rows_quarantined,
    rows_out,
    rows_loaded,
    loaded_at,
    rows_quarantined::float / nullif(rows_in, 0) as quarantine_rate,
    rows_in = rows_out + rows_quarantined and rows_loaded = rows_out as is_reconciled
from ops.load_log;

create or replace view mart.operational_quality as
select
    ingest_date,
    run_id,
    node_id,
    check_name,
    check_type,
    table_name,
    observed,
    threshold,
    status,
    severity,
    checked_at
from ops.quality_results;
