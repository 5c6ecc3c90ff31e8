-- Operational tables: what every run loaded, rejected and checked.

-- One row per entity, logical date and run: the reconciliation ledger.
-- rows_in = rows_out + rows_quarantined + rows_blank, and rows_loaded = rows_out.
create table if not exists ops.load_log (
    run_id varchar(256) not null,
    ingest_date date not null,
    entity varchar(64) not null,
    rows_in bigint not null,
    rows_out bigint not null,
    rows_quarantined bigint not null,
    rows_loaded bigint not null,
    rejected_by_rule varchar(4096),
    loaded_at timestamp not null,
    -- blank padding rows (every field empty): counted and dropped, not quarantined
    rows_blank bigint not null default 0,
    -- "no file", "empty file", "header only", "blank rows only", or null
    note varchar(64)
)
diststyle all
sortkey (ingest_date);

-- One row per declared check and run.
create table if not exists ops.quality_results (
    run_id varchar(256) not null,
    ingest_date date not null,
    node_id varchar(64) not null,
    check_name varchar(64) not null,
    check_type varchar(32) not null,
    table_name varchar(128),
    observed double precision,
    threshold double precision,
    status varchar(8) not null,
    severity varchar(8) not null,
    checked_at timestamp not null
)
diststyle all
sortkey (ingest_date);

-- Row counts per table and logical date, for the row-count-change checks.
create table if not exists ops.table_counts (
    ingest_date date not null,
    table_name varchar(128) not null,
    row_count bigint not null,
    counted_at timestamp not null
)
diststyle all
sortkey (ingest_date);

-- The Glue jobs' metrics records, loaded beside each staging table.
create table if not exists ops.glue_metrics (
    entity varchar(64) not null,
    ingest_date date not null,
    run_id varchar(256) not null,
    rows_in bigint not null,
    rows_out bigint not null,
    rows_quarantined bigint not null,
    rejected_by_rule varchar(4096),
    -- null in a record written before blank rows were counted: read as 0
    rows_blank bigint,
    note varchar(64),
    -- how the file was written, as detected (encoding, delimiter, timestamp layouts): JSON
    formats varchar(4096)
)
diststyle all
sortkey (ingest_date);
