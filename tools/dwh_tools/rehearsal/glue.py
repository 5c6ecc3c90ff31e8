"""AWS Glue behind moto's API, executed for real: job runs run their script on local PySpark.

moto 5.2.5 records a StartJobRun but runs nothing (the run reads SUCCEEDED on its first
GetJobRun), moves a crawl out of RUNNING only when ListCrawls is called, reports a finished crawl
as ``COMPLETED`` where AWS says ``SUCCEEDED``, and has no GetCrawlerMetrics. :func:`install`
(called once inside ``moto.mock_aws``) patches moto's Glue models so that

- StartJobRun, from any caller (boto3, the provider's GlueJobOperator, moto's Step Functions
  interpreter), takes the job's ``Command.ScriptLocation`` and the ``.py`` files beside it from
  moto's S3, mirrors the S3 objects the run reads into a local folder, runs the script with the
  job's DefaultArguments merged with the run's Arguments (moto merges them as Glue does) plus
  ``--JOB_NAME``, every ``s3://`` argument rewritten to the mirror, then makes S3 equal to what
  Spark left in the mirror (new and changed files uploaded, files the job removed deleted);
- GetJobRun reports RUNNING on the first poll, then SUCCEEDED, or FAILED with ErrorMessage
  (:meth:`GlueOnSpark.fail_runs` makes the next runs of a job fail as Glue's platform fails one);
- StartCrawler crawls the crawler's S3 targets with the local crawler; the crawler then reads
  RUNNING, STOPPING and READY on successive polls, with LastCrawl SUCCEEDED, or FAILED and the
  crawler's error naming entity, file and column;
- GetCrawlerMetrics answers from the crawler's crawls.

The job runs synchronously inside StartJobRun rather than in a background thread: moto's
backends are plain dicts without locks, a thread still writing to S3 after ``mock_aws`` exits
would reach the real AWS endpoints, and a failure belongs to the run that caused it. Every run and
crawl is recorded with the S3 keys it read, wrote and deleted (:func:`runs`, :func:`crawls`), so
the IAM policies of the Glue roles can be checked against what the jobs really touched.

Use::

    with mock_aws():
        glue_on_spark = install(tmp / "mirror")   # or: with GlueOnSpark(tmp / "mirror"):
        ...  # provision, land raw files, run the DAG or the state machine
        records = runs()
        uninstall()

A stand-in for moto's ``glue:startJobRun.sync`` waiting should poll with
:func:`finished_job_run`: a single GetJobRun after StartJobRun reads RUNNING.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.util
import re
import statistics
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.glue import models as glue_models
from moto.glue.responses import GlueResponse

from dwh_tools.local_target import spark as local_spark
from dwh_tools.local_target.spark import run_glue_script

# Glue's own arguments: they name Glue resources, not the data the script reads or writes.
GLUE_ARGS = {
    "--extra-py-files",
    "--extra-jars",
    "--extra-files",
    "--TempDir",
    "--scriptLocation",
    "--spark-event-logs-path",
    "--additional-python-modules",
    "--python-modules-installer-option",
}
MAX_ERROR = 4000  # AWS truncates ErrorMessage too; a Java stack trace can be long
FINISHED_CRAWL = ("COMPLETED", "FAILED", "STOPPED")
CRAWL_STATUS = {"COMPLETED": "SUCCEEDED", "STOPPED": "CANCELLED", "FAILED": "FAILED"}
PARTITION = re.compile(r"(?:^|/)([^/]+)/ingest_date=(\d{4}-\d{2}-\d{2})/([^/]+)$")


def _now() -> dt.datetime:
    return utcnow()  # naive UTC, as moto's own timestamps


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR]


class _PlatformFailure(Exception):
    """A run failed by Glue itself (:meth:`GlueOnSpark.fail_runs`); its text is the ErrorMessage."""


def _is_data(name: str, value) -> bool:
    """An argument naming data in S3 (not one of Glue's own)."""
    return name not in GLUE_ARGS and isinstance(value, str) and value.startswith("s3://")


@dataclass
class JobRunRecord:
    job_name: str
    run_id: str
    role: str  # the job's Role, whose policy must allow the reads, writes and deletes
    script: str
    arguments: dict[str, str]  # as Glue received them (S3 URIs), with --JOB_NAME
    local_arguments: dict[str, str] = field(default_factory=dict)  # as the script got them
    state: str = "RUNNING"
    error: str | None = None
    reads: list[str] = field(default_factory=list)  # s3://bucket/key of every object read
    writes: list[str] = field(default_factory=list)  # objects put (new or changed)
    deletes: list[str] = field(default_factory=list)  # objects the job removed
    listed: list[str] = field(default_factory=list)  # prefixes listed (s3:ListBucket)
    started_at: dt.datetime = field(default_factory=_now)
    finished_at: dt.datetime | None = None
    result: object = None  # what the script's run() returned
    traceback: str | None = None


@dataclass
class CrawlRecord:
    crawler_name: str
    crawl_id: str
    role: str
    targets: list[str]
    state: str = "RUNNING"
    error: str | None = None
    reads: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)  # "<entity>/<date>" -> the local crawler's report
    tables_created: int = 0
    tables_updated: int = 0


