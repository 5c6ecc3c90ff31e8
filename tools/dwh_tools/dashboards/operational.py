"""The operational dashboard: rows per stage, quarantine, quality checks, run durations.

The warehouse figures are columns of mart.operational_daily (one row per logical date: rows
through the stages, reconciled entities, outcome of the checks' latest results),
mart.operational_loads (one row per entity and date), mart.operational_checks_latest (the latest
result of every check per date) and mart.operational_runs (one row per run with its warehouse
duration, first staging load to last quality check), and mart.operational_rejects (rows
rejected per date, entity and cleaning rule, counted over the quarantine Parquet itself).

Airflow's own metadata is not in the warehouse: when the local Airflow SQLite file is given, the
run durations (first task start to last task end) and the task durations of the latest run are
read from its task_instance and dag_run tables here, and take the place of the warehouse
durations of mart.operational_runs.

The charts follow the page's date range: the stage chart shows the latest logical date in it,
the quarantine chart its last 7 dates, the reject reasons its latest date, the quality chart its last 30, the run durations its last
20 runs. The tiles are for the latest logical date loaded and the checks table for that date.
The marts have no state column: there is no state filter here.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from .figures import BLUE, GREEN, GREY, ORANGE, PURPLE, RED, figure_html, hbar
from .fmt import NONE, count, pct, short_count
from .model import (
    Chart,
    Filters,
    Kpi,
    Marts,
    Page,
    Source,
    Table,
    chart,
    no_data_banner,
    plotted,
)

DAILY, LOADS = "mart.operational_daily", "mart.operational_loads"
CHECKS, RUNS = "mart.operational_checks_latest", "mart.operational_runs"
REJECTS = "mart.operational_rejects"
STAGES = (
    ("rows_in", "rows in (raw)", BLUE),
    ("rows_quarantined", "quarantined", RED),
    ("rows_out", "clean", GREEN),
    ("rows_loaded", "loaded (staging)", PURPLE),
)
QUARANTINE_DATES = 7
QUALITY_STACK = (
    ("passed", "checks_passed", GREEN),
    ("failed, warning", "warnings", ORANGE),
    ("failed, blocking", "blocking_failures", RED),
)


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
    daily = m.rows(DAILY, "select * from mart.operational_daily order by ingest_date")
    loads = m.rows(LOADS, "select * from mart.operational_loads order by ingest_date, entity")
    checks = m.rows(
        CHECKS,
        "select ingest_date, node_id, check_name, check_type, table_name, observed, threshold, "
        "status, severity from mart.operational_checks_latest "
        "order by ingest_date, status = 'pass', check_name",
    )
    rejects = m.rows(
        REJECTS, "select * from mart.operational_rejects order by ingest_date, entity, rule_name"
    )
    rules = sorted({r["rule_name"] for r in rejects})
    page = Page(
        "operational",
        "Operational",
        "Rows per stage, quarantine, quality checks and run durations.",
        [],
        [],
    )
    no_data_banner(page, m, daily, DAILY)
    day = daily[-1] if daily else None
    last = day["ingest_date"] if day else None
    today = [r for r in loads if r["ingest_date"] == last]
    runs = _airflow_runs(airflow_db)
    if runs:
        # Not a mart: the CSV holds the Airflow runs' own columns.
        run_rows = [
            {
                "dag_id": r["dag_id"],
                "run_id": r["run_id"],
                "logical_date": r["logical"],
                "started_at": r["started"],
                "duration_seconds": r["seconds"],
            }
            for r in runs
        ]
        durations = [
            {"label": f"{r['logical']} {r['dag_id']}", "seconds": r["seconds"], "run": r["run_id"]}
            for r in runs
        ]
        duration_source = "Wall time of each Airflow run, first task start to last task end."
        run_view, run_date = "airflow dag_run and task_instance", "logical_date"
    else:
        run_rows = m.rows(RUNS, "select * from mart.operational_runs order by first_load_at")
        durations = [
            {
                "label": f"{r['ingest_date']} {r['first_load_at']:%H:%M:%S}",
                "seconds": r["duration_seconds"],
                "run": r["run_id"],
            }
            for r in run_rows
        ]
        duration_source = (
            "Warehouse time of each run, first staging load to last quality check "
            "(no Airflow metadata given)."
        )
        run_view, run_date = RUNS, "ingest_date"
    page.kpis = _kpis(daily, durations, bool(runs))
    page.filters = Filters(
        f"The tiles are for the latest logical date loaded ({last or NONE}), the checks table "
        "too. The date range applies to the charts: the stage chart shows the latest logical "
        "date in it. The marts have no state, so there is no state filter here.",
        "date" if daily else "",
        str(daily[0]["ingest_date"]) if daily else "",
        str(last) if daily else "",
    )
    checked = [d for d in daily if d["checks"]]
    page.charts = [
        chart(
            m,
            "stages",
            f"Rows per stage and entity, {last}" if last else "Rows per stage and entity",
            "Raw rows in, rows quarantined by the cleaning rules, clean rows, rows loaded "
            "(log scale).",
            today,
            (LOADS,),
            lambda _: _stages(loads),
            reason=f"nothing was loaded for {last}.",
            wide=True,
            data=lambda _: plotted(
                [Source(LOADS, loads)],
                len(STAGES),
                date="ingest_date",
                last=1,
                title="Rows per stage and entity",
            ),
        ),
        chart(
            m,
            "quarantine",
            "Quarantine rate by entity",
            "Rows quarantined over rows in, for the last 7 logical dates.",
            loads,
            (LOADS,),
            _quarantine,
            data=lambda _: plotted(
                [Source(LOADS, loads)],
                [
                    [n for n, r in enumerate(loads) if r["ingest_date"] == d]
                    for d in sorted({r["ingest_date"] for r in loads})
                ],
                date="ingest_date",
                last=QUARANTINE_DATES,
            ),
        ),
        chart(
            m,
            "rejects",
            f"Reject reasons, {last}" if last else "Reject reasons",
            "Rows quarantined per cleaning rule and entity, counted over the quarantine files.",
            [r for r in rejects if r["ingest_date"] == last],
            (REJECTS,),
            lambda _: _rejects(rejects, rules),
            reason=f"no row was quarantined on {last}.",
            data=lambda _: plotted(
                [Source(REJECTS, rejects)],
                [[n for n, r in enumerate(rejects) if r["rule_name"] == rule] for rule in rules],
                date="ingest_date",
                last=1,
                title="Reject reasons",
            ),
        ),
        chart(
            m,
            "quality",
            "Quality check results",
            "Latest result of every declared check per logical date.",
            checked[-30:],
            (DAILY,),
            lambda _: _quality(checked),
            reason="no quality check has run yet.",
            data=lambda _: plotted(
                [Source(DAILY, checked)],
                len(QUALITY_STACK),
                date="ingest_date",
                last=30,
                last_by="rows",
            ),
        ),
        chart(
            m,
            "durations",
            "Run durations",
            duration_source + " Last 20 runs.",
            durations[-20:],
            (RUNS,),
            lambda _: _durations(durations),
            data=lambda _: plotted(
                [Source(run_view, run_rows)], 1, date=run_date, last=20, last_by="rows"
            ),
        ),
    ]
    if runs:
        page.charts.append(
            Chart(
                "tasks",
                f"Task durations, latest run ({runs[-1]['logical']})",
                "Seconds per task of the latest Airflow run, longest first.",
                _tasks(runs[-1]),
                wide=True,
                data=plotted([Source("airflow task_instance", _task_rows(runs[-1]))], None),
            )
        )
    page.tables.append(_checks_table(m, [r for r in checks if r["ingest_date"] == last], last))
    return page


def _kpis(daily: list[dict], durations: list[dict], airflow: bool) -> list[Kpi]:
    day = daily[-1] if daily else {}
    last, loaded, checked = day.get("ingest_date"), day.get("entities"), day.get("checks")
    return [
        Kpi(
            "logical_dates",
            "Logical dates loaded",
            count(len(daily)) if daily else NONE,
            f"{daily[0]['ingest_date']} to {last}" if daily else "",
        ),
        Kpi(
            "rows_in",
            f"Rows in, {last}" if last else "Rows in",
            short_count(day["rows_in"]) if loaded else NONE,
            f"{loaded} entities" if loaded else "",
            exact=count(day["rows_in"]) if loaded else "",
        ),
        Kpi(
            "quarantine_rate",
            "Quarantine rate",
            pct(day["quarantine_rate"], 2) if loaded else NONE,
            f"{count(day['rows_quarantined'])} rows quarantined" if loaded else "",
        ),
        Kpi(
            "reconciled",
            "Reconciled entities",
            f"{day['reconciled_entities']} / {loaded}" if loaded else NONE,
            "rows in = clean + quarantined = loaded",
            ("good" if day["reconciled_entities"] == loaded else "bad") if loaded else "",
        ),
        Kpi(
            "checks",
            "Quality checks passed",
            f"{day['checks_passed']} / {checked}" if checked else NONE,
            f"{day['blocking_failures']} blocking failures" if checked else "",
            ("good" if day["checks_passed"] == checked else "bad") if checked else "",
        ),
        Kpi(
            "duration",
            "Latest run",
            f"{durations[-1]['seconds']:,.1f} s" if durations else NONE,
            "Airflow wall time" if airflow else ("warehouse time" if durations else ""),
        ),
    ]


def _stages(loads: list[dict]):
    """Every date's bars; the page's script shows the latest date in its date range."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for col, name, color in STAGES:
        fig.add_trace(
            go.Bar(
                x=[r["entity"] for r in loads],
                y=[r[col] for r in loads],
                name=name,
                marker_color=color,
                hovertemplate=f"%{{x}}: %{{y:,}} {name}<extra></extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="rows", type="log", dtick=1)
    fig.update_xaxes(tickangle=-25)
    return figure_html(fig, "stages")


def _quarantine(loads: list[dict]):
    import plotly.graph_objects as go

    dates = sorted({r["ingest_date"] for r in loads})
    recent = dates[-QUARANTINE_DATES:]
    fig = go.Figure()
    for d in dates:  # one trace per date; the page's script shows the last 7 in its range
        day = [r for r in loads if r["ingest_date"] == d]
        fig.add_trace(
            go.Bar(
                visible=d in recent,
                x=[r["entity"] for r in day],
                y=[(r["quarantine_rate"] or 0) * 100 for r in day],
                name=str(d),
                customdata=[r["rows_quarantined"] for r in day],
                hovertemplate=f"{d} %{{x}}: %{{y:.2f}}%<br>%{{customdata:,}} rows<extra></extra>",
            )
        )
    fig.update_layout(barmode="group", showlegend=len(recent) > 1)
    fig.update_xaxes(tickangle=-25)
    fig.update_yaxes(title_text="quarantined", ticksuffix="%")
    return figure_html(fig, "quarantine")


def _rejects(rejects: list[dict], rules: list[str]):
    """One stacked trace per rule over every date's rows; the page's script shows the latest date
    in its date range."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for rule in rules:
        rows = [r for r in rejects if r["rule_name"] == rule]
        fig.add_trace(
            go.Bar(
                x=[r["entity"] for r in rows],
                y=[r["rows_rejected"] for r in rows],
                name=rule,
                hovertemplate=f"%{{x}}: %{{y:,}} rows, {rule}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(tickangle=-25)
    fig.update_yaxes(title_text="rows rejected")
    return figure_html(fig, "rejects")


def _quality(days: list[dict]):
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, col, color in QUALITY_STACK:
        fig.add_trace(
            go.Bar(
                x=[str(d["ingest_date"]) for d in days],
                y=[d[col] for d in days],
                name=name,
                marker_color=color,
                hovertemplate=f"%{{x}}: %{{y}} {name}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    fig.update_xaxes(type="category", title_text="logical date")
    fig.update_yaxes(title_text="checks")
    return figure_html(fig, "quality")


def _durations(durations: list[dict]):
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=[d["label"] for d in durations],
            y=[d["seconds"] for d in durations],
            marker_color=BLUE,
            customdata=[d["run"] for d in durations],
            hovertemplate="%{customdata}<br>%{y:,.1f} s<extra></extra>",
        )
    )
    fig.update_xaxes(type="category", title_text="run")
    fig.update_traces(width=min(0.8, 0.15 * len(durations)))
    fig.update_yaxes(title_text="seconds")
    return figure_html(fig, "durations")


def _task_rows(run: dict) -> list[dict]:
    return [
        {
            "task_id": name,
            "start_date": start,
            "end_date": end,
            "duration_seconds": (end - start).total_seconds(),
        }
        for name, (start, end) in sorted(run["tasks"].items())
    ]


def _tasks(run: dict):
    tasks = sorted(run["tasks"].items(), key=lambda kv: kv[1][1] - kv[1][0], reverse=True)
    return hbar(
        [name for name, _ in tasks],
        [(end - start).total_seconds() for _, (start, end) in tasks],
        "tasks",
        color=GREY,
        hover="%{x:,.1f} s",
    )


def _checks_table(m: Marts, checks: list[dict], last) -> Table:
    def cell(text: str, cls: str = "") -> dict:
        return {"text": text, "cls": cls}

    def num(value: float | None) -> str:
        return NONE if value is None else f"{value:,.4g}"

    return Table(
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
            for r in checks
        ],
        "Failing checks first. A check passes when observed <= threshold.",
        m.no_data(checks, CHECKS, reason=f"no check ran for {last}."),
    )
