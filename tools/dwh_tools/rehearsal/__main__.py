"""``make rehearse``: one pipeline on the three runtimes, on the same input, warehouses compared.

1. Sample data is generated once (``--scale``, default small).
2. The local target runs it (``dwh run``, DuckDB warehouse).
3. The aws DAG runs it under ``airflow dags test`` against moto (:mod:`.runtimes`).
4. The generated state machine runs it on moto's Step Functions interpreter (:mod:`.state_machine`).

Then, per warehouse table, rows and a checksum are printed for each runtime, with every IAM call
the policies in infra/ do not allow. The exit status is non-zero on any difference, any failed
task or state, or any denied call.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

SCHEMAS = ("staging", "dw", "mart")
# Views that describe the run itself (its id, its timestamps): equal row counts is what can hold.
RUN_DESCRIBING = ("mart.operational_",)
SEED, DEFECT_RATE = 42, 0.01


def checksums(warehouse: Path) -> dict[str, tuple[int, str]]:
    """Table -> (rows, checksum), the same way for every runtime's DuckDB file.

    ``_source_file`` is compared from the entity folder on (``orders/ingest_date=.../x.csv``):
    the bucket or folder before it is where each runtime keeps its lake, not data.
    """
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            f"where table_schema in ({', '.join(repr(s) for s in SCHEMAS)}) order by 1"
        ).fetchall()
        out = {}
        for (name,) in tables:
            schema, table = name.split(".")
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? "
                    "and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
            ]
            exprs = [
                "regexp_extract(_source_file, '([^/]+/ingest_date=[^/]+/[^/]+)$')"
                if c == "_source_file"
                else f'"{c}"'
                for c in cols
            ]
            rows, digest = con.execute(
                f"select count(*), coalesce(sum(hash({', '.join(exprs)})), 0) from {name}"
            ).fetchone()
            out[name] = (rows, str(digest))
        return out
    finally:
        con.close()


def _env(home: Path) -> dict[str, str]:
    from dwh_tools import runner

    env = runner.airflow_env()
    env.update(
        DWH_HOME=str(home),
        AIRFLOW_HOME=str(home / "airflow"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow' / 'airflow.db'}",
        AWS_ACCESS_KEY_ID="rehearsal",
        AWS_SECRET_ACCESS_KEY="rehearsal",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_REGION="eu-west-1",
    )
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "DWH_TARGET"):
        env.pop(key, None)
    runner.ensure_metadata_db(env)
    return env


def _run(label: str, cmd: list[str], env: dict, log: Path) -> int:
    print(f"== {label}", flush=True)
    t0 = time.monotonic()
    with log.open("w") as fh:
        done = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    print(f"   exit {done.returncode} in {time.monotonic() - t0:.0f}s (log: {log})", flush=True)
    return done.returncode


def _date(text: str) -> str:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


RUNTIMES = ("local", "aws-dag", "state-machine")
WORK_MARKER = ".dwh-rehearsal"


def _runtimes(text: str) -> list[str]:
    wanted = [r.strip() for r in text.split(",") if r.strip()]
    unknown = [r for r in wanted if r not in RUNTIMES]
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(
            f"unknown runtime {', '.join(unknown) or '(none given)'}; choose from {', '.join(RUNTIMES)}"
        )
    return wanted


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a positive number, e.g. 0.01")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dwh rehearse",
        description="Run a pipeline on the local target, as the aws DAG against moto and as its "
        "state machine on moto's interpreter, on the same input; compare the warehouses.",
    )
    parser.add_argument("--pipeline", default="ecommerce_dwh")
    parser.add_argument("--ds", default="2024-01-01", type=_date, help="logical date YYYY-MM-DD")
    parser.add_argument("--scale", type=_scale, default=0.01)
    parser.add_argument("--work", type=Path, help="keep everything here (default: a temp dir)")
    parser.add_argument(
        "--runtimes",
        type=_runtimes,
        default="local,aws-dag,state-machine",
        help=f"comma-separated subset of {','.join(RUNTIMES)}",
    )
    a = parser.parse_args(argv)
    work = a.work or Path(tempfile.mkdtemp(prefix="dwh-rehearsal-"))
    if a.work and work.exists():
        if any(work.iterdir()) and not (work / WORK_MARKER).exists():
            parser.error(
                f"--work {work}: not empty and not a rehearsal's folder; refusing to clear it"
            )
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    (work / WORK_MARKER).write_text("made by dwh rehearse; cleared by the next run given it\n")
    wanted = a.runtimes
    from dwh_tools.datagen import generate

    raw = work / "raw"
    rows = generate(raw, a.ds, scale=a.scale, seed=SEED, day=0, defect_rate=DEFECT_RATE)
    print(f"rehearsal of {a.pipeline} for {a.ds}: {sum(rows.values())} raw records in {work}")
    py = sys.executable
    results: dict[str, dict] = {}
    failed: list[str] = []
    if "local" in wanted:
        home = work / "local"
        env = _env(home)
        code = _run(
            "local target (dwh run)",
            [
                py,
                "-m",
                "dwh_tools.cli",
                "run",
                "--pipeline",
                a.pipeline,
                "--ds",
                a.ds,
                "--scale",
                str(a.scale),
                "--seed",
                str(SEED),
                "--defect-rate",
                str(DEFECT_RATE),
            ],
            env,
            work / "local.log",
        )
        if code:
            failed.append(f"local run exited {code}")
        results["local"] = {"checksums": checksums(home / "warehouse.duckdb")}
    for runtime in ("aws-dag", "state-machine"):
        if runtime not in wanted:
            continue
        home = work / runtime
        env = _env(home)
        out = work / f"{runtime}.json"
        code = _run(
            runtime,
            [
                py,
                "-m",
                "dwh_tools.rehearsal.runtimes",
                runtime,
                "--pipeline",
                a.pipeline,
                "--ds",
                a.ds,
                "--raw",
                str(raw),
                "--work",
                str(home),
                "--out",
                str(out),
            ],
            env,
            work / f"{runtime}.log",
        )
        if code or not out.exists():
            failed.append(f"{runtime} exited {code}")
            continue
        result = json.loads(out.read_text())
        result["checksums"] = checksums(home / "redshift.duckdb")
        results[runtime] = result
        bad = {t: s for t, s in result.get("tasks", {}).items() if s != "success"}
        if bad:
            failed.append(f"{runtime}: tasks not successful: {bad}")
        if result.get("status", "SUCCEEDED") != "SUCCEEDED":
            failed.append(f"{runtime}: execution {result['status']}: {result.get('cause')}")
        # Every workload logs in as the ETL user (infra/modules/redshift/users.tf), never the admin.
        from dwh_tools.rehearsal.seed import ETL_USER

        if "logins" in result and result["logins"] != [ETL_USER]:
            failed.append(
                f"{runtime}: logged in to Redshift as {result['logins']}, not only as {ETL_USER}"
            )
        if result.get("transient_failures") == 0:
            failed.append(f"{runtime}: no statement matched the rehearsed transient failure")
        for d in result.get("denied", []):
            failed.append(
                f"IAM denied: role {d['role']} action {d['action']} on {d['resource']} "
                f"({d['reason']})"
            )
    failed += report(results)
    for line in failed:
        print(f"FAIL {line}")
    print("rehearsal " + ("FAILED" if failed else "passed: every table equal on every runtime"))
    return 1 if failed else 0


def report(results: dict[str, dict]) -> list[str]:
    """Print the table-by-table comparison; return the differences."""
    names = list(results)
    tables = sorted({t for r in results.values() for t in r["checksums"]})
    width = max((len(t) for t in tables), default=10)
    print(f"{'table':<{width}}  " + "  ".join(f"{n:>28}" for n in names))
    problems = []
    for table in tables:
        cells = [results[n]["checksums"].get(table) for n in names]
        shown = [f"{c[0]} rows {c[1][-12:]}" if c else "missing" for c in cells]
        partial = table.startswith(RUN_DESCRIBING)
        keys = {(c[0] if partial else c) if c else None for c in cells}
        mark = "" if len(keys) == 1 else "  <- differs"
        print(f"{table:<{width}}  " + "  ".join(f"{s:>28}" for s in shown) + mark)
        if mark:
            problems.append(
                f"{table} differs: "
                + ", ".join(f"{n} {s}" for n, s in zip(names, shown, strict=True))
            )
    return problems


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
