"""``dwh run``: the whole pipeline on the local target, with the real Airflow DAG.

1. lands the input for the logical date: generated sample data (day after day: the first date gets
   the full extract, later dates that day's increment) or a folder of the user's own Olist CSVs;
2. prepares Airflow's SQLite metadata under $DWH_HOME/airflow (once);
3. runs ``airflow dags test <pipeline> <ds> --conf <run conf>`` (the DAG params, see
   :func:`run_conf`: ``--allow-empty`` sets ``allow_empty``) and prints one line per task as it
   starts and ends;
4. renders the four dashboards from the marts (static HTML under $DWH_HOME/dashboards/);
5. prints a summary: task states and durations, each failed task's error and what to do, the
   files landed, rows per stage, quarantine, quality results, and where the dashboards and logs
   are; its header line says when the run allowed empty extracts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from dwh import config
from dwh_tools.errors import UserError

START = re.compile(r"\[DAG TEST\] starting task_id=(\w+)")
END = re.compile(r"\[DAG TEST\] end task task_id=(\w+)")
STATE = re.compile(r"new_state=(\w+)")


def airflow_env() -> dict[str, str]:
    """Environment of the local Airflow: SQLite metadata under $DWH_HOME, this repository's DAGs."""
    home = config.dwh_home()
    env = dict(os.environ)
    paths = config.local_pythonpath()
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env.update(
        {
            "DWH_HOME": str(home),
            "DWH_TARGET": "local",
            "PYTHONPATH": os.pathsep.join(paths),
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": env.get(
                "AIRFLOW__CORE__DAGS_FOLDER", str(config.REPO_ROOT / "dags")
            ),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(config.PLUGINS_DIR),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        }
    )
    return env


def airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def metadata_template() -> Path:
    """An empty, migrated metadata database kept in the virtualenv, one per Airflow version."""
    from importlib.metadata import version

    return Path(sys.prefix) / "var" / "dwh" / f"airflow-{version('apache-airflow')}-empty.db"


