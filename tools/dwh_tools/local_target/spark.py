"""Local PySpark for the Glue scripts: one reused session, and a Glue-style script runner.

When every task of a run executes in one process (``dwh run``'s ``airflow dags test``, which sets
``DWH_SPARK_WARM_UP=1``), :func:`warm_up` starts the session in the background as the run's first
task starts, so the JVM start and Spark's first CSV read and Parquet write overlap the tasks
before the first Glue job instead of adding to it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

from dwh import config

_lock = threading.Lock()
_session = None
_warming: threading.Thread | None = None
WARM_UP_ENV = "DWH_SPARK_WARM_UP"


def get_spark():
    """The process's local SparkSession (2 cores, UTC, no UI), created on first use."""
    global _session
    with _lock:
        if _session is None:
            from pyspark.sql import SparkSession

            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            _session = (
                SparkSession.builder.master(os.environ.get("DWH_SPARK_MASTER", "local[2]"))
                .appName("dwh-local-glue")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.legacy.timeParserPolicy", "CORRECTED")
                .config("spark.sql.ansi.enabled", "false")
                .config("spark.driver.memory", os.environ.get("DWH_SPARK_MEMORY", "3g"))
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.warehouse.dir", str(config.dwh_home() / "spark-warehouse"))
                .getOrCreate()
            )
            _session.sparkContext.setLogLevel("ERROR")
        return _session


def warm_up() -> threading.Thread | None:
    """Start the session in a background thread (once per process) when $DWH_SPARK_WARM_UP
    is 1; a Glue job asking for the session meanwhile waits for the same one."""
    global _warming
    if os.environ.get(WARM_UP_ENV) != "1":
        return None
    with _lock:
        if _warming is None and _session is None:
            _warming = threading.Thread(target=_warm, name="dwh-spark-warm-up", daemon=True)
            _warming.start()
        return _warming


def _warm() -> None:
    import shutil
    import tempfile

    try:
        spark = get_spark()
        folder = Path(tempfile.mkdtemp(prefix="spark-warm-up-"))
        try:
            (folder / "in.csv").write_text("a,b\n1,x\n")
            df = spark.read.option("header", True).csv(str(folder / "in.csv"))
            df.write.mode("overwrite").parquet(str(folder / "out"))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    except Exception:  # noqa: BLE001 - only a head start: the Glue job reports real failures
        pass


def _load(script: Path):
    if str(script.parent) not in sys.path:
        sys.path.insert(0, str(script.parent))
    spec = importlib.util.spec_from_file_location(f"glue_job_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_glue_script(script: Path, arguments: dict[str, str]) -> dict:
    """Run a Glue script's ``run(spark, args)`` with Glue-style ``--name value`` arguments."""
    module = _load(Path(script))
    args = {k.removeprefix("--"): v for k, v in arguments.items()}
    missing = [a for a in getattr(module, "ARGS", []) if a not in args]
    if missing:
        raise ValueError(f"{script}: missing Glue argument(s) {', '.join(missing)}")
    return module.run(get_spark(), args)


def stop_spark() -> None:
    """Stop the process's Spark session, if one was started (its JVM exits with it)."""
    global _session
    with _lock:
        if _session is not None:
            _session.stop()
            _session = None