class _Mirror:
    """A local copy of S3 prefixes: made equal to S3 before a run, S3 made equal to it after."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._known: dict[str, str] = {}  # "bucket/key" -> md5 of the copy known to equal S3

    def path(self, bucket: str, key: str) -> Path:
        return self.root / bucket / key

    def to_local(self, uri: str) -> str:
        bucket, key = _split(uri)
        return str(self.root / bucket) + ("/" + key if key else "")

    @staticmethod
    def _drop(path: Path) -> None:
        # Spark's local file system keeps a .<name>.crc beside each file it writes; a stale one
        # beside a replaced file makes the next read fail its checksum.
        path.unlink(missing_ok=True)
        path.with_name(f".{path.name}.crc").unlink(missing_ok=True)

    def _files(self, folder: Path) -> list[Path]:
        if not folder.is_dir():
            return []
        return [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".crc")]

    def _list(self, s3, bucket: str, prefix: str) -> dict[str, str]:
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    objects[obj["Key"]] = obj["ETag"].strip('"')
        return objects

    def pull(self, s3, uri: str, reads: list[str], listed: list[str]) -> None:
        """Make the mirror of the folder ``uri`` equal to S3 (download what differs)."""
        bucket, prefix = _split(uri)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        listed.append(f"s3://{bucket}/{prefix}")
        objects = self._list(s3, bucket, prefix)
        for path in self._files(self.root / bucket / prefix):
            key = path.relative_to(self.root / bucket).as_posix()
            if key not in objects:  # deleted in S3 since it was mirrored
                self._drop(path)
                self._known.pop(f"{bucket}/{key}", None)
        for key, etag in sorted(objects.items()):
            path = self.path(bucket, key)
            reads.append(f"s3://{bucket}/{key}")
            if not (path.is_file() and _md5(path) == etag):
                self._drop(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            self._known[f"{bucket}/{key}"] = _md5(path)

    def push(self, s3, scopes: list[str], buckets: set[str], since: float, record) -> None:
        """Make S3 equal to the mirror: inside the scopes, and wherever the run wrote a file."""
        folders = [(*_split(uri), None) for uri in scopes]
        # A write outside the expected folders still reaches S3.
        folders += [(bucket, "", since) for bucket in buckets]
        candidates: dict[str, Path] = {}
        for bucket, prefix, newer in folders:
            for path in self._files(self.root / bucket / prefix):
                if newer is None or path.stat().st_mtime >= newer:
                    candidates[f"{bucket}/{path.relative_to(self.root / bucket).as_posix()}"] = path
        for bk, path in sorted(candidates.items()):
            digest = _md5(path)
            if self._known.get(bk) != digest:
                bucket, key = bk.split("/", 1)
                s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
                self._known[bk] = digest
                record.writes.append(f"s3://{bk}")
        for uri in scopes:
            bucket, prefix = _split(uri)
            within = f"{bucket}/{prefix.rstrip('/')}/" if prefix else f"{bucket}/"
            for bk in sorted(k for k in self._known if k.startswith(within)):
                if not self.path(*bk.split("/", 1)).is_file():
                    s3.delete_object(Bucket=bucket, Key=bk.split("/", 1)[1])
                    del self._known[bk]
                    record.deletes.append(f"s3://{bk}")


class _Phased:
    """A moto model whose states are set by the real outcome and revealed one per poll.

    The objects are moto's own (their class is swapped once created), so moto keeps its lists of
    runs and crawls; moto calls ``advance()`` each time it describes one, which is a poll here.
    """

    _phases: list[str]
    _polls: int = 0
    error: str | None = None
    finished_on: dt.datetime | None = None

    @property
    def status(self) -> str:
        # advance() comes before the description, so the first poll sees phase 0.
        return self._phases[min(max(self._polls - 1, 0), len(self._phases) - 1)]

    @status.setter
    def status(self, value: str) -> None:
        self._phases, self._polls = [value], 0

    def advance(self) -> None:
        self._polls += 1

    def settle(self) -> None:
        """Reveal the outcome: the work finished inside its Start call."""
        self._polls = len(self._phases)


class _SparkJobRun(_Phased, glue_models.FakeJobRun):
    def as_dict(self) -> dict:
        data = super().as_dict()
        if data["JobRunState"] == "RUNNING":
            data.pop("CompletedOn", None)
            data["ExecutionTime"] = int((_now() - self.started_on).total_seconds())
        else:
            data["CompletedOn"] = data["LastModifiedOn"] = self.finished_on
            data["ExecutionTime"] = int((self.finished_on - self.started_on).total_seconds())
            if data["JobRunState"] == "FAILED" and self.error:
                data["ErrorMessage"] = self.error
        return data


class _LocalCrawl(_Phased, glue_models.FakeCrawl):
    record: CrawlRecord | None = None

    @_Phased.status.setter
    def status(self, value: str) -> None:
        # moto's StopCrawler sets STOPPING; the crawl then stops on the next poll.
        self._phases, self._polls, self.error = [value, "STOPPED"], 0, None

    def as_dict(self) -> dict:
        data = super().as_dict()
        data.pop("EndTime", None)  # moto shows it as soon as it is set
        if self.status in FINISHED_CRAWL:
            data["EndTime"] = self.finished_on
        if self.status == "FAILED" and self.error:
            data["ErrorMessage"] = self.error
        return data


def _fake_crawler_as_dict(original):
    def as_dict(crawler) -> dict:
        ours = [c for c in crawler.crawls if isinstance(c, _LocalCrawl)]
        if crawler.crawls and isinstance(crawler.crawls[-1], _LocalCrawl):
            crawler.crawls[-1].advance()  # describing the crawler is a poll
        data = original(crawler)
        if not ours:
            return data
        current = crawler.crawls[-1]
        if current.status in ("RUNNING", "STOPPING"):
            data["CrawlElapsedTime"] = int((_now() - current.start_time).total_seconds() * 1000)
        # AWS's LastCrawl is the last finished crawl, with SUCCEEDED / CANCELLED / FAILED.
        data.pop("LastCrawl", None)
        done = [c for c in crawler.crawls if c.status in FINISHED_CRAWL]
        if done:
            last = done[-1]
            data["LastCrawl"] = {
                "Status": CRAWL_STATUS[last.status],
                "LogGroup": last.log_group,
                "LogStream": last.log_stream,
                "MessagePrefix": last.message_prefix,
                "StartTime": last.start_time,
            }
            if getattr(last, "error", None):
                data["LastCrawl"]["ErrorMessage"] = last.error
        return data

    return as_dict


def _clear_spark_cache() -> None:
    """Each Glue run is a new Spark application; the shared local session is not.

    Without this, a re-read of a path is answered from a DataFrame an earlier run cached
    (olist_transforms caches the raw read), and a rerun over a replaced file sees the old rows.
    """
    if local_spark._session is not None:  # no session to start just to clear it
        local_spark._session.catalog.clearCache()


@contextlib.contextmanager
def _script_imports(folder: Path, stems: list[str]):
    """Import the script's modules from ``folder``; the process's own copies come back after."""
    saved = {s: sys.modules.pop(s) for s in stems if s in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for s in stems:
            sys.modules.pop(s, None)
        sys.modules.update(saved)


def _load(script: Path):
    spec = importlib.util.spec_from_file_location(f"glue_scope_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class GlueOnSpark:
    """Patches moto's Glue while installed; see the module docstring. Use :func:`install`."""

    def __init__(
        self,
        mirror: Path,
        *,
        running_polls: int = 1,
        stopping_polls: int = 1,
        run_crawler: bool = True,
    ):
        self.mirror = _Mirror(Path(mirror))
        self.running_polls = running_polls
        self.stopping_polls = stopping_polls
        self.run_crawler = run_crawler
        self._runs: list[JobRunRecord] = []
        self._crawls: list[CrawlRecord] = []
        self._crawled: dict[tuple[str, str], str] = {}  # (crawler, s3 uri) -> ETag crawled
        self._lock = threading.RLock()
        self._saved: list[tuple[object, str, object]] = []
        self._failing: dict[str, list[str]] = {}  # job name -> ErrorMessage of its next runs

    # -- patching -------------------------------------------------------------------------
    def _patch(self, owner, name: str, value) -> None:
        self._saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, value)

    _active: GlueOnSpark | None = None  # a second patch over the first would run jobs twice

    def install(self) -> GlueOnSpark:
        if GlueOnSpark._active is self:
            return self
        if GlueOnSpark._active is not None:
            raise RuntimeError("Glue on Spark is installed already; uninstall it first")
        GlueOnSpark._active = self
        start_job_run = glue_models.GlueBackend.start_job_run
        start_crawler = glue_models.FakeCrawler.start_crawler
        outer = self

        def patched_start_job_run(backend, name, *args, **kwargs):
            job = backend.get_job(name)
            for old in job.job_runs:  # they finished inside their StartJobRun: not concurrent
                if isinstance(old, _SparkJobRun):
                    old.settle()
            run_id = start_job_run(backend, name, *args, **kwargs)
            outer._run(job, next(r for r in job.job_runs if r.job_run_id == run_id))
            return run_id

        def patched_start_crawler(crawler):
            if crawler.crawls and isinstance(crawler.crawls[-1], _LocalCrawl):
                crawler.crawls[-1].settle()
            start_crawler(crawler)
            outer._crawl(crawler, crawler.crawls[-1])

        def get_crawler_metrics(response):
            names = response._get_param("CrawlerNameList")
            backend = response.glue_backend
            crawlers = [backend.get_crawler(n) for n in names] if names else backend.get_crawlers()
            return ActionResult({"CrawlerMetricsList": [outer._metrics(c) for c in crawlers]})

        self._patch(glue_models.GlueBackend, "start_job_run", patched_start_job_run)
        self._patch(glue_models.FakeCrawler, "start_crawler", patched_start_crawler)
        self._patch(
            glue_models.FakeCrawler,
            "as_dict",
            _fake_crawler_as_dict(glue_models.FakeCrawler.as_dict),
        )
        self._patch(GlueResponse, "get_crawler_metrics", get_crawler_metrics)
        return self

    def uninstall(self) -> None:
        for owner, name, value in reversed(self._saved):
            if value is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
        self._saved.clear()
        if GlueOnSpark._active is self:
            GlueOnSpark._active = None

    def __enter__(self) -> GlueOnSpark:
        return self.install()

    def __exit__(self, *exc) -> None:
        self.uninstall()

    def runs(self) -> list[JobRunRecord]:
        return list(self._runs)

    def fail_runs(self, job_name: str, error: str, times: int = 1) -> None:
        """The next ``times`` runs of ``job_name`` end FAILED with ``error`` as their ErrorMessage
        before the script starts, as Glue fails a run it could not give workers to: a failure
        of the platform, not of the data, which a later run need not meet again."""
        self._failing.setdefault(job_name, []).extend([error] * times)

    def crawls(self) -> list[CrawlRecord]:
        return list(self._crawls)

    # -- job runs -------------------------------------------------------------------------
    def _fetch_scripts(self, s3, location: str, extra: str, record: JobRunRecord) -> Path:
        """Download the script, the .py files beside it and --extra-py-files; the script's path."""
        bucket, key = _split(location)
        folder = self.mirror.root / "_scripts" / bucket / key.rpartition("/")[0]
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.py"):
            stale.unlink()
        prefix = key.rpartition("/")[0] + "/" if "/" in key else ""
        record.listed.append(f"s3://{bucket}/{prefix}")
        page = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/")
        keys = {o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".py")}
        wanted = [(bucket, k) for k in sorted(keys | {key})]
        wanted += [_split(u.strip()) for u in (extra or "").split(",") if u.strip()]
        for b, k in dict.fromkeys(wanted):
            body = s3.get_object(Bucket=b, Key=k)["Body"].read()  # NoSuchKey fails the run
            (folder / k.rpartition("/")[2]).write_bytes(body)
            record.reads.append(f"s3://{b}/{k}")
        return folder / key.rpartition("/")[2]

    @staticmethod
    def _scopes(module, arguments: dict[str, str]) -> list[str]:
        """The S3 folders the run reads and writes.

        A script that says where it reads and writes (clean_entity's ``_paths``) is mirrored
        exactly there; any other script gets the whole of every ``s3://`` argument.
        """
        data = {k: v for k, v in arguments.items() if k not in GLUE_ARGS}
        s3_args = [v for k, v in data.items() if _is_data(k, v)]
        paths = getattr(module, "_paths", None)
        scopes = s3_args
        if paths is not None:
            try:
                named = paths({k.removeprefix("--"): v for k, v in data.items()})
                scopes = [p for p in named.values() if str(p).startswith("s3://")] or s3_args
            except Exception:  # the run itself reports the bad or missing argument
                pass
        # A file (its key has a suffix) is mirrored as its folder.
        folders = {
            s.rsplit("/", 1)[0] if Path(_split(s)[1]).suffix else s.rstrip("/") for s in scopes
        }
        # A folder inside another is mirrored with it.
        return sorted(f for f in folders if not any(f.startswith(o + "/") for o in folders))

    def _run(self, job, run) -> None:
        run.__class__ = _SparkJobRun
        run._phases, run._polls, run.error = ["RUNNING"], 0, None
        run.started_on, run.finished_on = _now(), None
        arguments = {**(run.arguments or {}), "--JOB_NAME": job.name}
        arguments.setdefault("--JOB_RUN_ID", run.job_run_id)
        script_uri = (job.command or {}).get("ScriptLocation", "")
        record = JobRunRecord(job.name, run.job_run_id, job.role, script_uri, dict(arguments))
        self._runs.append(record)
        s3 = boto3.client("s3", region_name=job.backend.region_name)
        with self._lock:
            since = time.time() - 1  # files the run writes are newer
            scopes: list[str] = []
            buckets = {_split(v)[0] for k, v in arguments.items() if _is_data(k, v)}
            try:
                if self._failing.get(job.name):
                    raise _PlatformFailure(self._failing[job.name].pop(0))
                if not script_uri.startswith("s3://"):
                    raise ValueError(f"job {job.name}: ScriptLocation {script_uri!r} is not on S3")
                script = self._fetch_scripts(
                    s3, script_uri, arguments.get("--extra-py-files"), record
                )
                stems = sorted(p.stem for p in script.parent.glob("*.py") if p != script)
                with _script_imports(script.parent, stems):
                    scopes = self._scopes(_load(script), arguments)
                    for uri in scopes:
                        self.mirror.pull(s3, uri, record.reads, record.listed)
                    local = {
                        k: self.mirror.to_local(v) if _is_data(k, v) else v
                        for k, v in arguments.items()
                    }
                    record.local_arguments = local
                    _clear_spark_cache()
                    try:
                        record.result = run_glue_script(script, local)
                    finally:
                        _clear_spark_cache()
                record.state = "SUCCEEDED"
            except _PlatformFailure as exc:
                record.state, record.error = "FAILED", str(exc)
            except Exception as exc:
                record.state, record.error = "FAILED", _error_text(exc)
                record.traceback = traceback.format_exc()
            # Glue leaves in S3 whatever the job wrote, whether it then failed or not.
            try:
                self.mirror.push(s3, scopes, buckets, since, record)
            except Exception as exc:
                if record.state == "SUCCEEDED":
                    record.state, record.error = "FAILED", _error_text(exc)
            record.finished_at = run.finished_on = _now()
            run.error = record.error
            run._phases = ["RUNNING"] * self.running_polls + [record.state]

    # -- crawls ---------------------------------------------------------------------------
    def _crawl(self, crawler, crawl) -> None:
        crawl.__class__ = _LocalCrawl
        crawl._phases, crawl._polls, crawl.error = ["RUNNING"], 0, None
        targets = [t["Path"] for t in (crawler.targets or {}).get("S3Targets", [])]
        record = CrawlRecord(crawler.name, crawl.crawl_id, crawler.role, targets)
        crawl.record = record
        self._crawls.append(record)
        with self._lock:
            try:
                if self.run_crawler:
                    self._crawl_targets(crawler, record)
                record.state = "COMPLETED"
            except Exception as exc:
                # The local crawler's message already names entity, file and column.
                record.state, record.error = "FAILED", str(exc)[:MAX_ERROR]
            crawl.finished_on = _now()
            crawl.error = record.error
            crawl._phases = (
                ["RUNNING"] * self.running_polls
                + ["STOPPING"] * self.stopping_polls
                + [record.state]
            )

    def _crawl_targets(self, crawler, record: CrawlRecord) -> None:
        from olist_contract import ENTITIES

        from dwh_tools.local_target.crawler import crawl_entity

        s3 = boto3.client("s3", region_name=crawler.backend.region_name)
        found = []
        for uri in record.targets:
            bucket, prefix = _split(uri)
            record.listed.append(uri)
            for key, etag in self.mirror._list(s3, bucket, prefix).items():
                m = PARTITION.search(key)
                if m and m[1] in ENTITIES and m[3] == ENTITIES[m[1]].file_name:
                    found.append((m[2], m[1], bucket, key, etag))
        catalog = self.mirror.root / "_catalog" / crawler.name
        # Like a crawler recrawling new folders only: a file crawled unchanged is not crawled
        # again, a file that failed is crawled again on the next crawl.
        for ds, entity, bucket, key, etag in sorted(found):
            uri = f"s3://{bucket}/{key}"
            if self._crawled.get((crawler.name, uri)) == etag:
                continue
            self.mirror.pull(s3, uri.rsplit("/", 1)[0], record.reads, [])
            before = self._latest_version(catalog / entity)
            report = crawl_entity(entity, self.mirror.path(bucket, key), catalog, ds)
            after = report.get("version", before)
            record.tables_created += before == 0 and after > 0
            record.tables_updated += 0 < before < after
            record.report[f"{entity}/{ds}"] = report
            self._crawled[(crawler.name, uri)] = etag

    @staticmethod
    def _latest_version(folder: Path) -> int:
        return max((int(p.stem[1:]) for p in folder.glob("v*.json")), default=0)

    @staticmethod
    def _metrics(crawler) -> dict:
        done = [c for c in crawler.crawls if c.status in FINISHED_CRAWL]
        seconds = [
            (
                (getattr(c, "finished_on", None) or c.end_time or c.start_time) - c.start_time
            ).total_seconds()
            for c in done
        ]
        current = crawler.crawls[-1] if crawler.crawls else None
        running = current is not None and current.status not in FINISHED_CRAWL
        last = getattr(done[-1], "record", None) if done else None
        return {
            "CrawlerName": crawler.name,
            "TimeLeftSeconds": 0.0,
            "StillEstimating": running and not done,
            "LastRuntimeSeconds": seconds[-1] if seconds else 0.0,
            "MedianRuntimeSeconds": statistics.median(seconds) if seconds else 0.0,
            "TablesCreated": last.tables_created if last else 0,
            "TablesUpdated": last.tables_updated if last else 0,
            "TablesDeleted": 0,
        }


