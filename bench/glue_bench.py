"""Glue job throughput on local Spark, beside a DuckDB read of the same CSV files.

For each scale (default 1 and 10) it generates the sample data once, then runs the real Glue
script (include/glue/clean_entity.py, as the local operator does, on one reused Spark session)
for every entity and prints per job: rows in, seconds, rows/second, and the time DuckDB takes to
read and count the same CSV file (the machine's speed reference). Working files go under
$DWH_HOME/bench/glue (removed at the end unless --keep).

    python bench/glue_bench.py [--scales 1,10] [--defect-rate 0.01] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import duckdb
from olist_contract import ENTITIES

from dwh import config
from dwh_tools.datagen import generate
from dwh_tools.local_target.spark import get_spark, run_glue_script

DS = "2024-01-01"
SCRIPT = config.GLUE_DIR / "clean_entity.py"


def duckdb_read(path: Path) -> tuple[int, float]:
    """Seconds for DuckDB to parse the whole CSV (all columns as text, as the Glue job reads).

    Malformed records are skipped (ignore_errors): this is the machine's speed reference, not a
    second cleaning.
    """
    con = duckdb.connect()
    con.execute("set threads to 2")
    t0 = time.perf_counter()
    (rows,) = con.execute(
        "select count(*) from (select * from read_csv(?, header = true, all_varchar = true, "
        "ignore_errors = true))",
        [str(path)],
    ).fetchone()
    seconds = time.perf_counter() - t0
    con.close()
    return rows, seconds


def bench_scale(scale: float, work: Path, defect_rate: float) -> list[dict]:
    raw, processed = work / "raw", work / "processed"
    t0 = time.perf_counter()
    generate(raw, DS, scale=scale, seed=42, defect_rate=defect_rate)
    print(f"\nscale {scale:g}: sample data generated in {time.perf_counter() - t0:.1f}s")
    rows = []
    for entity in ENTITIES.values():
        csv_path = raw / entity.name / f"ingest_date={DS}" / entity.file_name
        t0 = time.perf_counter()
        metrics = run_glue_script(
            SCRIPT,
            {
                "--JOB_NAME": f"bench.{entity.name}",
                "--entity": entity.name,
                "--ingest_date": DS,
                "--run_id": "bench",
                "--raw_uri": str(raw),
                "--processed_uri": str(processed),
            },
        )
        glue_s = time.perf_counter() - t0
        _, duck_s = duckdb_read(csv_path)
        rows.append(
            {
                "entity": entity.name,
                "rows_in": metrics["rows_in"],
                "quarantined": metrics["rows_quarantined"],
                "mb": csv_path.stat().st_size / 1e6,
                "glue_s": glue_s,
                "duck_s": duck_s,
            }
        )
    return rows


def print_table(scale: float, rows: list[dict]) -> None:
    head = (
        f"{'entity':<34}{'rows in':>10}{'quarant.':>9}{'MB':>8}{'job s':>8}"
        f"{'rows/s':>10}{'duckdb s':>10}{'ratio':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        rate = r["rows_in"] / r["glue_s"] if r["glue_s"] else 0
        print(
            f"{r['entity']:<34}{r['rows_in']:>10}{r['quarantined']:>9}{r['mb']:>8.1f}"
            f"{r['glue_s']:>8.2f}{rate:>10.0f}{r['duck_s']:>10.3f}"
            f"{r['glue_s'] / max(r['duck_s'], 1e-3):>7.0f}x"
        )
    total_rows = sum(r["rows_in"] for r in rows)
    total_s = sum(r["glue_s"] for r in rows)
    print(
        f"{'all jobs':<34}{total_rows:>10}{sum(r['quarantined'] for r in rows):>9}"
        f"{sum(r['mb'] for r in rows):>8.1f}{total_s:>8.2f}{total_rows / total_s:>10.0f}"
        f"{sum(r['duck_s'] for r in rows):>10.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--defect-rate", type=float, default=0.01)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    t0 = time.perf_counter()
    get_spark()
    print(f"local Spark session started in {time.perf_counter() - t0:.1f}s (local[2])")
    for scale in [float(s) for s in args.scales.split(",")]:
        work = config.dwh_home() / "bench" / "glue" / f"scale_{scale:g}"
        shutil.rmtree(work, ignore_errors=True)
        print_table(scale, bench_scale(scale, work, args.defect_rate))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
