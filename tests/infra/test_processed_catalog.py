"""The Glue catalog of the processed bucket (infra/modules/glue/processed.tf) and the Redshift
role's access to it: the tables Spectrum reads have the contract's columns, and the copy role may
read them and the quarantine objects, and nothing it could not read before."""

from __future__ import annotations

import json

from infra_support import parse_hcl
from olist_contract import ENTITIES

from dwh import config
from dwh_tools import processed_catalog
from dwh_tools.rehearsal.iam import Call, evaluate, role_policy

GLUE = config.REPO_ROOT / "infra" / "modules" / "glue"
ACCOUNT, REGION, PREFIX = "123456789012", "eu-west-1", "dwh-rehearsal"
RAW_DB, PROCESSED_DB = "dwh_rehearsal_raw", "dwh_rehearsal_processed"
PROCESSED = f"arn:aws:s3:::{PREFIX}-processed"
INPUTS = {
    "account_id": ACCOUNT,
    "region": REGION,
    "var.name_prefix": PREFIX,
    "var.kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/rehearsal",
    **{f"var.{b}_bucket_arn": f"arn:aws:s3:::{PREFIX}-{b}" for b in ("raw", "processed")},
    "var.glue_database_name": RAW_DB,
    "var.glue_database_arn": f"arn:aws:glue:{REGION}:{ACCOUNT}:database/{RAW_DB}",
    "var.glue_processed_database_name": PROCESSED_DB,
    "var.glue_processed_database_arn": f"arn:aws:glue:{REGION}:{ACCOUNT}:database/{PROCESSED_DB}",
}
# What the Glue job writes per logical type (olist_transforms.SPARK_TYPES), as Hive type names.
SPARK_AS_HIVE = {
    "string": "string",
    "int": "int",
    "double": "double",
    "decimal(12,2)": "decimal(12,2)",
    "timestamp": "timestamp",
}


def glue(action: str, resource: str) -> Call:
    return Call("redshift_copy", action, f"arn:aws:glue:{REGION}:{ACCOUNT}:{resource}", action)


def s3(action: str, resource: str) -> Call:
    return Call("redshift_copy", action, f"arn:aws:s3:::{resource}", action)


def tables() -> dict:
    return json.loads((GLUE / "processed_tables.json").read_text())["tables"]


def test_the_terraform_tables_are_the_generated_file_s_and_it_is_up_to_date():
    doc = parse_hcl(GLUE / "processed.tf")
    (local,) = [b for b in doc["locals"] if "processed_tables" in b]
    assert "processed_tables.json" in local["processed_tables"]
    (table,) = [r["aws_glue_catalog_table"]["processed"] for r in doc["resource"]
                if "aws_glue_catalog_table" in r]  # fmt: skip
    assert table["for_each"] == "${local.processed_tables}"
    (sd,) = table["storage_descriptor"]
    assert sd["dynamic"][0]["columns"]["for_each"] == "${each.value.columns}"
    assert (GLUE / "processed_tables.json").read_text() == processed_catalog.render()


def test_the_catalog_tables_have_the_contract_s_columns_in_the_files_order():
    got = tables()
    assert set(got) == {*ENTITIES, *(f"quarantine_{e}" for e in ENTITIES)}
    for name, entity in ENTITIES.items():
        clean = [(c["name"], c["type"]) for c in got[name]["columns"]]
        assert clean == [
            *[(c.name, SPARK_AS_HIVE[c.type]) for c in entity.columns],
            ("_source_file", "string"),
            ("_source_line", "bigint"),
            ("ingest_date", "date"),
        ], name
        assert got[name]["location"] == f"{name}/"
        rejected = [(c["name"], c["type"]) for c in got[f"quarantine_{name}"]["columns"]]
        assert rejected == [
            *[(c, "string") for c in entity.column_names],  # the raw text of a rejected row
            ("_corrupt_record", "string"),
            ("_source_file", "string"),
            ("_source_line", "bigint"),
            ("_rule", "string"),
            ("_reason", "string"),
        ], name
        assert got[f"quarantine_{name}"]["location"] == f"_quarantine/{name}/"


def test_the_redshift_role_reads_the_processed_catalog_and_the_quarantine_objects():
    policy = {"redshift_copy": role_policy("redshift_copy", INPUTS)}
    key = f"{PREFIX}-processed/_quarantine/orders/ingest_date=2024-01-01/part-0.snappy.parquet"
    reads = [
        glue("glue:GetDatabase", f"database/{PROCESSED_DB}"),
        glue("glue:GetTables", f"table/{PROCESSED_DB}/quarantine_orders"),
        glue("glue:GetTable", f"table/{PROCESSED_DB}/orders"),
        s3("s3:ListBucket", f"{PREFIX}-processed"),
        s3("s3:GetObject", key),
    ]
    assert evaluate(reads, policy) == []


def test_the_redshift_role_gains_nothing_beyond_reading_them():
    policy = {"redshift_copy": role_policy("redshift_copy", INPUTS)}
    key = f"{PREFIX}-processed/_quarantine/orders/ingest_date=2024-01-01/part-0.snappy.parquet"
    beyond = [
        glue("glue:CreatePartition", f"table/{PROCESSED_DB}/quarantine_orders"),
        glue("glue:BatchCreatePartition", f"table/{PROCESSED_DB}/quarantine_orders"),
        glue("glue:UpdateTable", f"table/{PROCESSED_DB}/orders"),
        glue("glue:CreateTable", f"table/{PROCESSED_DB}/new"),
        glue("glue:DeleteTable", f"table/{PROCESSED_DB}/orders"),
        glue("glue:GetTable", "table/another_database/orders"),
        glue("glue:GetDatabase", "database/another_database"),
        s3("s3:PutObject", key),
        s3("s3:DeleteObject", key),
        s3("s3:GetObject", f"{PREFIX}-scripts/glue/clean_entity.py"),
    ]
    denied = {(d.action, d.resource) for d in evaluate(beyond, policy)}
    assert denied == {(c.action, c.resource) for c in beyond}
