"""Local PySpark for the Glue scripts: one reused session, and a Glue-style script runner."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

from dwh import config

_lock = threading.Lock()
_session = None


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
