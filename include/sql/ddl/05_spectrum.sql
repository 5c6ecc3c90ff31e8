-- Redshift Spectrum: an external schema over the Glue catalog the crawlers maintain, so the
-- landed extracts can be queried in place (reconciling a load, looking at a rejected file).
-- Redshift only: the local target has no Glue catalog and skips this statement.
create external schema if not exists spectrum
from data catalog
database '{{ glue_database }}'
iam_role '{{ iam_role_arn }}';
