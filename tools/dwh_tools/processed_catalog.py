"""The Glue catalog tables over the processed bucket, generated from the raw data contract.

``dwh compile`` writes infra/modules/glue/processed_tables.json from include/glue/olist_contract.py
(``dwh compile --check`` fails when it drifted); Terraform (infra/modules/glue/processed.tf) makes
one catalog table per entry, and Redshift reads them through the external schema
``spectrum_processed`` (include/sql/ddl/05_spectrum.sql). The same definition resolves that schema
on DuckDB, locally (:func:`duckdb_views` over the local lake) and in the rehearsal (over its mirror
of moto's S3), so every runtime reads the same columns of the same files.

Two kinds of table, each over the folder the Glue job (include/glue/clean_entity.py) writes:

- ``<entity>``: the clean Parquet, ``<processed>/<entity>/ingest_date=<d>/``: the contract's
  columns with their Spark types, the lineage columns and ``ingest_date`` (a column of the files);
- ``quarantine_<entity>``: the rejected rows, ``<processed>/_quarantine/<entity>/ingest_date=<d>/``:
  the contract's columns as the raw text, ``_corrupt_record``, the lineage columns, ``_rule`` and
  ``_reason``.

The columns are listed in the files' own order, so they match whether a reader maps Parquet
columns by name or by position; one quarantine table per entity because the entities' files
differ in their leading columns.

The tables are not partitioned. Redshift Spectrum ignores partition projection (Athena's alone:
"If the same table is read through another service such as Amazon Redshift Spectrum ... the
standard partition metadata is used"), so a partitioned table would read nothing until a crawler
or an ALTER TABLE ADD PARTITION per date registered its partitions. An unpartitioned table reads
every file below its location, subfolders included, with no registration; the date of a row is
its ``ingest_date`` column (clean rows) or the ``ingest_date=`` folder of its ``"$path"``
(quarantined rows). Quarantine is small, so scanning all of it costs little.
"""

from __future__ import annotations

import json
from pathlib import Path

from dwh import config

OUTPUT = config.REPO_ROOT / "infra" / "modules" / "glue" / "processed_tables.json"
SCHEMA = "spectrum_processed"
QUARANTINE_PREFIX = "quarantine_"
# Logical type -> Glue (Hive) column type of what the Glue job writes (olist_transforms.SPARK_TYPES).
GLUE_TYPES = {
    "string": "string",
    "int": "int",
    "double": "double",
    "decimal(12,2)": "decimal(12,2)",
    "timestamp": "timestamp",
    "date": "date",
}
LINEAGE = (("_source_file", "string"), ("_source_line", "bigint"))
# Glue type -> DuckDB type, for the empty stand-in of a table whose folder holds no file yet.
DUCKDB_TYPES = {"string": "varchar", "bigint": "bigint", "timestamp": "timestamp"}


def _entities(include_dir: Path | None = None):
    from dwh_tools.staging_ddl import load_contract

    return load_contract(include_dir).ENTITIES.values()


def tables(include_dir: Path | None = None) -> dict[str, dict]:
    """Table name -> {location (below the processed bucket), columns [{name, type}]}."""
    out = {}
    for e in _entities(include_dir):
        for c in e.columns:
            if c.type not in GLUE_TYPES:
                raise ValueError(f"entity {e.name!r} column {c.name!r}: no Glue type for {c.type}")
        clean = [(c.name, GLUE_TYPES[c.type]) for c in e.columns]
        out[e.name] = {
            "location": f"{e.name}/",
            "columns": [*clean, *LINEAGE, ("ingest_date", "date")],
        }
        out[QUARANTINE_PREFIX + e.name] = {
            "location": f"_quarantine/{e.name}/",
            "columns": [
                *[(c.name, "string") for c in e.columns],
                ("_corrupt_record", "string"),
                *LINEAGE,
                ("_rule", "string"),
                ("_reason", "string"),
            ],
        }
    for t in out.values():
        t["columns"] = [{"name": n, "type": ty} for n, ty in t["columns"]]
    return out


def render(include_dir: Path | None = None) -> str:
    document = {
        "$comment": "Generated from include/glue/olist_contract.py by `dwh compile` "
        "(dwh_tools.processed_catalog); do not edit. infra/modules/glue/processed.tf makes one "
        "Glue catalog table per entry.",
        "tables": tables(include_dir),
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _duck_type(glue_type: str) -> str:
    return DUCKDB_TYPES.get(glue_type, glue_type)


def view_sql(schema: str, table: str, columns: list[dict], folder: Path) -> str:
    """A DuckDB view standing in for the external table ``schema.table`` over ``folder``: the
    catalog's columns read by name, and ``"$path"`` (Spectrum's pseudo-column, the file's path).
    A folder without a Parquet file reads as no rows (DuckDB refuses a glob matching nothing)."""
    files = sorted(p for p in Path(folder).rglob("*.parquet") if not p.name.startswith((".", "_")))
    if not files:
        cols = ", ".join(f'cast(null as {_duck_type(c["type"])}) as "{c["name"]}"' for c in columns)
        return (
            f"create or replace view {schema}.{table} as select {cols}, "
            'cast(null as varchar) as "$path" where false'
        )
    cols = ", ".join(f'"{c["name"]}"' for c in columns)
    glob = str(Path(folder) / "**" / "*.parquet").replace("'", "''")
    return (
        f'create or replace view {schema}.{table} as select {cols}, filename as "$path" '
        f"from read_parquet('{glob}', filename = true, union_by_name = true, "
        "hive_partitioning = false)"
    )


def duckdb_views(processed_root: Path, schema: str = SCHEMA) -> list[str]:
    """The external schema over a local processed folder, as DuckDB statements."""
    root = Path(processed_root)
    statements = [f"create schema if not exists {schema}"]
    for name, t in tables().items():
        statements.append(view_sql(schema, name, t["columns"], root / t["location"]))
    return statements
