"""Digests of what the Glue jobs and the staging load make of one fixed generated input.

:func:`build` generates a small, seeded input (with defects, a review comment holding a newline,
a UTF-16 file and a windows-1252 file delimited by ';'), runs the Glue script for every entity
on local Spark, loads staging from the Parquet, and :func:`digests` reduces each output to a
SHA-256 of its canonical content: the column names and types, then every row rendered as text,
sorted (so neither Parquet bytes nor row order nor the temporary folder matter; ``_source_file``
is written relative to the raw root). The metrics records count in the digest too, without their
clock times and run id.

The expected digests (tests/fixtures/output_digests.json) are written by

    python tests/glue/output_digests.py tests/fixtures/output_digests.json
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import duckdb
from olist_contract import ENTITIES

from dwh import config
from dwh_tools.datagen import generate

DS = "2024-01-01"
SCALE, SEED, DEFECT_RATE = 0.02, 7, 0.02
SCRIPT = config.GLUE_DIR / "clean_entity.py"
# Re-written after generation: another encoding, another delimiter.
REENCODED = {"sellers": ("utf-16", ","), "customers": ("cp1252", ";")}
# Small file splits, so that a reader that can split a file does, and record numbers are tested
# across partitions.
SPLIT_BYTES = 64 * 1024
METRIC_FIELDS = (
    "entity",
    "ingest_date",
    "rows_in",
    "rows_blank",
    "rows_out",
    "rows_quarantined",
    "rejected_by_rule",
    "note",
    "formats",
    "encoding",
)


def prepare_input(raw: Path) -> None:
    generate(raw, DS, scale=SCALE, seed=SEED, defect_rate=DEFECT_RATE)
    for name, (codec, delimiter) in REENCODED.items():
        path = raw / name / f"ingest_date={DS}" / ENTITIES[name].file_name
        text = path.read_text(encoding="utf-8")
        if delimiter != ",":
            text = text.replace(",", delimiter)  # the generated sellers/customers hold no commas
        path.write_bytes(text.encode(codec))


def run_jobs(root: Path, entities: list[str] | None = None) -> list[dict]:
    from dwh_tools.local_target.spark import get_spark, run_glue_script

    spark = get_spark()
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(SPLIT_BYTES))
    try:
        return [
            run_glue_script(
                SCRIPT,
                {
                    "--JOB_NAME": f"digest.{name}",
                    "--entity": name,
                    "--ingest_date": DS,
                    "--run_id": "digest",
                    "--raw_uri": str(root / "raw"),
                    "--processed_uri": str(root / "processed"),
                    "--formats": "{}",
                },
            )
            for name in entities or ENTITIES
        ]
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", before)


def load_staging(root: Path, entities: list[str] | None = None) -> None:
    from dwh_tools.local_target.warehouse import Warehouse

    wh = Warehouse(root / "warehouse.duckdb")
    try:
        wh.ensure_schema()
        for name in entities or ENTITIES:
            wh.load_entity(name, f"staging.{name}", root / "processed", DS, "digest")
    finally:
        wh.close()


def build(root: Path) -> dict[str, str]:
    """Generate the input under ``root``, run every job and the staging load; the digests."""
    prepare_input(root / "raw")
    run_jobs(root)
    load_staging(root)
    return digests(root)


def _digest(con, relation: str, raw_prefix: str) -> str:
    cur = con.execute(f"select * from {relation}")
    columns = [(d[0], str(d[1])) for d in cur.description]
    source = [i for i, (name, _) in enumerate(columns) if name == "_source_file"]
    rows = []
    for row in cur.fetchall():
        row = list(row)
        for i in source:
            if row[i] is not None:
                row[i] = row[i].replace(raw_prefix, "<raw>")
        rows.append(repr(tuple(row)))
    h = hashlib.sha256(repr(columns).encode())
    for line in sorted(rows):
        h.update(line.encode() + b"\n")
    return f"{len(rows)}:{h.hexdigest()}"


def digests(root: Path) -> dict[str, str]:
    """name -> digest of processed/<entity>, quarantine/<entity>, staging.<entity>, metrics."""
    raw_prefix = str(root / "raw")
    processed = root / "processed"
    out: dict[str, str] = {}
    con = duckdb.connect()
    try:
        for name in ENTITIES:
            for kind, folder in (
                ("processed", processed / name),
                ("quarantine", processed / "_quarantine" / name),
            ):
                files = sorted((folder / f"ingest_date={DS}").glob("*.parquet"))
                listing = ", ".join(f"'{f}'" for f in files)
                out[f"{kind}/{name}"] = _digest(con, f"read_parquet([{listing}])", raw_prefix)
            metrics = json.loads(
                (processed / "_metrics" / name / f"ingest_date={DS}" / "metrics.json").read_text()
            )
            kept = {k: metrics.get(k) for k in METRIC_FIELDS}
            out[f"metrics/{name}"] = hashlib.sha256(
                json.dumps(kept, sort_keys=True).encode()
            ).hexdigest()
    finally:
        con.close()
    wh = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        for name in ENTITIES:
            out[f"staging/{name}"] = _digest(wh, f"staging.{name}", raw_prefix)
    finally:
        wh.close()
    return out


def main(argv: list[str]) -> int:
    import tempfile

    target = Path(argv[1])
    with tempfile.TemporaryDirectory(prefix="digests-") as tmp:
        result = build(Path(tmp))
    target.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"wrote {len(result)} digests to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
