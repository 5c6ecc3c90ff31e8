"""Local PySpark for the Glue scripts: one reused session, and a Glue-style script runner.

When every task of a run executes in one process (``dwh run``'s ``airflow dags test``, which sets
``DWH_SPARK_WARM_UP=1``), :func:`warm_up` starts the session in the background as the process
starts (:mod:`dwh_tools.local_target.dags_test`), and has it read a CSV and write Parquet once,
while Airflow prepares the run on the other core. The first Glue job then finds the JVM started
instead of paying for it."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from pathlib import Path

from dwh import config

_lock = threading.Lock()  # held while the session starts
_session = None
_warming_lock = threading.Lock()  # never held while the session starts
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
    is 1 (:mod:`dwh_tools.local_target.dags_test` calls it as the process starts); a Glue job
    asking for the session meanwhile waits for the same one."""
    global _warming
    if os.environ.get(WARM_UP_ENV) != "1":
        return None
    # Not the session's lock: no caller may wait for the session to start.
    with _warming_lock:
        if _warming is None and _session is None:
            _warming = threading.Thread(target=_warm, name="dwh-spark-warm-up", daemon=True)
            _warming.start()
        return _warming


def _warm() -> None:
    """Start the session, then read a two-line CSV and write it as Parquet (in a temporary
    folder), so the JVM has loaded the classes every job uses. A warm-up that runs a whole Glue
    job on a small extract saves its time in later jobs but competes with Airflow for the cores
    while it runs; measured on 2 cores, the run was not faster."""
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
    """Run a Glue script's ``run(spark, args)`` with Glue-style ``--name value`` arguments.

    A job waits for the warm-up to end (the session is the same, and one job at a time uses it).
    """
    warming = _warming
    if warming is not None and warming is not threading.current_thread():
        warming.join()
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
