-- Keep 400 days of operational history: enough for a year-over-year look at run health.
delete from ops.quality_results
where ingest_date < dateadd(day, -400, '{{ ds }}'::date);

delete from ops.load_log
where ingest_date < dateadd(day, -400, '{{ ds }}'::date);

delete from ops.glue_metrics
where ingest_date < dateadd(day, -400, '{{ ds }}'::date);

delete from ops.table_counts
where ingest_date < dateadd(day, -400, '{{ ds }}'::date);
