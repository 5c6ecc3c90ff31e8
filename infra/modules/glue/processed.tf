# The catalog of the processed bucket: one table per entity (clean Parquet) and one per entity's
# quarantine (rejected rows with their rule), read by Redshift Spectrum through the external
# schema spectrum_processed (include/sql/ddl/05_spectrum.sql). The tables come from
# processed_tables.json, which `bin/dwh compile` generates from include/glue/olist_contract.py, so
# their columns are the contract's, in the files' order, with the types the Glue job writes.
#
# Not partitioned, and no crawler: Spectrum ignores partition projection (it is Athena's alone), so
# a partitioned table would read nothing until each date's partition was registered. An
# unpartitioned table reads every file below its location, ingest_date=<d>/ folders included.

locals {
  processed_database_name = replace("${var.name_prefix}_processed", "-", "_")
  processed_tables        = jsondecode(file("${path.module}/processed_tables.json")).tables
}

resource "aws_glue_catalog_database" "processed" {
  name        = local.processed_database_name
  description = "Tables of the processed Parquet and its quarantine (${var.name_prefix}), generated from the data contract."
}

resource "aws_glue_catalog_table" "processed" {
  for_each      = local.processed_tables
  name          = each.key
  database_name = aws_glue_catalog_database.processed.name
  table_type    = "EXTERNAL_TABLE"
  description   = "Parquet under ${local.processed_uri}/${each.value.location} (generated from include/glue/olist_contract.py)."

  parameters = {
    EXTERNAL       = "TRUE"
    classification = "parquet"
  }

  storage_descriptor {
    location      = "${local.processed_uri}/${each.value.location}"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}