_MISSING = object()
_current: GlueOnSpark | None = None


def install(mirror: Path, **options) -> GlueOnSpark:
    """Patch moto's Glue (once per process) to run jobs and crawls for real; see the module doc.

    ``mirror`` is the local folder for the S3 mirror, the scripts and the crawler's catalog.
    Options: ``running_polls`` (GetJobRun / GetCrawler polls that read RUNNING, default 1),
    ``stopping_polls`` (crawler polls that read STOPPING, default 1), ``run_crawler`` (crawl the
    targets with the local crawler, default True; False only finishes the crawls).
    """
    global _current
    uninstall()
    _current = GlueOnSpark(mirror, **options).install()
    return _current


def uninstall() -> None:
    global _current
    if _current is not None:
        _current.uninstall()
        _current = None


def finished_job_run(glue, job_name: str, run_id: str, max_polls: int = 20) -> dict:
    """Poll GetJobRun until the run has ended, as a ``.sync`` task does; the final JobRun.

    For a stand-in of moto's ``glue:startJobRun.sync`` waiting (moto 5.2.5 cannot finish it): one
    read right after StartJobRun sees RUNNING, and would pass a run that failed.
    """
    for _ in range(max_polls):
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        if run["JobRunState"] not in ("STARTING", "RUNNING", "STOPPING", "WAITING"):
            return run
    raise TimeoutError(f"Glue job {job_name} run {run_id} still {run['JobRunState']}")


def runs() -> list[JobRunRecord]:
    """The job runs since :func:`install`, in start order."""
    return _current.runs() if _current else []


def crawls() -> list[CrawlRecord]:
    """The crawls since :func:`install`, in start order."""
    return _current.crawls() if _current else []
