"""The end-of-run summary of ``dwh run``: tasks, each failed task's error and what to do, the
files landed, rows per stage, quarantine, quality, next steps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dwh import config


def _table(headers: list[str], rows: list[tuple]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True))]
    lines.append("  " + "  ".join("-" * w for w in widths))
    for row in cells[1:]:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def warehouse_figures(ds: str) -> dict:
    """Rows per stage, quality results and mart sizes of the logical date, read-only."""
    import duckdb

    path = config.warehouse_path()
    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        loads = con.execute(
            "select entity, rows_in, rows_blank, rows_quarantined, rows_out, rows_loaded, "
            "coalesce(note, ''), rejected_by_rule "
            "from ops.load_log where ingest_date = ? order by entity",
            [ds],
        ).fetchall()
        quality = con.execute(
            "select q.check_name, q.severity, q.status, round(q.observed, 4), q.threshold "
            "from ops.quality_results as q where q.ingest_date = ? and q.checked_at = ("
            "select max(checked_at) from ops.quality_results as l "
            "where l.ingest_date = q.ingest_date and l.check_name = q.check_name) "
            "order by q.status, q.check_name",
            [ds],
        ).fetchall()
        marts = con.execute(
            "select table_name from information_schema.tables where table_schema = 'mart' "
            "order by 1"
        ).fetchall()
        mart_rows = [
            (m, con.execute(f"select count(*) from mart.{m}").fetchone()[0]) for (m,) in marts
        ]
        versions = con.execute(
            "select count(*), count(distinct customer_unique_id) from dw.dim_customer "
            "where customer_key <> 'unknown'"
        ).fetchone()
    finally:
        con.close()
    return {"loads": loads, "quality": quality, "marts": mart_rows, "customer_versions": versions}


def failed_tasks(
    pipeline: str, ds: str, timings: dict, started: dt.datetime, log_path: Path
) -> dict[str, dict]:
    """task -> {"error", "action"} of each task of the run that failed, as its failure alert in
    the outbox says; from the run's log for a task that sends no failure alert."""
    from dwh_tools.local_target.failures import error_from_log, run_failures, what_to_do

    alerts = run_failures(config.outbox_path(), pipeline, ds, started)
    failed = [t for t, v in timings.items() if v.get("state") == "failed"]
    failed += [t for t in alerts if t not in failed]
    result = {}
    for task in failed:
        if task in alerts:
            error = alerts[task].get("error")
            action = alerts[task].get("action") or what_to_do(error, log_path)
        else:
            error = error_from_log(log_path, task)
            action = what_to_do(error, log_path)
        result[task] = {"error": error, "action": action}
    return result


def print_summary(
    pipeline: str,
    ds: str,
    timings: dict,
    code: int,
    log_path: Path,
    wall: float,
    dashboards: dict[str, Path] | None = None,
    failures: dict[str, dict] | None = None,
    landed_files: tuple | list = (),
    allow_empty: bool = False,
) -> None:
    print()
    empty = ", allow_empty" if allow_empty else ""
    print(f"== {pipeline} {ds}{empty}: {'SUCCESS' if code == 0 else 'FAILED'} in {wall:.0f}s")
    rows = [(t, v.get("state"), f"{v.get('seconds', 0):.1f}") for t, v in timings.items()]
    print(_table(["task", "state", "seconds"], rows))
    for task, failure in (failures or {}).items():
        print(f"\nFailed: {task}")
        for line in (failure["error"] or "(no error message found)").splitlines():
            print(f"  {line}")
        print(f"  what to do: {failure['action']}")
    if landed_files:
        from dwh_tools.landing import file_lines

        print("\nFiles landed:")
        print("\n".join(file_lines(landed_files)))
    figures = warehouse_figures(ds)
    if figures.get("loads"):
        print("\nRows per stage (rows in = blank + quarantined + clean; clean = loaded):")
        print(
            _table(
                [
                    "entity",
                    "rows in",
                    "blank",
                    "quarantined",
                    "clean",
                    "loaded",
                    "note",
                    "rejected by rule",
                ],
                figures["loads"],
            )
        )
    if figures.get("quality"):
        print("\nQuality checks:")
        print(_table(["check", "severity", "status", "observed", "threshold"], figures["quality"]))
    if figures.get("marts"):
        print("\nMarts:")
        print(_table(["view", "rows"], figures["marts"]))
        versions, people = figures["customer_versions"]
        print(f"\nCustomer dimension: {versions} versions of {people} customers (SCD type 2)")
    print("\nWhere to look next:")
    print(f"  full Airflow log      {log_path}")
    print(f"  warehouse (DuckDB)    {config.warehouse_path()}")
    print(f"  quarantined rows      {config.lake('processed') / '_quarantine'}")
    print(f"  alerts outbox         {config.outbox_path()}")
    for name, path in (dashboards or {}).items():
        label = "dashboards" if name == "index" else f"  {name}"
        print(f"  {label:<22}{path}")
