"""Glue 5.0 job: clean one Olist entity of one ingest date into processed Parquet.

Arguments (Glue style, ``--name value``): JOB_NAME, entity, ingest_date, raw_uri, processed_uri,
run_id, formats (what the pipeline file declares of the entity's formats, JSON; ``{}`` when it
declares nothing and everything is detected, see olist_formats). Reads   <raw_uri>/<entity>/ingest_date=<date>/<olist file>.csv
writes          <processed_uri>/<entity>/ingest_date=<date>/           (Parquet, overwritten)
                <processed_uri>/_quarantine/<entity>/ingest_date=<date>/ (rejected rows + reason)
                <processed_uri>/_metrics/<entity>/ingest_date=<date>/metrics.json
so re-running a date replaces exactly that date's output.

``--ingest_date`` must be a real calendar date written YYYY-MM-DD
(:func:`olist_contract.check_run_date`); anything else is refused before any path is built.

A date without a raw file gets an empty partition (an incremental extract has no reference data
on most days), unless that date's processed partition already holds rows: raw files expire
(730 days) while processed data is kept, so a backfill of an old date would replace rows that
can no longer be rebuilt. The job then fails, naming the entity, the date and both paths. When
the extract of that date is empty on purpose, the run says so, and every runtime passes the
optional argument ``--allow_empty true`` (``false`` otherwise; dwh.kinds.ALLOW_EMPTY): the Airflow
DAG param ``allow_empty`` (the trigger form, or a run's conf ``{"allow_empty": true}``),
``dwh run --allow-empty`` locally, the execution input's ``"allow_empty": true`` for the state
machine. A node cannot set it for every run (it is a reserved argument); a Glue job run started
by hand may pass it too.

On AWS Glue the job is defined with ``--extra-py-files`` pointing at olist_transforms.py,
olist_formats.py and olist_contract.py in the scripts bucket, and job bookmarks enabled. Locally
``dwh_tools.local_target.spark.run_glue_script`` calls :func:`run` with a plain SparkSession. Nothing from
awsglue is imported at module level, so the module imports anywhere.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from olist_contract import ENTITIES, ContractError, InvalidRunDate, check_run_date
from olist_formats import HEAD_BYTES, detect, from_json
from olist_transforms import BLANK, RULES, clean, raw_schema, read_raw, with_lineage

FORMATS_WIDTH = 4096  # ops.glue_metrics.formats
ARGS = ["JOB_NAME", "entity", "ingest_date", "raw_uri", "processed_uri", "run_id"]
# Every runtime passes --formats; a run started by hand without it detects everything.
# --allow_empty true: a missing raw file may replace a processed partition that holds rows.
OPTIONAL_ARGS = ["formats", "allow_empty"]


class MissingRawFile(RuntimeError):
    """No raw file for a date whose processed partition holds rows (see the module docstring)."""


def _check_args(args: dict) -> None:
    """Refuse a bad date or entity before any path is built from them."""
    try:
        check_run_date(args["ingest_date"])
    except InvalidRunDate as exc:
        raise InvalidRunDate(f"--ingest_date: {exc}") from None
    if args["entity"] not in ENTITIES:
        known = ", ".join(sorted(ENTITIES))
        raise ValueError(f"--entity: {args['entity']!r} is not an entity (one of: {known})")


def _allow_empty(args: dict) -> bool:
    value = str(args.get("allow_empty") or "false").strip().lower()
    if value not in ("true", "false"):
        raise ValueError(f"--allow_empty: {args['allow_empty']!r} is not true or false")
    return value == "true"


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


def _filesystem(spark, path: str):
    jvm = spark.sparkContext._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    return p.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), p


def _exists(spark, path: str) -> bool:
    fs, p = _filesystem(spark, path)
    return fs.exists(p)


def _has_rows(spark, path: str) -> bool:
    """Whether the Parquet folder at ``path`` holds at least one row."""
    fs, p = _filesystem(spark, path)
    if not fs.exists(p):
        return False
    if not any(s.getPath().getName().endswith(".parquet") for s in fs.listStatus(p)):
        return False
    return spark.read.parquet(path).limit(1).count() > 0


def _size(spark, path: str) -> int:
    fs, p = _filesystem(spark, path)
    return fs.getFileStatus(p).getLen()


def _head(spark, path: str) -> bytes:
    """The file's first bytes: a local path is read directly, any other (S3 on Glue) through
    Hadoop's file system. Those bytes cross from the JVM as one ISO-8859-1 string, which maps
    every byte to one character and back, because py4j converts a byte array one byte at a time.
    """
    if "://" not in path:
        with open(path, "rb") as fh:
            return fh.read(HEAD_BYTES)
    jvm = spark.sparkContext._jvm
    fs, p = _filesystem(spark, path)
    stream = fs.open(p)
    try:
        bounded = jvm.org.apache.commons.io.input.BoundedInputStream(stream, HEAD_BYTES)
        return jvm.org.apache.commons.io.IOUtils.toString(bounded, "ISO-8859-1").encode("latin-1")
    finally:
        stream.close()


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


def _write(df, path: str, by_rule: bool = False) -> dict[str, int]:
    """Write ``df`` as one Parquet file at ``path`` (overwritten); the rows the write itself
    counted as they went into the file (``rows``), and with ``by_rule`` the rows of each rule.

    The counts are observed metrics of the write's own query, so the reconciliation proves what
    was written without reading the output back."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    counts = [F.count(F.lit(1)).alias("rows")]
    if by_rule:
        counts += [F.sum((F.col("_rule") == rule).cast("long")).alias(rule) for rule in RULES]
    observed = Observation()  # a name of its own: several may run in one session
    df.observe(observed, *counts).coalesce(1).write.mode("overwrite").parquet(path)
    result = {k: int(v or 0) for k, v in observed.get.items()}
    if by_rule and sum(result[r] for r in RULES) != result["rows"]:
        unnamed = result["rows"] - sum(result[r] for r in RULES)
        raise RuntimeError(f"{path}: {unnamed} quarantined row(s) without a known rule")
    return result


