"""Staging tables agree with the contract and with what the Glue job really writes.

include/sql/ddl/02_staging_tables.sql is generated from include/glue/olist_contract.py
(``dwh compile``). These tests read it back with sqlglot and hold it against the contract's
logical types and widths, and against the Parquet the real Glue job writes on local Spark, so a
staging column that COPY ... FORMAT AS PARQUET would reject fails here, not on Redshift.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import sqlglot
from olist_contract import DATE, DECIMAL, DOUBLE, ENTITIES, INT, STRING, TIMESTAMP
from sqlglot import exp

from dwh import config
from dwh_tools import staging_ddl
from dwh_tools.local_target.spark import get_spark, run_glue_script

DDL = config.REPO_ROOT / "include" / "sql" / "ddl" / "02_staging_tables.sql"
SCRIPT = config.REPO_ROOT / "include" / "glue" / "clean_entity.py"
LINEAGE = {"_source_file": "VARCHAR(1024)", "_source_line": "BIGINT", "ingest_date": "DATE"}

# The contract's logical types as Redshift spells them (varchar widths checked apart).
LOGICAL = {
    STRING: "VARCHAR",
    INT: "INTEGER",
    DOUBLE: "DOUBLE PRECISION",
    DECIMAL: "DECIMAL(12, 2)",
    TIMESTAMP: "TIMESTAMP",
    DATE: "DATE",
}

# What Redshift's COPY ... FORMAT AS PARQUET loads a Parquet column into: a column type that holds
# every value of the physical type (an INT32 fits integer or bigint; an INT64 only bigint; a
# string never goes into a number).
COPY_ACCEPTS = {
    "string": {"VARCHAR", "CHAR"},
    "int32": {"INTEGER", "BIGINT"},
    "int64": {"BIGINT"},
    "double": {"DOUBLE PRECISION"},
    "decimal128(12, 2)": {"DECIMAL(12, 2)"},
    "timestamp[us]": {"TIMESTAMP"},
    "timestamp[ns]": {"TIMESTAMP"},
    "date32[day]": {"DATE"},
}


def staging_tables(text: str) -> dict[str, dict]:
    """{entity: {"columns": [(name, type)], "distkey": ..., "sortkey": ...}} parsed by sqlglot."""
    tables = {}
    for statement in sqlglot.parse(text, read="redshift"):
        assert isinstance(statement, exp.Create), statement.sql()
        schema = statement.this
        table = schema.this
        assert table.db == "staging", table.sql()
        props = {
            type(p).__name__: p for p in statement.args["properties"].expressions
        }  # DistKeyProperty, SortKeyProperty, DistStyleProperty
        tables[table.name] = {
            "columns": [
                (c.name, c.kind.sql("redshift"))
                for c in schema.expressions
                if isinstance(c, exp.ColumnDef)
            ],
            "distkey": [props["DistKeyProperty"].this.name],
            "sortkey": [e.name for e in props["SortKeyProperty"].this],
        }
    return tables


@pytest.fixture(scope="module")
def tables() -> dict[str, dict]:
    return staging_tables(DDL.read_text())


@pytest.fixture(scope="module")
def glue_schemas() -> dict[str, dict[str, str]]:
    """{entity: {column: Parquet type, as Arrow names it}} of what the Glue job writes: the
    schema of its clean() output plus the ingest_date partition column, as clean_entity.run
    builds it (Spark plans the schema without running anything)."""
    from olist_transforms import clean, raw_schema, with_lineage
    from pyspark.sql import functions as F

    spark = get_spark()
    schemas = {}
    for name, entity in ENTITIES.items():
        raw = with_lineage(spark.createDataFrame([], raw_schema(entity)), "")
        good, _ = clean(entity, raw)
        good = good.withColumn("ingest_date", F.lit("2024-01-01").cast("date"))
        schemas[name] = {f.name: parquet_type(f.dataType) for f in good.schema.fields}
    return schemas


def parquet_type(spark_type) -> str:
    """The Arrow name of the Parquet column Spark writes for a Spark type."""
    from pyspark.sql import types as T

    if isinstance(spark_type, T.DecimalType):
        return f"decimal128({spark_type.precision}, {spark_type.scale})"
    return {
        T.StringType: "string",
        T.IntegerType: "int32",
        T.LongType: "int64",
        T.DoubleType: "double",
        T.TimestampType: "timestamp[ns]",  # INT96, Spark's (and Glue's) default
        T.DateType: "date32[day]",
    }[type(spark_type)]


def test_the_glue_job_writes_the_parquet_types_the_schema_says(tmp_path, glue_schemas):
    """One real run of the job (order_items has every kind of column): its Parquet file has the
    physical types the planned schema predicts."""
    run_glue_script(
        SCRIPT,
        {
            "--JOB_NAME": "types.order_items",
            "--entity": "order_items",
            "--ingest_date": "2024-01-01",
            "--run_id": "types",
            "--raw_uri": str(tmp_path / "raw"),  # no file that day: an empty, typed partition
            "--processed_uri": str(tmp_path / "processed"),
        },
    )
    (part,) = (tmp_path / "processed" / "order_items" / "ingest_date=2024-01-01").glob("*.parquet")
    written = {f.name: str(f.type) for f in pq.read_schema(part)}
    assert written == glue_schemas["order_items"]


def test_the_checked_in_file_is_what_the_contract_generates():
    assert DDL.read_text() == staging_ddl.render(), "run `bin/dwh compile`"
    assert DDL.read_text().startswith("-- Generated from include/glue/olist_contract.py")


def test_one_staging_table_per_entity_in_contract_order(tables):
    assert list(tables) == list(ENTITIES)


@pytest.mark.parametrize("name", list(ENTITIES))
def test_columns_order_and_types_are_the_contracts(tables, name):
    entity = ENTITIES[name]
    columns = tables[name]["columns"]
    assert [c for c, _ in columns] == [*entity.column_names, *LINEAGE]
    for (column, redshift), c in zip(columns, entity.columns, strict=False):
        if c.type == STRING:
            assert redshift == f"VARCHAR({c.string_width})", column
        else:
            assert redshift == LOGICAL[c.type], f"staging.{name}.{column}: {c.type}"
    assert dict(columns[len(entity.columns) :]) == LINEAGE
    assert tables[name]["distkey"] == [entity.natural_key[0]]
    assert tables[name]["sortkey"] == ["ingest_date"]


@pytest.mark.parametrize("name", list(ENTITIES))
def test_copy_from_the_glue_schemas_accepts_every_column(tables, glue_schemas, name):
    written = glue_schemas[name]
    columns = tables[name]["columns"]
    assert [c for c, _ in columns] == list(written), "Parquet and staging column order differ"
    for column, redshift in columns:
        base = redshift.split("(")[0] if redshift.startswith(("VARCHAR", "CHAR")) else redshift
        accepts = COPY_ACCEPTS[written[column]]
        assert base in accepts, (
            f"staging.{name}.{column} is {redshift} but the Glue job writes {written[column]}: "
            f"COPY FORMAT AS PARQUET needs one of {sorted(accepts)}"
        )


def test_every_logical_type_has_one_redshift_type():
    assert set(staging_ddl.REDSHIFT_TYPES) == set(LOGICAL)
