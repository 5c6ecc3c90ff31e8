"""The operational dashboard: rows per stage, quarantine, quality checks, run durations."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from .figures import BLUE, GREEN, GREY, ORANGE, PURPLE, RED, figure_html, hbar
from .fmt import NONE, count, pct
from .model import Chart, Kpi, Marts, Page, Table


def _airflow_runs(airflow_db: Path | None) -> list[dict]:
    """Task start and end times per run from the local Airflow metadata (read-only)."""
    if airflow_db is None or not Path(airflow_db).exists():
        return []
    try:
        con = sqlite3.connect(f"file:{Path(airflow_db).resolve()}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "select t.dag_id, t.run_id, r.logical_date, t.task_id, t.start_date, t.end_date "
                "from task_instance as t join dag_run as r "
                "on r.dag_id = t.dag_id and r.run_id = t.run_id "
                "where t.start_date is not null and t.end_date is not null"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return []
    runs: dict[tuple, dict] = {}
    for dag_id, run_id, logical, task, start, end in rows:
        start, end = dt.datetime.fromisoformat(str(start)), dt.datetime.fromisoformat(str(end))
        run = runs.setdefault(
            (dag_id, run_id),
            {"dag_id": dag_id, "run_id": run_id, "logical": str(logical)[:10], "tasks": {}},
        )
        run["tasks"][task] = (start, end)
    out = []
    for run in runs.values():
        starts = [s for s, _ in run["tasks"].values()]
        ends = [e for _, e in run["tasks"].values()]
        run["started"], run["seconds"] = min(starts), (max(ends) - min(starts)).total_seconds()
        out.append(run)
    return sorted(out, key=lambda r: r["started"])


def operational(m: Marts, airflow_db: Path | None = None) -> Page:
    import plotly.graph_objects as go

    loads_view, quality_view = "mart.operational_loads", "mart.operational_quality"
    loads = m.rows(
        "select ingest_date, entity, run_id, rows_in, rows_quarantined, rows_out, rows_loaded, "
        "loaded_at, quarantine_rate, is_reconciled from mart.operational_loads "
        "order by ingest_date, entity",
        loads_view,
    )
    # A re-run of a date records its checks again; the latest result of each check counts.
    checks = m.rows(
        "select ingest_date, run_id, node_id, check_name, check_type, table_name, observed, "
        "threshold, status, severity, checked_at from mart.operational_quality "
        "qualify row_number() over (partition by ingest_date, node_id, check_name "
        "order by checked_at desc) = 1 "
        "order by ingest_date, status, severity, check_name",
        quality_view,
    )
    spans = m.rows(
        "with l as (select run_id, min(ingest_date) as ingest_date, min(loaded_at) as started, "
        "max(loaded_at) as loaded from mart.operational_loads group by run_id), "
        "q as (select run_id, max(checked_at) as checked from mart.operational_quality "
        "group by run_id) "
        "select l.run_id, l.ingest_date, l.started, greatest(l.loaded, coalesce(q.checked, "
        "l.loaded)) as finished from l left join q on l.run_id = q.run_id order by l.started",
        loads_view,
    )
    page = Page(
        "operational",
        "Operational",
        "Rows per stage, quarantine, quality checks and run durations.",
        [],
        [],
    )
    loads_empty, quality_empty = m.why_empty(loads_view), m.why_empty(quality_view)
    if not loads and not checks:
        page.banners.append(f"No data: {loads_empty} {quality_empty}")

    dates = sorted({r["ingest_date"] for r in loads} | {r["ingest_date"] for r in checks})
    last = dates[-1] if dates else None
    today = [r for r in loads if r["ingest_date"] == last]
    today_checks = [r for r in checks if r["ingest_date"] == last]
    rows_in = sum(r["rows_in"] for r in today)
    quarantined = sum(r["rows_quarantined"] for r in today)
    reconciled = sum(1 for r in today if r["is_reconciled"])
    passed = sum(1 for r in today_checks if r["status"] == "pass")
    blocking = sum(1 for r in today_checks if r["status"] != "pass" and r["severity"] == "block")
    runs = _airflow_runs(airflow_db)
    if runs:
        durations = [
            {
                "label": f"{r['logical']} {r['dag_id']}",
                "seconds": r["seconds"],
                "run_id": r["run_id"],
            }
            for r in runs
        ]
        duration_source = "Wall time of each Airflow run, first task start to last task end."
    else:
        durations = [
            {
                "label": f"{r['ingest_date']} {r['started']:%H:%M:%S}",
                "seconds": (r["finished"] - r["started"]).total_seconds(),
                "run_id": r["run_id"],
            }
            for r in spans
        ]
        duration_source = (
            "Warehouse time of each run, first staging load to last quality check "
            "(no Airflow metadata given)."
        )
    durations = durations[-20:]

    page.kpis = [
        Kpi(
            "logical_dates",
            "Logical dates loaded",
            count(len(dates)) if dates else NONE,
            f"{dates[0]} to {dates[-1]}" if dates else "",
        ),
        Kpi(
            "rows_in",
            f"Rows in, {last}" if last else "Rows in",
            count(rows_in) if today else NONE,
            f"{len(today)} entities" if today else "",
        ),
        Kpi(
            "quarantine_rate",
            "Quarantine rate",
            pct(quarantined / rows_in, 2) if rows_in else NONE,
            f"{count(quarantined)} rows quarantined" if today else "",
        ),
        Kpi(
            "reconciled",
            "Reconciled entities",
            f"{reconciled} / {len(today)}" if today else NONE,
            "rows in = clean + quarantined = loaded",
            ("good" if reconciled == len(today) else "bad") if today else "",
        ),
        Kpi(
            "checks",
            "Quality checks passed",
            f"{passed} / {len(today_checks)}" if today_checks else NONE,
            f"{blocking} blocking failures" if today_checks else "",
            ("good" if passed == len(today_checks) else "bad") if today_checks else "",
        ),
        Kpi(
            "duration",
            "Latest run",
            f"{durations[-1]['seconds']:,.1f} s" if durations else NONE,
            "Airflow wall time" if runs else ("warehouse time" if durations else ""),
        ),
    ]

    html = None
    if today:
        fig = go.Figure()
        for col, name, color in (
            ("rows_in", "rows in (raw)", BLUE),
            ("rows_quarantined", "quarantined", RED),
            ("rows_out", "clean", GREEN),
            ("rows_loaded", "loaded (staging)", PURPLE),
        ):
            fig.add_trace(
                go.Bar(
                    x=[r["entity"] for r in today],
                    y=[r[col] for r in today],
                    name=name,
                    marker_color=color,
                    hovertemplate=f"%{{x}}: %{{y:,}} {name}<extra></extra>",
                )
            )
        fig.update_layout(barmode="group")
        fig.update_yaxes(title_text="rows", type="log", dtick=1)
        fig.update_xaxes(tickangle=-25)
        html = figure_html(fig, "stages")
    page.charts.append(
        Chart(
            "stages",
            f"Rows per stage and entity, {last}" if last else "Rows per stage and entity",
            "Raw rows in, rows quarantined by the cleaning rules, clean rows, rows loaded "
            "(log scale).",
            html,
            empty=loads_empty,
            wide=True,
        )
    )

    html = None
    if loads:
        recent = sorted({r["ingest_date"] for r in loads})[-7:]
        fig = go.Figure()
        for d in recent:
            day = [r for r in loads if r["ingest_date"] == d]
            fig.add_trace(
                go.Bar(
                    x=[r["entity"] for r in day],
                    y=[(r["quarantine_rate"] or 0) * 100 for r in day],
                    name=str(d),
                    customdata=[r["rows_quarantined"] for r in day],
                    hovertemplate=f"{d} %{{x}}: %{{y:.2f}}%<br>%{{customdata:,}} rows"
                    "<extra></extra>",
                )
            )
        fig.update_layout(barmode="group", showlegend=len(recent) > 1)
        fig.update_xaxes(tickangle=-25)
        fig.update_yaxes(title_text="quarantined", ticksuffix="%")
        html = figure_html(fig, "quarantine")
    page.charts.append(
        Chart(
            "quarantine",
            "Quarantine rate by entity",
            "Rows quarantined over rows in, for the last 7 logical dates.",
            html,
            empty=loads_empty,
        )
    )

    html = None
    if checks:
        recent = sorted({r["ingest_date"] for r in checks})[-30:]
        fig = go.Figure()
        for name, test, color in (
            ("passed", lambda r: r["status"] == "pass", GREEN),
            (
                "failed, warning",
                lambda r: r["status"] != "pass" and r["severity"] != "block",
                ORANGE,
            ),
            ("failed, blocking", lambda r: r["status"] != "pass" and r["severity"] == "block", RED),
        ):
            fig.add_trace(
                go.Bar(
                    x=[str(d) for d in recent],
                    y=[sum(1 for r in checks if r["ingest_date"] == d and test(r)) for d in recent],
                    name=name,
                    marker_color=color,
                    hovertemplate=f"%{{x}}: %{{y}} {name}<extra></extra>",
                )
            )
        fig.update_layout(barmode="stack", legend_traceorder="normal")
        fig.update_xaxes(type="category", title_text="logical date")
        fig.update_yaxes(title_text="checks")
        html = figure_html(fig, "quality")
    page.charts.append(
        Chart(
            "quality",
            "Quality check results",
            "Latest result of every declared check per logical date.",
            html,
            empty=quality_empty,
        )
    )

    html = None
    if durations:
        fig = go.Figure(
            go.Bar(
                x=[d["label"] for d in durations],
                y=[d["seconds"] for d in durations],
                marker_color=BLUE,
                customdata=[d["run_id"] for d in durations],
                hovertemplate="%{customdata}<br>%{y:,.1f} s<extra></extra>",
            )
        )
        fig.update_xaxes(type="category", title_text="run")
        fig.update_traces(width=min(0.8, 0.15 * len(durations)))
        fig.update_yaxes(title_text="seconds")
        html = figure_html(fig, "durations")
    page.charts.append(
        Chart(
            "durations",
            "Run durations",
            duration_source + " Last 20 runs.",
            html,
            empty=loads_empty,
        )
    )

    if runs:
        tasks = sorted(runs[-1]["tasks"].items(), key=lambda kv: kv[1][1] - kv[1][0], reverse=True)
        page.charts.append(
            Chart(
                "tasks",
                f"Task durations, latest run ({runs[-1]['logical']})",
                "Seconds per task of the latest Airflow run, longest first.",
                hbar(
                    [name for name, _ in tasks],
                    [(end - start).total_seconds() for _, (start, end) in tasks],
                    "tasks",
                    color=GREY,
                    hover="%{x:,.1f} s",
                ),
                wide=True,
            )
        )

    def cell(text: str, cls: str = "") -> dict:
        return {"text": text, "cls": cls}

    def num(value: float | None) -> str:
        return NONE if value is None else f"{value:,.4g}"

    order = sorted(today_checks, key=lambda r: (r["status"] == "pass", r["check_name"]))
    page.tables.append(
        Table(
            "checks",
            f"Quality checks, {last}" if last else "Quality checks",
            ["check", "node", "type", "table", "severity", "status", "observed", "threshold"],
            [
                [
                    cell(r["check_name"]),
                    cell(r["node_id"]),
                    cell(r["check_type"]),
                    cell(r["table_name"] or ""),
                    cell(r["severity"]),
                    cell(r["status"], f"status-{'pass' if r['status'] == 'pass' else 'fail'}"),
                    cell(num(r["observed"]), "num"),
                    cell(num(r["threshold"]), "num"),
                ]
                for r in order
            ],
            "Failing checks first. A check passes when observed <= threshold.",
            quality_empty,
        )
    )
    return page
