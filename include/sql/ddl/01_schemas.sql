-- The four schemas of the warehouse: staging (loaded as is), dw (star schema),
-- mart (dashboard views) and ops (run log, reconciliation, quality results).
create schema if not exists staging;
create schema if not exists dw;
create schema if not exists mart;
create schema if not exists ops;
