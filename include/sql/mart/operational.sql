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

-- One row per run and logical date: how long the warehouse took from the first staging load to
-- the last quality check, rows through it, and the checks' outcome.
create or replace view mart.operational_runs as
with loads as (
    select
        run_id,
        ingest_date,
        min(loaded_at) as first_load_at,
        max(loaded_at) as last_load_at,
        count(*) as entities,
        sum(rows_in) as rows_in,
        sum(rows_quarantined) as rows_quarantined,
        sum(rows_loaded) as rows_loaded
    from ops.load_log
    group by run_id, ingest_date
),

checks as (
    select
        run_id,
        max(checked_at) as last_check_at,
        count(*) as checks,
        sum(case when status = 'fail' and severity = 'block' then 1 else 0 end) as blocking_failures,
        sum(case when status = 'fail' and severity = 'warn' then 1 else 0 end) as warnings
    from ops.quality_results
    group by run_id
)

select
    l.run_id,
    l.ingest_date,
    l.first_load_at,
    l.entities,
    l.rows_in,
    l.rows_quarantined,
    l.rows_loaded,
    coalesce(c.last_check_at, l.last_load_at) as finished_at,
    datediff(second, l.first_load_at, coalesce(c.last_check_at, l.last_load_at)) as duration_seconds,
    coalesce(c.checks, 0) as checks,
    coalesce(c.blocking_failures, 0) as blocking_failures,
    coalesce(c.warnings, 0) as warnings
from loads as l
left join checks as c on l.run_id = c.run_id;

-- The latest result of every check per logical date: a re-run records its checks again, and
-- only its result counts.
create or replace view mart.operational_checks_latest as
with ranked as (
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
        checked_at,
        row_number() over (
            partition by ingest_date, node_id, check_name
            order by checked_at desc, run_id desc
        ) as recency
    from ops.quality_results
)

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
from ranked
where recency = 1;

-- One row per logical date: rows through the stages of its loads and the outcome of its checks'
-- latest results. A date with checks but no load yet has no row figures.
create or replace view mart.operational_daily as
with loads as (
    select
        ingest_date,
        count(*) as entities,
        sum(case when is_reconciled then 1 else 0 end) as reconciled_entities,
        sum(rows_in) as rows_in,
        sum(rows_quarantined) as rows_quarantined,
        sum(rows_out) as rows_out,
        sum(rows_loaded) as rows_loaded
    from mart.operational_loads
    group by ingest_date
),

checks as (
    select
        ingest_date,
        count(*) as checks,
        sum(case when status = 'pass' then 1 else 0 end) as checks_passed,
        sum(case when status = 'fail' and severity = 'block' then 1 else 0 end) as blocking_failures,
        sum(case when status = 'fail' and severity = 'warn' then 1 else 0 end) as warnings
    from mart.operational_checks_latest
    group by ingest_date
),

dated as (
    select ingest_date from loads
    union all
    select ingest_date from checks
),

dates as (
    select distinct ingest_date from dated
)

select
    d.ingest_date,
    l.rows_in,
    l.rows_quarantined,
    l.rows_out,
    l.rows_loaded,
    coalesce(l.entities, 0) as entities,
    coalesce(l.reconciled_entities, 0) as reconciled_entities,
    l.rows_quarantined::float / nullif(l.rows_in, 0) as quarantine_rate,
    coalesce(c.checks, 0) as checks,
    coalesce(c.checks_passed, 0) as checks_passed,
    coalesce(c.blocking_failures, 0) as blocking_failures,
    coalesce(c.warnings, 0) as warnings
from dates as d
left join loads as l on d.ingest_date = l.ingest_date
left join checks as c on d.ingest_date = c.ingest_date;

-- Rows rejected per logical date, entity and rule, counted where they lie: the quarantine Parquet
-- the Glue jobs write to <processed>/_quarantine/<entity>/ingest_date=<date>/, read through
-- Redshift Spectrum (schema spectrum_processed, one table per entity), so the rows stay in S3 and
-- the counts do not depend on the ops tables. A row's date is the ingest_date= folder of its file
-- ("$path", Spectrum's pseudo-column). A view over external tables is late-binding on Redshift.
-- contract_entities is every entity of the data contract (include/glue/olist_contract.py), so an
-- entity added there is counted here with no SQL change.
create or replace view mart.operational_rejects as
with quarantined as (
    {%- for entity in contract_entities %}
        {%- if not loop.first %}

            union all
        {%- endif %}

        select
            '{{ entity }}' as entity,
            "$path" as file_path,
            _rule
        from spectrum_processed.quarantine_{{ entity }}
    {%- endfor %}
),

dated as (
    select
        entity,
        _rule as rule_name,
        split_part(split_part(file_path, '/ingest_date=', 2), '/', 1)::date as ingest_date
    from quarantined
)

select
    ingest_date,
    entity,
    rule_name,
    count(*) as rows_rejected
from dated
group by ingest_date, entity, rule_name
with no schema binding;
