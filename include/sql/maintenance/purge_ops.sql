-- Keep 400 days of operational history: enough for a year-over-year look at run health.
-- Counted back from the logical date, or from today when the logical date lies ahead: a run
-- started with a date in the future must not purge the history of the days before it.
delete from ops.quality_results
where ingest_date < dateadd(day, -400, least('{{ ds }}'::date, current_date));

delete from ops.load_log
where ingest_date < dateadd(day, -400, least('{{ ds }}'::date, current_date));

delete from ops.glue_metrics
where ingest_date < dateadd(day, -400, least('{{ ds }}'::date, current_date));

delete from ops.table_counts
where ingest_date < dateadd(day, -400, least('{{ ds }}'::date, current_date));