def ensure_metadata_db(env: dict[str, str]) -> None:
    """Airflow's SQLite metadata under $DWH_HOME: migrated once per virtualenv, then copied.

    ``airflow db migrate`` takes several seconds; every new $DWH_HOME (a test, a benchmark, a
    second checkout of the data) would pay it again, so the first migration is kept as a template.
    """
    db = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    if db.exists():
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    template = metadata_template()
    if not template.exists():
        print(f"preparing Airflow metadata (SQLite) at {db}")
        subprocess.run([airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True)
        template.parent.mkdir(parents=True, exist_ok=True)
        partial = template.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(db, partial)
        partial.replace(template)  # atomic: a parallel run never sees half a file
        return
    shutil.copyfile(template, db)


def land_input(ds: str, scale: float, data: Path | None, seed: int, defect_rate: float) -> dict:
    """Put the logical date's raw files in place; returns rows per entity landed."""
    from dwh_tools.landing import check_ds, land

    check_ds(ds)  # the date names the folders written (and replaced) under raw/
    raw = config.lake("raw")
    if data is not None:
        return land(data, raw, ds)
    state_file = config.dwh_home() / "sample_data.json"
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    first = dt.date.fromisoformat(state.get("first_ds", ds))
    if dt.date.fromisoformat(ds) < first or state.get("scale") != scale:
        first, state = dt.date.fromisoformat(ds), {}
    day = (dt.date.fromisoformat(ds) - first).days
    landed = state.get("landed", {})
    if ds in landed:  # re-running a date reuses its files, so the run is repeatable
        return landed[ds]
    from dwh_tools.datagen import generate

    rows = generate(raw, ds, scale=scale, seed=seed, day=day, defect_rate=defect_rate)
    landed[ds] = rows
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(
        json.dumps({"first_ds": first.isoformat(), "scale": scale, "landed": landed}, indent=2)
    )
    return rows


def check_pipeline(pipeline: str, env: dict[str, str]) -> None:
    """A pipeline Airflow can run: its DAG file is in the DAGs folder (dag_id = file name)."""
    dags = Path(env["AIRFLOW__CORE__DAGS_FOLDER"])
    if not (dags / f"{pipeline}.py").is_file():
        known = ", ".join(sorted(p.stem for p in dags.glob("*.py") if not p.stem.startswith("_")))
        raise UserError(f"--pipeline {pipeline}: no such DAG in {dags} (pipelines: {known})")


ALLOW_EMPTY_NOTE = {
    False: " (a missing raw file never replaces processed rows; --allow-empty if the extract "
    "is empty on purpose)",
    True: " (--allow-empty: a missing raw file replaces that date's processed rows with none)",
}


def run_conf(args) -> dict:
    """The run's DagRun conf: the DAG params it sets (dwh.compile_airflow.run_params)."""
    from dwh import kinds

    return {kinds.ALLOW_EMPTY.name: bool(getattr(args, "allow_empty", False))}


def dags_test_cli() -> list[str]:
    """Airflow's CLI as ``dwh run`` starts it (:mod:`dwh_tools.local_target.dags_test`)."""
    return [sys.executable, "-m", "dwh_tools.local_target.dags_test"]


def dags_test_command(
    pipeline: str, ds: str, conf: dict, dags_folder: Path | None = None
) -> list[str]:
    """``airflow dags test`` of one logical date, the run's conf as its ``--conf`` JSON, through
    Airflow's CLI started by :mod:`dwh_tools.local_target.dags_test` (the Spark session may
    start while Airflow does).

    With ``dags_folder`` only the pipeline's own DAG file is parsed, not the whole folder."""
    cmd = [*dags_test_cli(), "dags", "test", pipeline, ds, "--conf", json.dumps(conf)]
    if dags_folder is not None:
        cmd += ["--dagfile-path", str(Path(dags_folder) / f"{pipeline}.py")]
    return cmd


def has_glue_jobs(pipeline: str) -> bool:
    """Whether the pipeline's file declares a Glue job, the only kind of node that uses Spark
    (a DAG without a pipeline file in include/pipelines has none). An invalid file says yes:
    Airflow's parse of the DAG file then reports its problems, as without this question."""
    from dwh import kinds
    from dwh.graph import PipelineError, load_pipeline

    path = config.PIPELINES_DIR / f"{pipeline}.yaml"
    if not path.is_file():
        return False
    try:
        nodes = load_pipeline(path).nodes
    except PipelineError:
        return True
    return any(n.kind == kinds.GlueJob.name for n in nodes)


def run_dag(
    pipeline: str, ds: str, env: dict[str, str], log_path: Path, conf: dict | None = None
) -> tuple[int, dict]:
    """Run ``airflow dags test`` and echo task progress; returns exit code and task timings."""
    from dwh_tools.local_target.failures import RUN_LOG_ENV
    from dwh_tools.local_target.spark import WARM_UP_ENV

    log_path.parent.mkdir(parents=True, exist_ok=True)
    timings: dict[str, dict] = {}
    current: str | None = None
    cmd = dags_test_command(pipeline, ds, conf or {}, Path(env["AIRFLOW__CORE__DAGS_FOLDER"]))
    # airflow dags test runs every task in one process, so they share one Spark session,
    # started with the process when the pipeline has a Glue job.
    env = {**env, RUN_LOG_ENV: str(log_path), WARM_UP_ENV: "1" if has_glue_jobs(pipeline) else "0"}
    t0 = time.monotonic()
    with (
        log_path.open("w") as log,
        subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        ) as proc,
    ):
        for line in proc.stdout:
            log.write(line)
            if m := START.search(line):
                current = m.group(1)
                timings[current] = {"start": time.monotonic(), "state": "running"}
                print(f"  {time.monotonic() - t0:7.1f}s  start   {current}", flush=True)
            elif current and (m := STATE.search(line)) and "Task instance state updated" in line:
                timings[current]["state"] = m.group(1)
            elif m := END.search(line):
                task = m.group(1)
                t = timings.setdefault(task, {"start": time.monotonic(), "state": "?"})
                t["seconds"] = time.monotonic() - t["start"]
                print(
                    f"  {time.monotonic() - t0:7.1f}s  {t['state']:<7} {task}"
                    f"  ({t['seconds']:.1f}s)",
                    flush=True,
                )
                current = None
        code = proc.wait()
    return code, timings


