"""Glue 5.0 job: clean one Olist entity of one ingest date into processed Parquet.

Arguments (Glue style, ``--name value``): JOB_NAME, entity, ingest_date, raw_uri, processed_uri,
run_id. Reads   <raw_uri>/<entity>/ingest_date=<date>/<olist file>.csv
writes          <processed_uri>/<entity>/ingest_date=<date>/           (Parquet, overwritten)
                <processed_uri>/_quarantine/<entity>/ingest_date=<date>/ (rejected rows + reason)
                <processed_uri>/_metrics/<entity>/ingest_date=<date>/metrics.json
so re-running a date replaces exactly that date's output.

On AWS Glue the job is defined with ``--extra-py-files`` pointing at olist_transforms.py and
olist_contract.py in the scripts bucket, and job bookmarks enabled. Locally
``dwh_tools.local_target.spark.run_glue_script`` calls :func:`run` with a plain SparkSession. Nothing from
awsglue is imported at module level, so the module imports anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from olist_contract import ENTITIES
from olist_transforms import ContractError, check_header, clean, read_raw

ARGS = ["JOB_NAME", "entity", "ingest_date", "raw_uri", "processed_uri", "run_id"]


def _paths(args: dict) -> dict[str, str]:
    e, d = args["entity"], args["ingest_date"]
    base = args["processed_uri"].rstrip("/")
    raw = args["raw_uri"].rstrip("/")
    return {
        "raw_dir": f"{raw}/{e}/ingest_date={d}",
        "raw": f"{raw}/{e}/ingest_date={d}/{ENTITIES[e].file_name}",
        "out": f"{base}/{e}/ingest_date={d}",
        "quarantine": f"{base}/_quarantine/{e}/ingest_date={d}",
        "metrics": f"{base}/_metrics/{e}/ingest_date={d}/metrics.json",
    }


def _exists(spark, path: str) -> bool:
    jvm = spark.sparkContext._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    return p.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(p)


def _size(spark, path: str) -> int:
    jvm = spark.sparkContext._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    fs = p.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs.getFileStatus(p).getLen()


def _sniff(spark, path: str) -> tuple[list[str], str]:
    """The header and the encoding of a raw file (UTF-8, with or without BOM, or Latin-1)."""
    lines = [r.value for r in spark.read.text(path).limit(200).collect()]
    encoding = "ISO-8859-1" if any("\ufffd" in line for line in lines) else "UTF-8"
    if encoding != "UTF-8":
        lines = [
            r.value for r in spark.read.option("encoding", encoding).text(path).limit(1).collect()
        ]
    header = lines[0].lstrip("\ufeff").split(",") if lines else []
    return header, encoding


def write_json(spark, path: str, record: dict) -> None:
    text = json.dumps(record, sort_keys=True)
    if path.startswith("s3://"):
        import boto3  # present on Glue; only S3 paths need it

        bucket, key = path[5:].split("/", 1)
        boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode())
        return
    from pathlib import Path

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)


def run(spark, args: dict) -> dict:
    """Clean one entity for one date; returns (and writes) the metrics record."""
    entity = ENTITIES[args["entity"]]
    paths = _paths(args)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    metrics = {
        "entity": entity.name,
        "ingest_date": args["ingest_date"],
        "run_id": args["run_id"],
        "started_at": started,
        "source": paths["raw"],
    }
    if not _exists(spark, paths["raw"]) or _size(spark, paths["raw"]) == 0:
        # No file that day (an incremental extract has no reference data) or an empty file:
        # zero rows in, and an empty partition so downstream loads see "nothing new".
        good = bad = None
        rows_in = 0
        metrics["note"] = "no file" if not _exists(spark, paths["raw"]) else "empty file"
    else:
        header, encoding = _sniff(spark, paths["raw"])
        check_header(entity, header, paths["raw"])
        raw = read_raw(spark, entity, paths["raw"], encoding)
        rows_in = raw.count()
        good, bad = clean(entity, raw)
        metrics["encoding"] = encoding

    from pyspark.sql import functions as F

    if good is None:
        from olist_transforms import raw_schema

        empty = spark.createDataFrame([], raw_schema(entity))
        good, bad = clean(entity, read_empty(spark, empty))
    good = good.withColumn("ingest_date", F.lit(args["ingest_date"]).cast("date"))
    good.coalesce(1).write.mode("overwrite").parquet(paths["out"])
    bad.coalesce(1).write.mode("overwrite").parquet(paths["quarantine"])
    written = spark.read.parquet(paths["out"]).count()
    rejected = {
        r["_rule"]: r["count"]
        for r in spark.read.parquet(paths["quarantine"]).groupBy("_rule").count().collect()
    }
    rows_quarantined = sum(rejected.values())
    metrics.update(
        rows_in=rows_in,
        rows_out=written,
        rows_quarantined=rows_quarantined,
        rejected_by_rule=json.dumps(dict(sorted(rejected.items()))),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    if rows_in != written + rows_quarantined:
        raise RuntimeError(
            f"{paths['raw']}: reconciliation failed: {rows_in} in != {written} out + "
            f"{rows_quarantined} quarantined"
        )
    write_json(spark, paths["metrics"], metrics)
    return metrics


def read_empty(spark, empty):
    from olist_transforms import with_lineage

    return with_lineage(empty, "")


def main(argv: list[str]) -> None:  # pragma: no cover - runs on AWS Glue only
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(argv, ARGS)
    glue = GlueContext(SparkContext.getOrCreate())
    job = Job(glue)
    job.init(args["JOB_NAME"], args)
    try:
        run(glue.spark_session, args)
    except ContractError as exc:
        print(f"contract violation: {exc}", file=sys.stderr)
        raise
    job.commit()


if __name__ == "__main__":
    main(sys.argv)
