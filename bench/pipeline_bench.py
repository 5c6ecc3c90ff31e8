"""The whole pipeline on the local target at scale 1 and 10: wall time, stages, overhead, memory.

For each scale it runs ``dwh run`` (sample data, then the real Airflow DAG with
``airflow dags test``) in a fresh $DWH_HOME, then has DuckDB turn the same landed raw CSV files
into Parquet (the machine's speed reference), and prints:
- wall time, split into landing the sample data and the DAG run;
- time per stage (the node kinds: crawler, Glue jobs, loads, SQL builds, quality, notify);
- engine work (the seconds each task spends in its engine: Spark, DuckDB, the crawler, as the
  local operators record them) against Airflow and framework overhead (the rest of the DAG run:
  process start, DAG parsing, task set-up, callbacks, metadata writes), as a share of wall time;
- peak memory: the largest sum of resident memory over the whole process tree (Python, the
  Airflow task runner and Spark's JVM), sampled every 0.2 s, and the CPU seconds of that tree
  (less noisy than wall time on a shared machine);
and at the end, one table for all scales side by side: the DAG time, the DuckDB CSV->Parquet
time of the same files, their ratio, and the time of each stage.

``--repo DIR`` runs another checkout's code (its plugins, tools and Glue scripts) the same way,
to compare two versions on the same machine in the same conditions.

    python bench/pipeline_bench.py [--scales 1,10] [--ds 2024-01-01] [--keep] [--repo DIR]
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
GOALS = {
    "default wall s": 180,
    "overhead share": 0.25,
    "scale 10 wall s": 900,
    "peak GiB": 6,
    "scale 1 DAG / DuckDB": 50,
}
# The stages of the side-by-side table: node kinds, then the DAG run's time outside any task.
STAGES = ("glue_crawler", "glue_job", "load", "sql", "quality", "notify")


class PeakMemory(threading.Thread):
    """Samples the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.cpu: dict[int, float] = {}  # pid -> last CPU seconds seen (user + system)
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
                    t = p.cpu_times()
                    self.cpu[p.pid] = t.user + t.system
            self.peak = max(self.peak, total)
            self.done.wait(self.interval)


def duckdb_to_parquet(raw_root: Path, ds: str, out: Path) -> float:
    """Seconds for DuckDB to turn the date's landed CSV files into Parquet, one file each.

    Types are DuckDB's own detection and malformed records are skipped (ignore_errors): this is
    the machine's speed reference, not a second cleaning."""
    import duckdb

    files = sorted(raw_root.glob(f"*/ingest_date={ds}/*.csv"))
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("set threads to 2")
    t0 = time.perf_counter()
    for f in files:
        target = out / f"{f.parent.parent.name}.parquet"
        con.execute(
            f"copy (select * from read_csv('{f}', header = true, ignore_errors = true)) "
            f"to '{target}' (format parquet)"
        )
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def code_env(repo: Path | None) -> dict[str, str]:
    """The environment of a run of ``repo``'s code (default: this checkout's)."""
    env = dict(os.environ)
    if repo is not None:
        repo = repo.resolve()
        paths = [repo / "plugins", repo / "tools", repo / "include" / "glue"]
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(repo / "dags")
    return env


def run_once(scale: float, ds: str, home: Path, repo: Path | None = None) -> dict:
    env = {**code_env(repo), "DWH_HOME": str(home)}
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
    duck = duckdb_to_parquet(home / "lake" / "raw", ds, home / "bench-duckdb")
    return {
        "wall": wall,
        "peak": sampler.peak,
        "cpu": sum(sampler.cpu.values()),
        "report": report,
        "engine": engine,
        "duckdb": duck,
    }


def stage_times(r: dict) -> dict[str, float]:
    """Seconds per stage of one run: each node kind's tasks, and the DAG run's time outside
    any task (Airflow's start, parsing, scheduling, metadata writes)."""
    kinds = {n.id: n.kind for n in load_pipeline(config.PIPELINES_DIR / f"{PIPELINE}.yaml").nodes}
    out = dict.fromkeys(STAGES, 0.0)
    for task, t in r["report"]["tasks"].items():
        kind = kinds.get(task, "?")
        out[kind] = out.get(kind, 0.0) + (t["seconds"] or 0.0)
    out["airflow"] = r["report"]["seconds"]["dag"] - sum(out.values())
    return out


def print_side_by_side(results: list[tuple[float, dict]]) -> None:
    stages = [*STAGES, "airflow"]
    head = (
        f"{'scale':>6}{'records':>10}{'DAG s':>8}{'DuckDB s':>10}{'ratio':>8}{'CPU s':>8}"
        + "".join(f"{s:>13}" for s in stages)
    )
    print("\nDAG run beside DuckDB turning the same landed CSV files into Parquet")
    print(head)
    print("-" * len(head))
    for scale, r in results:
        dag = r["report"]["seconds"]["dag"]
        times = stage_times(r)
        print(
            f"{scale:>6g}{sum(r['report']['landed'].values()):>10}{dag:>8.1f}{r['duckdb']:>10.2f}"
            f"{dag / r['duckdb']:>7.0f}x{r['cpu']:>8.0f}"
            + "".join(f"{times.get(s, 0.0):>13.1f}" for s in stages)
        )


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
    print(f"  CPU (process tree)        {r['cpu']:8.1f} s")
    print(
        f"  DuckDB CSV -> Parquet     {r['duckdb']:8.2f} s  (DAG run / DuckDB: "
        f"{dag / r['duckdb']:.0f}x)"
    )
    print(f"  {'stage':<14}{'tasks':>6}{'task s':>9}{'engine s':>10}")
    for kind, (n, secs, eng) in sorted(stages.items(), key=lambda kv: -kv[1][1]):
        print(f"  {kind:<14}{n:>6}{secs:>9.1f}{eng:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--ds", default="2024-01-01")
    parser.add_argument("--keep", action="store_true", help="keep each scale's $DWH_HOME")
    parser.add_argument("--repo", type=Path, help="run this checkout's code instead")
    args = parser.parse_args()
    print(f"goals: {GOALS}")
    if args.repo:
        print(f"code: {args.repo.resolve()}")
    results = []
    for scale in [float(s) for s in args.scales.split(",")]:
        home = config.dwh_home() / "bench" / "pipeline" / f"scale_{scale:g}"
        shutil.rmtree(home, ignore_errors=True)
        result = run_once(scale, args.ds, home, args.repo)
        print_result(scale, result)
        results.append((scale, result))
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    print_side_by_side(results)


if __name__ == "__main__":
    main()