def main(args) -> int:
    ds = args.ds
    home = config.dwh_home()
    env = airflow_env()
    check_pipeline(args.pipeline, env)
    conf = run_conf(args)
    t0 = time.monotonic()
    print(f"dwh run: pipeline {args.pipeline}, logical date {ds}, DWH_HOME={home}")
    print(f"  run conf: {json.dumps(conf)}{ALLOW_EMPTY_NOTE[conf['allow_empty']]}")
    from dwh_tools.clean import mark

    mark(home)  # `make clean` removes only a $DWH_HOME so marked
    source = (
        f"your files in {args.data}" if args.data else f"generated sample data (scale {args.scale})"
    )
    print(f"landing {source}")
    landed = land_input(
        ds, args.scale, Path(args.data) if args.data else None, args.seed, args.defect_rate
    )
    landing_s = time.monotonic() - t0
    files = getattr(landed, "files", ())  # your own files: what each was taken as
    if files:
        print("\n".join(landed.lines()) + f"\n  ({landing_s:.1f}s)")
    else:
        print(
            "  "
            + ", ".join(f"{k}={v}" for k, v in sorted(landed.items()))
            + f"  ({landing_s:.1f}s)"
        )
    ensure_metadata_db(env)
    log_path = home / "logs" / f"{args.pipeline}_{ds}.log"
    print(f"running the Airflow DAG {args.pipeline} (airflow dags test; full log: {log_path})")
    t_dag = time.monotonic()
    started = dt.datetime.now(dt.UTC)
    code, timings = run_dag(args.pipeline, ds, env, log_path, conf)
    dag_s = time.monotonic() - t_dag
    t_dash = time.monotonic()
    dashboards = render_dashboards() if code == 0 else {}
    dashboards_s = time.monotonic() - t_dash
    wall = time.monotonic() - t0
    from dwh_tools.summary import failed_tasks, print_summary

    failures = failed_tasks(args.pipeline, ds, timings, started, log_path)
    write_run_report(
        home / "runs" / f"{args.pipeline}_{ds}.json",
        {
            "pipeline": args.pipeline,
            "ds": ds,
            "source": source,
            "conf": conf,
            "exit_code": code,
            "landed": dict(landed),
            "files": [f.as_record() for f in files],
            "seconds": {
                "landing": landing_s,
                "dag": dag_s,
                "dashboards": dashboards_s,
                "wall": wall,
            },
            "dashboards": {k: str(v) for k, v in dashboards.items()},
            "tasks": {
                t: {"state": v.get("state"), "seconds": v.get("seconds")}
                for t, v in timings.items()
            },
            "failures": failures,
        },
    )
    print_summary(
        args.pipeline,
        ds,
        timings,
        code,
        log_path,
        wall,
        dashboards,
        failures,
        files,
        allow_empty=conf["allow_empty"],
    )
    return code


def render_dashboards() -> dict[str, Path]:
    """The four dashboards from the marts; a rendering problem never fails a successful run."""
    from dwh_tools.dashboards import render_local

    try:
        return render_local()
    except Exception as exc:
        print(f"warning: dashboards not rendered: {type(exc).__name__}: {exc}", file=sys.stderr)
        return {}


def write_run_report(path: Path, report: dict) -> None:
    """The run's figures as JSON ($DWH_HOME/runs/<pipeline>_<ds>.json), read by the benchmark."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
