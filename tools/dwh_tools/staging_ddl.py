"""The staging tables, generated from the raw data contract (include/glue/olist_contract.py).

``dwh compile`` writes include/sql/ddl/02_staging_tables.sql from it and ``dwh compile --check``
fails when the file drifted, so staging always has the contract's columns, in its order, with the
Redshift type that COPY ... FORMAT AS PARQUET accepts for what the Glue job writes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from dwh import config

# Logical type -> Redshift column type. The Glue job (include/glue/olist_transforms.py,
# SPARK_TYPES) writes each logical type as the Parquet type in the comment; COPY needs a column
# type that holds it (an INT32 fits integer or bigint, an INT64 only bigint).
REDSHIFT_TYPES = {
    "string": "varchar({width})",  # StringType -> BYTE_ARRAY (UTF8); width from the contract
    "int": "integer",  # IntegerType -> INT32
    "double": "double precision",  # DoubleType -> DOUBLE
    "decimal(12,2)": "decimal(12, 2)",  # DecimalType(12, 2) -> DECIMAL(12, 2)
    "timestamp": "timestamp",  # TimestampType -> timestamp
    "date": "date",  # DateType -> DATE
}
# What the Glue job adds after the contract's columns (with_lineage and the partition column).
LINEAGE_COLUMNS = (
    ("_source_file", "varchar(1024)"),  # StringType
    ("_source_line", "bigint"),  # LongType -> INT64
    ("ingest_date", "date not null"),  # DateType
)

HEADER = """\
-- Generated from include/glue/olist_contract.py by `dwh compile`: do not edit by hand.
-- To change a staging table, change the contract and run `bin/dwh compile`
-- (`bin/dwh compile --check` fails when this file is out of date).
-- One table per processed entity, columns in the processed Parquet order, then lineage and the
-- ingest date partition. Loads truncate and reload a table per logical date, so no keys are
-- enforced here.
"""


def output_path(include_dir: Path | None = None) -> Path:
    return (include_dir or config.INCLUDE_DIR) / "sql" / "ddl" / "02_staging_tables.sql"


def load_contract(include_dir: Path | None = None) -> ModuleType:
    """The contract module of ``include_dir`` (by path, so DWH_INCLUDE_DIR is honoured)."""
    path = (include_dir or config.INCLUDE_DIR) / "glue" / "olist_contract.py"
    spec = importlib.util.spec_from_file_location("_staging_contract", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def redshift_type(column) -> str:
    if column.type not in REDSHIFT_TYPES:
        raise ValueError(f"column {column.name!r}: no Redshift type for {column.type!r}")
    return REDSHIFT_TYPES[column.type].format(width=column.string_width)


def table_ddl(entity) -> str:
    columns = [(c.name, redshift_type(c)) for c in entity.columns] + list(LINEAGE_COLUMNS)
    body = ",\n".join(f"    {name} {type_}" for name, type_ in columns)
    return (
        f"create table if not exists staging.{entity.name} (\n{body}\n)\n"
        f"diststyle key\ndistkey ({entity.natural_key[0]})\nsortkey (ingest_date);\n"
    )


def render(include_dir: Path | None = None) -> str:
    """The text of 02_staging_tables.sql for the contract of ``include_dir``."""
    entities = load_contract(include_dir).ENTITIES.values()
    return HEADER + "".join("\n" + table_ddl(e) for e in entities)