def _clean_file(spark, entity, paths: dict, args: dict, metrics: dict):
    """(good rows, quarantined rows, rows in, blank rows) of the raw file; notes in ``metrics``
    what the file is when it holds no data, and the formats detected when it does."""
    from pyspark.sql import functions as F

    if not _exists(spark, paths["raw"]) or _size(spark, paths["raw"]) == 0:
        # No file that day (an incremental extract has no reference data) or an empty file:
        # zero rows in, and an empty partition so downstream loads see "nothing new".
        metrics["note"] = "no file" if not _exists(spark, paths["raw"]) else "empty file"
        empty = spark.createDataFrame([], raw_schema(entity))
        good, bad = clean(entity, with_lineage(empty, ""))
        return good, bad, 0, 0
    declared = from_json(args.get("formats"))
    formats = detect(entity, _head(spark, paths["raw"]), paths["raw"], declared)
    metrics["formats"] = formats.to_json(max_length=FORMATS_WIDTH)
    metrics["encoding"] = formats.encoding
    raw = read_raw(spark, entity, paths["raw"], formats)
    counted = raw.agg(
        F.count(F.lit(1)).alias("rows"), F.sum(F.col(BLANK).cast("long")).alias("blank")
    ).first()
    rows_in, rows_blank = counted["rows"], counted["blank"] or 0
    if rows_in == 0:
        metrics["note"] = "header only"
    elif rows_blank == rows_in:
        metrics["note"] = "blank rows only"
    good, bad = clean(entity, raw.filter(~F.col(BLANK)), formats.timestamp_formats)
    return good, bad, rows_in, rows_blank


def run(spark, args: dict) -> dict:
    """Clean one entity for one date; returns (and writes) the metrics record.

    Raises :class:`~olist_contract.ContractError` (not worth a retry) when the file cannot be read
    under the contract: a missing column, a timestamp layout that is unknown or undecidable, a
    column that changed type.
    """
    from pyspark.sql import functions as F

    _check_args(args)
    allow_empty = _allow_empty(args)
    entity = ENTITIES[args["entity"]]
    paths = _paths(args)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    metrics = {
        "entity": entity.name,
        "ingest_date": args["ingest_date"],
        "run_id": args["run_id"],
        "started_at": started,
        "source": paths["raw"],
        "note": None,
    }
    if not _exists(spark, paths["raw"]) and not allow_empty and _has_rows(spark, paths["out"]):
        raise MissingRawFile(
            f"{entity.name} {args['ingest_date']}: no raw file at {paths['raw']}, but the "
            f"processed partition {paths['out']} holds rows; not replacing it with an empty one "
            "(the raw file may have expired, and its rows could not be rebuilt). Land the raw "
            "file again, or run with --allow_empty true if that day's extract is empty on purpose"
        )
    try:
        good, bad, rows_in, rows_blank = _clean_file(spark, entity, paths, args, metrics)
        good = good.withColumn("ingest_date", F.lit(args["ingest_date"]).cast("date"))
        written = _write(good, paths["out"])["rows"]
        by_rule = _write(bad, paths["quarantine"], by_rule=True)
    finally:
        # The raw read is cached for this job only (a Glue job run has a session of its own;
        # the local runner runs one job after another in its session).
        spark.catalog.clearCache()
    rows_quarantined = by_rule.pop("rows")
    rejected = {rule: n for rule, n in by_rule.items() if n}
    metrics.update(
        rows_in=rows_in,
        rows_blank=rows_blank,
        rows_out=written,
        rows_quarantined=rows_quarantined,
        rejected_by_rule=json.dumps(dict(sorted(rejected.items()))),
        finished_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    if rows_in != written + rows_quarantined + rows_blank:
        raise RuntimeError(
            f"{paths['raw']}: reconciliation failed: {rows_in} in != {written} out + "
            f"{rows_quarantined} quarantined + {rows_blank} blank"
        )
    write_json(spark, paths["metrics"], metrics)
    return metrics


def main(argv: list[str]) -> None:  # pragma: no cover - runs on AWS Glue only
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(argv, ARGS + [a for a in OPTIONAL_ARGS if f"--{a}" in argv])
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
