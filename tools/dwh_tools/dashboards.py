"""Static HTML dashboards over the warehouse marts: executive, customer, product, operational.

``render(warehouse_path, out_dir)`` opens the DuckDB warehouse read-only and writes
``index.html`` and one page per dashboard into ``out_dir``, with Plotly's JavaScript written once
beside them (``plotly.min.js``): the pages open from the file system with no network. A mart that is
empty or not built yet renders a "No data" notice instead of a chart. Run durations come from the
local Airflow metadata when its SQLite file is given, else from the ops tables' timestamps.

``python -m dwh_tools.dashboards`` renders $DWH_HOME/warehouse.duckdb into $DWH_HOME/dashboards/.
Local target only: duckdb and plotly are imported inside the functions, never at module level.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sqlite3
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from dwh import config

TEMPLATES = Path(__file__).with_name("dashboard_templates")
PLOTLY_JS = "plotly.min.js"
DASHBOARDS = ("executive", "customer", "product", "operational")
TOP_N = 15
NONE = "—"
BLUE, ORANGE, GREEN, RED, GREY, PURPLE = (
    "#2563eb",
    "#f59e0b",
    "#059669",
    "#dc2626",
    "#9ca3af",
    "#7c3aed",
)
SEGMENT_ORDER = ("loyal", "new", "big spender at risk", "occasional", "hibernating")
# The modebar keeps zoom, pan, reset and "download as PNG"; none of them needs the network.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


# --- page model -------------------------------------------------------------------------------


@dataclass
class Kpi:
    key: str
    label: str
    value: str
    note: str = ""
    tone: str = ""  # "good", "bad" or "" (colours the figure)


@dataclass
class Chart:
    key: str
    title: str
    about: str = ""
    html: Any = None  # markupsafe.Markup of the Plotly div, or None when there is no data
    empty: str = ""
    wide: bool = False


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[dict]]
    about: str = ""
    empty: str = ""


@dataclass
class Page:
    slug: str
    title: str
    about: str
    kpis: list[Kpi]
    charts: list[Chart]
    tables: list[Table] = field(default_factory=list)
    banners: list[str] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"{self.slug}.html"


# --- formatting -------------------------------------------------------------------------------


def money(value: float | None, digits: int = 2) -> str:
    return NONE if value is None else f"R$ {value:,.{digits}f}"


def count(value: float | None) -> str:
    return NONE if value is None else f"{int(value):,}"


def pct(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None:
        return NONE
    return f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"


def month(value: dt.date | dt.datetime) -> str:
    return value.strftime("%Y-%m")


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


# --- reading the marts ------------------------------------------------------------------------


class Marts:
    """Read-only queries over the mart views; a view that does not exist reads as empty."""

    def __init__(self, con):
        import duckdb

        self.con = con
        self._catalog_error = duckdb.CatalogException
        self.missing: set[str] = set()

    def rows(self, sql: str, view: str, params: tuple = ()) -> list[dict]:
        try:
            cur = self.con.execute(sql, list(params))
        except self._catalog_error:
            self.missing.add(view)
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, map(_plain, r), strict=True)) for r in cur.fetchall()]

    def why_empty(self, view: str) -> str:
        if view in self.missing:
            return f"{view} does not exist yet; run the pipeline (make run) to build the marts."
        return f"{view} has no rows yet."


# --- charts -----------------------------------------------------------------------------------


def _template():
    import plotly.graph_objects as go

    axis = {"gridcolor": "#eef0f3", "zerolinecolor": "#d1d5db", "automargin": True}
    return go.layout.Template(
        layout={
            "font": {
                "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
                "size": 12,
            },
            "colorway": [BLUE, ORANGE, GREEN, PURPLE, RED, "#0891b2", "#db2777", GREY],
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "xaxis": axis,
            "yaxis": axis,
            "hoverlabel": {"align": "left"},
            "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
            "margin": {"l": 10, "r": 10, "t": 36, "b": 10},
        }
    )


def figure_html(fig, key: str, height: int = 360):
    """The figure as a div for a page that loads plotly.min.js itself."""
    from markupsafe import Markup

    fig.update_layout(template=_template(), height=height)
    return Markup(
        fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{key}",
            config=PLOTLY_CONFIG,
            default_height=f"{height}px",
        )
    )


def _hbar(labels, values, key, *, color=BLUE, hover="%{x}", customdata=None, xaxis=None):
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker_color=color,
            customdata=customdata,
            hovertemplate=f"<b>%{{y}}</b><br>{hover}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", type="category")
    if xaxis:
        fig.update_xaxes(**xaxis)
    return figure_html(fig, key, height=max(260, 80 + 24 * len(labels)))


# --- executive ----------------------------------------------------------------------------------


def _previous_month(d: dt.date) -> dt.date:
    return (d.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def executive(m: Marts) -> Page:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    view = "mart.executive_monthly"
    months = m.rows(
        "select month_start, sum(orders) as orders, sum(revenue) as revenue, "
        "sum(freight) as freight from mart.executive_monthly group by month_start "
        "order by month_start",
        view,
    )
    states = m.rows(
        "select customer_state, sum(orders) as orders, sum(revenue) as revenue "
        "from mart.executive_monthly group by customer_state order by revenue desc, customer_state",
        view,
    )
    empty = m.why_empty(view)
    page = Page(
        "executive",
        "Executive",
        "Revenue, orders, average order value and growth by month and customer state.",
        [],
        [],
    )
    if not months:
        page.banners.append(f"No data: {empty}")
        for key, label in (
            ("revenue", "Revenue"),
            ("orders", "Orders"),
            ("aov", "Average order value"),
            ("mom_growth", "Month-over-month growth"),
            ("top_state", "Top state"),
        ):
            page.kpis.append(Kpi(key, label, NONE))
        for key, title in (
            ("revenue-orders", "Revenue and orders by month"),
            ("aov", "Average order value by month"),
            ("growth", "Month-over-month revenue growth"),
            ("states", "Revenue by customer state"),
        ):
            page.charts.append(Chart(key, title, empty=empty))
        return page

    by_month = {r["month_start"]: r for r in months}
    for r in months:
        prev = by_month.get(_previous_month(r["month_start"]))
        r["aov"] = r["revenue"] / r["orders"] if r["orders"] else None
        r["growth"] = r["revenue"] / prev["revenue"] - 1 if prev and prev["revenue"] else None
    revenue = sum(r["revenue"] for r in months)
    orders = sum(r["orders"] for r in months)
    latest = months[-1]
    top = states[0]
    page.kpis = [
        Kpi("revenue", "Revenue", money(revenue, 0), f"items' price, {len(months)} months"),
        Kpi("orders", "Orders", count(orders), "not canceled or unavailable"),
        Kpi("aov", "Average order value", money(revenue / orders if orders else None)),
        Kpi(
            "mom_growth",
            f"Growth {month(latest['month_start'])}",
            pct(latest["growth"], signed=True),
            (
                f"revenue vs {month(_previous_month(latest['month_start']))}"
                if latest["growth"] is not None
                else f"no revenue in {month(_previous_month(latest['month_start']))}"
            ),
            "" if latest["growth"] is None else ("good" if latest["growth"] >= 0 else "bad"),
        ),
        Kpi(
            "top_state",
            "Top state",
            top["customer_state"],
            f"{pct(top['revenue'] / revenue if revenue else None)} of revenue",
        ),
    ]

    labels = [month(r["month_start"]) for r in months]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=labels,
            y=[r["revenue"] for r in months],
            name="Revenue (R$)",
            marker_color=BLUE,
            hovertemplate="%{x}: R$ %{y:,.2f}<extra>revenue</extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[r["orders"] for r in months],
            name="Orders",
            mode="lines+markers",
            line_color=ORANGE,
            hovertemplate="%{x}: %{y:,} orders<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="revenue (R$)", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(
        title_text="orders",
        rangemode="tozero",
        tickmode="sync",
        tickformat=",.0f",
        showgrid=False,
        secondary_y=True,
    )
    page.charts.append(
        Chart(
            "revenue-orders",
            "Revenue and orders by month",
            "Bars: revenue (items' price); line: distinct orders.",
            figure_html(fig, "revenue-orders"),
            wide=True,
        )
    )

    fig = go.Figure(
        go.Scatter(
            x=labels,
            y=[r["aov"] for r in months],
            mode="lines+markers",
            line_color=PURPLE,
            hovertemplate="%{x}: R$ %{y:,.2f}<extra>AOV</extra>",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="R$ per order")
    page.charts.append(
        Chart(
            "aov",
            "Average order value by month",
            "Revenue divided by orders.",
            figure_html(fig, "aov"),
        )
    )

    grown = [r for r in months if r["growth"] is not None]
    if grown:
        fig = go.Figure(
            go.Bar(
                x=[month(r["month_start"]) for r in grown],
                y=[r["growth"] * 100 for r in grown],
                marker_color=[GREEN if r["growth"] >= 0 else RED for r in grown],
                hovertemplate="%{x}: %{y:+.1f}%<extra></extra>",
            )
        )
        fig.update_xaxes(type="category")
        fig.update_yaxes(title_text="% vs previous month", ticksuffix="%")
        html = figure_html(fig, "growth")
    else:
        html = None
    page.charts.append(
        Chart(
            "growth",
            "Month-over-month revenue growth",
            "Revenue against the previous calendar month; months without one are left out.",
            html,
            empty="growth needs revenue in two consecutive months.",
        )
    )
    fig = go.Figure(
        go.Bar(
            x=[r["customer_state"] for r in states],
            y=[r["revenue"] for r in states],
            marker_color=BLUE,
            customdata=[r["orders"] for r in states],
            hovertemplate="<b>%{x}</b><br>R$ %{y:,.2f}<br>%{customdata:,} orders<extra></extra>",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="revenue (R$)")
    page.charts.append(
        Chart(
            "states",
            "Revenue by customer state",
            f"All {len(states)} states, largest first.",
            figure_html(fig, "states", height=320),
            wide=True,
        )
    )
    return page


# --- customer -----------------------------------------------------------------------------------


def customer(m: Marts) -> Page:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    rfm, cohorts_view = "mart.customer_rfm", "mart.customer_cohorts"
    totals = m.rows(
        "select count(*) as customers, "
        "avg(case when is_repeat then 1.0 else 0.0 end) as repeat_rate, "
        "avg(case when is_churned then 1.0 else 0.0 end) as churn_share, "
        "avg(lifetime_value) as average_ltv, median(lifetime_value) as median_ltv "
        "from mart.customer_rfm",
        rfm,
    )
    segments = m.rows(
        "select segment, count(*) as customers, sum(lifetime_value) as value, "
        "avg(lifetime_value) as average_value, avg(recency_days) as recency "
        "from mart.customer_rfm group by segment",
        rfm,
    )
    cohorts = m.rows(
        "select cohort_month, months_since, customers, retention from mart.customer_cohorts "
        "order by cohort_month, months_since",
        cohorts_view,
    )
    page = Page(
        "customer",
        "Customer",
        "RFM segments, cohort retention, repeat and churn, lifetime value.",
        [],
        [],
    )
    t = totals[0] if totals and totals[0]["customers"] else None
    rfm_empty = m.why_empty(rfm)
    if t is None:
        page.banners.append(f"No data: {rfm_empty}")
    page.kpis = [
        Kpi("customers", "Customers", count(t["customers"]) if t else NONE, "people who ordered"),
        Kpi(
            "repeat_rate", "Repeat rate", pct(t["repeat_rate"]) if t else NONE, "more than 1 order"
        ),
        Kpi(
            "churn_share",
            "Churn share",
            pct(t["churn_share"]) if t else NONE,
            "no order for 180+ days",
        ),
        Kpi("average_ltv", "Average lifetime value", money(t["average_ltv"]) if t else NONE),
        Kpi("median_ltv", "Median lifetime value", money(t["median_ltv"]) if t else NONE),
    ]

    order = {s: n for n, s in enumerate(SEGMENT_ORDER)}
    segments.sort(key=lambda r: (order.get(r["segment"], len(order)), r["segment"]))
    html = None
    if segments:
        names = [r["segment"] for r in segments]
        fig = make_subplots(rows=1, cols=2, subplot_titles=("Customers", "Lifetime value (R$)"))
        fig.add_trace(
            go.Bar(
                x=names,
                y=[r["customers"] for r in segments],
                marker_color=BLUE,
                name="customers",
                customdata=[[r["recency"]] for r in segments],
                hovertemplate="<b>%{x}</b><br>%{y:,} customers<br>"
                "average recency %{customdata[0]:.0f} days<extra></extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=names,
                y=[r["value"] for r in segments],
                marker_color=GREEN,
                name="lifetime value",
                customdata=[[r["average_value"]] for r in segments],
                hovertemplate="<b>%{x}</b><br>R$ %{y:,.2f} in total<br>"
                "R$ %{customdata[0]:,.2f} per customer<extra></extra>",
            ),
            row=1,
            col=2,
        )
        fig.update_layout(showlegend=False, margin_t=56)  # room for the modebar above the titles
        html = figure_html(fig, "segments")
    page.charts.append(
        Chart(
            "segments",
            "RFM segments: size and value",
            "Recency and monetary quintiles; frequency decides loyal against new.",
            html,
            empty=rfm_empty,
            wide=True,
        )
    )

    html = None
    if cohorts:
        rows = sorted({month(r["cohort_month"]) for r in cohorts})
        width = max(r["months_since"] for r in cohorts) + 1
        z = [[None] * width for _ in rows]
        people = [[None] * width for _ in rows]
        index = {c: n for n, c in enumerate(rows)}
        for r in cohorts:
            y, x = index[month(r["cohort_month"])], r["months_since"]
            z[y][x] = round(r["retention"] * 100, 1)
            people[y][x] = r["customers"]
        # Month 0 is 100% by definition; the colour scale spans the later months so they differ.
        later = max((r["retention"] * 100 for r in cohorts if r["months_since"] > 0), default=100)
        fig = go.Figure(
            go.Heatmap(
                z=z,
                x=list(range(width)),
                y=rows,
                customdata=people,
                colorscale="Blues",
                zmin=0,
                zmax=later,
                texttemplate="%{z:.0f}" if len(rows) * width <= 600 else None,
                textfont={"size": 9},
                colorbar={"title": {"text": "%"}, "ticksuffix": "%"},
                hovertemplate="cohort %{y}, month %{x}<br>%{z:.1f}% active"
                "<br>%{customdata:,} customers<extra></extra>",
                xgap=1,
                ygap=1,
            )
        )
        fig.update_yaxes(type="category", autorange="reversed", title_text="first order")
        fig.update_xaxes(title_text="months since first order", dtick=1)
        html = figure_html(fig, "cohorts", height=max(320, 120 + 20 * len(rows)))
    page.charts.append(
        Chart(
            "cohorts",
            "Cohort retention",
            "Share of each first-order month's customers who ordered again N months later.",
            html,
            empty=m.why_empty(cohorts_view),
            wide=True,
        )
    )

    html = None
    if t:
        fig = go.Figure()
        for n, (title, share, labels, colors) in enumerate(
            (
                ("repeat", t["repeat_rate"], ("repeat", "one order"), (GREEN, GREY)),
                ("churn", t["churn_share"], ("churned", "active"), (RED, BLUE)),
            )
        ):
            fig.add_trace(
                go.Pie(
                    labels=list(labels),
                    values=[
                        round(share * t["customers"]),
                        t["customers"] - round(share * t["customers"]),
                    ],
                    marker_colors=list(colors),
                    hole=0.55,
                    sort=False,
                    textinfo="percent",
                    domain={"x": [0.52 * n, 0.48 + 0.52 * n]},
                    name=title,
                    hovertemplate="%{label}: %{value:,} customers (%{percent})<extra></extra>",
                )
            )
        fig.update_layout(
            annotations=[
                {"text": "repeat", "x": 0.24, "y": 0.5, "showarrow": False, "font_size": 14},
                {"text": "churn", "x": 0.76, "y": 0.5, "showarrow": False, "font_size": 14},
            ],
            legend={"orientation": "h", "y": -0.05},
        )
        html = figure_html(fig, "repeat-churn", height=320)
    page.charts.append(
        Chart(
            "repeat-churn",
            "Repeat customers and churn",
            "Left: customers with more than one order. Right: customers silent for 180+ days.",
            html,
            empty=rfm_empty,
        )
    )

    html = None
    if t:
        (cap,) = m.con.execute(
            "select quantile_cont(lifetime_value, 0.99) from mart.customer_rfm"
        ).fetchone()
        step = _nice_step(float(cap) / 25)
        last = max(1, math.ceil(float(cap) / step))
        bins = m.rows(
            "select least(floor(lifetime_value / ?)::int, ?) as bin, count(*) as customers "
            "from mart.customer_rfm group by 1 order by 1",
            rfm,
            (step, last),
        )
        labels = [
            f"≥ {b['bin'] * step:,.0f}"
            if b["bin"] == last
            else f"{b['bin'] * step:,.0f}–{(b['bin'] + 1) * step:,.0f}"
            for b in bins
        ]
        fig = go.Figure(
            go.Bar(
                x=[(b["bin"] + 0.5) * step for b in bins],
                y=[b["customers"] for b in bins],
                width=step * 0.95,
                marker_color=PURPLE,
                customdata=labels,
                hovertemplate="R$ %{customdata}<br>%{y:,} customers<extra></extra>",
            )
        )
        fig.update_xaxes(title_text="lifetime value (R$)")
        fig.update_yaxes(title_text="customers")
        html = figure_html(fig, "ltv", height=320)
    page.charts.append(
        Chart(
            "ltv",
            "Lifetime value distribution",
            "Price plus freight of all a customer's orders; the top 1% share the last bar.",
            html,
            empty=rfm_empty,
        )
    )
    return page


# --- product ------------------------------------------------------------------------------------


def product(m: Marts) -> Page:
    import plotly.graph_objects as go

    view = "mart.product_categories"
    cats = m.rows(
        "select category, orders, items, revenue, average_review_score, on_time_rate, "
        "freight_share, revenue_rank from mart.product_categories order by revenue_rank, category",
        view,
    )
    empty = m.why_empty(view)
    page = Page(
        "product",
        "Product",
        "Category ranking by revenue, freight share, review score and on-time delivery.",
        [],
        [],
    )

    def weighted(col: str) -> float | None:
        rated = [c for c in cats if c[col] is not None]
        items = sum(c["items"] for c in rated)
        return sum(c[col] * c["items"] for c in rated) / items if items else None

    revenue = sum(c["revenue"] for c in cats)
    # The mart holds freight as a share of price plus freight; freight = share * price / (1 - share).
    freight = sum(
        c["freight_share"] * c["revenue"] / (1 - c["freight_share"])
        for c in cats
        if c["freight_share"] is not None and c["freight_share"] < 1
    )
    top = cats[0] if cats else None
    if not cats:
        page.banners.append(f"No data: {empty}")
    review, on_time = weighted("average_review_score"), weighted("on_time_rate")
    page.kpis = [
        Kpi("categories", "Categories", count(len(cats)) if cats else NONE),
        Kpi("revenue", "Revenue", money(revenue, 0) if cats else NONE, "items' price, all orders"),
        Kpi(
            "top_category",
            "Top category",
            top["category"] if top else NONE,
            f"{pct(top['revenue'] / revenue if revenue else None)} of revenue" if top else "",
        ),
        Kpi(
            "freight_share",
            "Freight share",
            pct(freight / (revenue + freight)) if revenue + freight else NONE,
            "of price plus freight",
        ),
        Kpi(
            "review_score",
            "Review score",
            NONE if review is None else f"{review:.2f}",
            "out of 5, item-weighted",
        ),
        Kpi("on_time_rate", "On-time delivery", pct(on_time), "item-weighted"),
    ]

    head = cats[:TOP_N]
    names = [c["category"] for c in head]
    top_note = f"Top {len(head)} of {len(cats)} categories by revenue."
    page.charts.append(
        Chart(
            "categories",
            "Top categories by revenue",
            top_note,
            _hbar(
                names,
                [c["revenue"] for c in head],
                "categories",
                hover="R$ %{x:,.2f}<br>%{customdata[0]:,} orders, %{customdata[1]:,} items",
                customdata=[[c["orders"], c["items"]] for c in head],
            )
            if head
            else None,
            empty=empty,
        )
    )
    page.charts.append(
        Chart(
            "freight",
            "Freight share of order value",
            "Freight over price plus freight; " + top_note[0].lower() + top_note[1:],
            _hbar(
                names,
                [None if c["freight_share"] is None else c["freight_share"] * 100 for c in head],
                "freight",
                color=ORANGE,
                hover="%{x:.1f}% freight",
                xaxis={"ticksuffix": "%"},
            )
            if head
            else None,
            empty=empty,
        )
    )
    scores = [c["average_review_score"] for c in head]
    page.charts.append(
        Chart(
            "reviews",
            "Review score by category",
            "Average review score (1 to 5) of the categories' orders.",
            _hbar(
                names,
                scores,
                "reviews",
                color=GREEN,
                hover="%{x:.2f} of 5",
                xaxis={"range": [0, 5]},
            )
            if any(s is not None for s in scores)
            else None,
            empty=empty if not head else "no category has reviews.",
        )
    )
    plotted = [
        c for c in cats if c["on_time_rate"] is not None and c["average_review_score"] is not None
    ]
    html = None
    if plotted:
        biggest = max(c["revenue"] for c in plotted) or 1
        fig = go.Figure(
            go.Scatter(
                x=[c["on_time_rate"] * 100 for c in plotted],
                y=[c["average_review_score"] for c in plotted],
                mode="markers",
                text=[c["category"] for c in plotted],
                customdata=[c["revenue"] for c in plotted],
                marker={
                    "size": [c["revenue"] for c in plotted],
                    "sizemode": "area",
                    "sizeref": 2.0 * biggest / 40**2,
                    "sizemin": 4,
                    "color": BLUE,
                    "opacity": 0.6,
                    "line": {"width": 1, "color": "white"},
                },
                hovertemplate="<b>%{text}</b><br>on time %{x:.1f}%<br>review %{y:.2f}"
                "<br>R$ %{customdata:,.2f}<extra></extra>",
            )
        )
        fig.update_xaxes(title_text="delivered on time (%)", ticksuffix="%")
        fig.update_yaxes(title_text="average review score")
        html = figure_html(fig, "ontime")
    page.charts.append(
        Chart(
            "ontime",
            "On-time delivery against review score",
            "One bubble per category, sized by revenue.",
            html,
            empty=empty if not cats else "no category has both deliveries and reviews.",
        )
    )
    return page


# --- operational --------------------------------------------------------------------------------


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
                _hbar(
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


# --- the report ---------------------------------------------------------------------------------


def _period(m: Marts) -> str:
    (logical,) = m.rows(
        "select min(ingest_date) as first, max(ingest_date) as last from mart.operational_loads",
        "mart.operational_loads",
    ) or [{"first": None, "last": None}]
    (bought,) = m.rows(
        "select min(month_start) as first, max(month_start) as last from mart.executive_monthly",
        "mart.executive_monthly",
    ) or [{"first": None, "last": None}]
    parts = [
        f"Logical dates {logical['first']} to {logical['last']}"
        if logical["first"]
        else "No logical date loaded yet"
    ]
    if bought["first"]:
        parts.append(f"orders purchased {month(bought['first'])} to {month(bought['last'])}")
    return " · ".join(parts)


def _write(path: Path, text: str) -> None:
    """Write only when the content changed, so an unchanged file keeps its timestamp."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def render(
    warehouse_path: Path,
    out_dir: Path,
    *,
    airflow_db: Path | None = None,
    rendered_at: dt.datetime | None = None,
) -> dict[str, Path]:
    """Write index.html and the four dashboards into ``out_dir``; returns their paths by name.

    ``airflow_db`` is the local Airflow metadata (SQLite) for run and task durations; without it
    the durations come from the ops tables. Raises FileNotFoundError when there is no warehouse.
    """
    import duckdb
    import jinja2
    from plotly.offline import get_plotlyjs

    warehouse_path, out_dir = Path(warehouse_path), Path(out_dir)
    if not warehouse_path.exists():
        raise FileNotFoundError(
            f"{warehouse_path}: no warehouse to render dashboards from; run the pipeline first "
            "(make run)"
        )
    rendered_at = rendered_at or dt.datetime.now(dt.UTC)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        marts = Marts(con)
        pages = [executive(marts), customer(marts), product(marts), operational(marts, airflow_db)]
        period = _period(marts)
    finally:
        con.close()

    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / PLOTLY_JS, get_plotlyjs())
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    common = {
        "period": f"{period} · rendered {rendered_at:%Y-%m-%d %H:%M} UTC",
        "rendered_at": f"{rendered_at:%Y-%m-%d %H:%M:%S} UTC",
        "source": warehouse_path.name,
        "links": [{"slug": p.slug, "file": p.file, "title": p.title} for p in pages],
    }
    written = {}
    index = env.get_template("index.html.j2").render(
        title="E-commerce warehouse dashboards",
        slug="index",
        plotly=None,
        pages=pages,
        banners=[],
        **common,
    )
    _write(out_dir / "index.html", index)
    written["index"] = out_dir / "index.html"
    page_template = env.get_template("page.html.j2")
    for p in pages:
        html = page_template.render(
            title=f"{p.title} dashboard",
            slug=p.slug,
            plotly=PLOTLY_JS,
            kpis=p.kpis,
            charts=p.charts,
            tables=p.tables,
            banners=p.banners,
            **common,
        )
        _write(out_dir / p.file, html)
        written[p.slug] = out_dir / p.file
    return written


def default_out_dir() -> Path:
    return config.dwh_home() / "dashboards"


def render_local(rendered_at: dt.datetime | None = None) -> dict[str, Path]:
    """Render the local target's warehouse into $DWH_HOME/dashboards/, with Airflow durations."""
    return render(
        config.warehouse_path(),
        default_out_dir(),
        airflow_db=config.dwh_home() / "airflow" / "airflow.db",
        rendered_at=rendered_at,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dwh_tools.dashboards",
        description="Render the executive, customer, product and operational dashboards "
        "from the warehouse marts as static HTML that works offline.",
    )
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file to read")
    parser.add_argument("--out", type=Path, default=None, help="folder to write the pages into")
    parser.add_argument(
        "--airflow-db", type=Path, default=None, help="Airflow metadata SQLite, for run durations"
    )
    args = parser.parse_args(argv)
    home = config.dwh_home()
    try:
        written = render(
            args.warehouse or config.warehouse_path(),
            args.out or default_out_dir(),
            airflow_db=args.airflow_db or home / "airflow" / "airflow.db",
        )
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, path in written.items():
        print(f"{name:<12} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
