-- Reclaim space and re-sort every table the daily delete-insert loads churn. VACUUM cannot run
-- inside a transaction, so this file holds this one statement and runs on its own.
vacuum;
