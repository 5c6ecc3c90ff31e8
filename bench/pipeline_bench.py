"""The whole pipeline on the local target at scale 1 and 10: wall time, stages, overhead, memory.

For each scale it runs ``dwh run`` (sample data, then the real Airflow DAG with
``airflow dags test``) in a fresh $DWH_HOME and prints:
- wall time, split into landing the sample data and the DAG run;
- time per stage (the node kinds: crawler, Glue jobs, loads, SQL builds, quality, notify);
- engine work (the seconds each task spends in its engine: Spark, DuckDB, the crawler, as the
  local operators record them) against Airflow and framework overhead (the rest of the DAG run:
  process start, DAG parsing, task set-up, callbacks, metadata writes), as a share of wall time;
- peak memory: the largest sum of resident memory over the whole process tree (Python, the
  Airflow task runner and Spark's JVM), sampled every 0.2 s.

    python bench/pipeline_bench.py [--scales 1,10] [--ds 2024-01-01] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil

from dwh import config
from dwh.graph import load_pipeline
from dwh_tools.local_target.operators import ENGINE_TIMES

PIPELINE = "ecommerce_dwh"
GOALS = {"default wall s": 180, "overhead share": 0.25, "scale 10 wall s": 900, "peak GiB": 6}


class PeakMemory(threading.Thread):
    """Samples the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            self.done.wait(self.interval)


def run_once(scale: float, ds: str, home: Path) -> dict:
    env = {**os.environ, "DWH_HOME": str(home)}
    env.pop("AIRFLOW_HOME", None)
    cmd = [sys.executable, "-m", "dwh_tools.cli", "run", "--scale", str(scale), "--ds", ds]
    t0 = time.perf_counter()
    with subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        sampler = PeakMemory(proc.pid)
        sampler.start()
        output = proc.stdout.read()
        code = proc.wait()
        sampler.done.set()
        sampler.join()
    wall = time.perf_counter() - t0
    if code != 0:
        print(output[-4000:])
        raise SystemExit(f"dwh run at scale {scale} failed with exit code {code}")
    report = json.loads((home / "runs" / f"{PIPELINE}_{ds}.json").read_text())
    engine = {}
    for line in (home / "metrics" / ENGINE_TIMES).read_text().splitlines():
        rec = json.loads(line)
        engine[rec["task_id"]] = engine.get(rec["task_id"], 0.0) + rec["seconds"]
    return {"wall": wall, "peak": sampler.peak, "report": report, "engine": engine}


def print_result(scale: float, r: dict) -> None:
    kinds = {n.id: n.kind for n in load_pipeline(config.PIPELINES_DIR / f"{PIPELINE}.yaml").nodes}
    rep = r["report"]
    stages: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for task, t in rep["tasks"].items():
        s = stages[kinds.get(task, "?")]
        s[0] += 1
        s[1] += t["seconds"] or 0.0
        s[2] += r["engine"].get(task, 0.0)
    engine_total = sum(r["engine"].values())
    landing, dag = rep["seconds"]["landing"], rep["seconds"]["dag"]
    dashboards = rep["seconds"]["dashboards"]
    # Everything that is neither producing the input, engine work nor rendering the dashboards:
    # Airflow's metadata database, process start, DAG parsing, task set-up and callbacks.
    overhead = r["wall"] - landing - engine_total - dashboards
    print(f"\nscale {scale:g}: {sum(rep['landed'].values())} raw records landed")
    print(f"  wall time                 {r['wall']:8.1f} s")
    print(f"    landing sample data     {landing:8.1f} s")
    print(f"    Airflow DAG run         {dag:8.1f} s")
    print(f"    dashboards              {dashboards:8.1f} s")
    print(f"    metadata, summary       {r['wall'] - landing - dag - dashboards:8.1f} s")
    print(f"  engine work               {engine_total:8.1f} s")
    print(
        f"  Airflow + framework       {overhead:8.1f} s  ({overhead / r['wall']:.0%} of wall time; "
        f"inside the DAG run {(dag - engine_total) / dag:.0%})"
    )
    print(f"  peak memory (tree RSS)    {r['peak'] / 2**30:8.2f} GiB")
    print(f"  {'stage':<14}{'tasks':>6}{'task s':>9}{'engine s':>10}")
    for kind, (n, secs, eng) in sorted(stages.items(), key=lambda kv: -kv[1][1]):
        print(f"  {kind:<14}{n:>6}{secs:>9.1f}{eng:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--ds", default="2024-01-01")
    parser.add_argument("--keep", action="store_true", help="keep each scale's $DWH_HOME")
    args = parser.parse_args()
    print(f"goals: {GOALS}")
    for scale in [float(s) for s in args.scales.split(",")]:
        home = config.dwh_home() / "bench" / "pipeline" / f"scale_{scale:g}"
        shutil.rmtree(home, ignore_errors=True)
        print_result(scale, run_once(scale, args.ds, home))
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
