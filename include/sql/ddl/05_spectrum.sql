-- Redshift Spectrum: an external schema over the Glue catalog the crawlers maintain, so the
-- landed extracts can be queried in place (reconciling a load, looking at a rejected file).
-- Redshift only: the local target has no Glue catalog and skips this statement.
create external schema if not exists spectrum
from data catalog
database '{{ glue_database }}'
iam_role '{{ iam_role_arn }}';

-- The processed bucket's catalog (infra/modules/glue/processed.tf, generated from the data
-- contract): one table per entity's clean Parquet and one per entity's quarantine, so the rejected
-- rows and their rule can be read where they lie (mart.operational_rejects).
-- Redshift only as well: the local warehouse and the rehearsal resolve this schema to the Parquet
-- files of their own lake (dwh_tools.processed_catalog).
create external schema if not exists spectrum_processed
from data catalog
database '{{ glue_processed_database }}'
iam_role '{{ iam_role_arn }}';
