"""The customer dashboard: RFM segments, cohort retention, repeat and churn, lifetime value.

The figures are columns of mart.customer_summary (one row over all customers),
mart.customer_segments (one row per RFM segment) and mart.customer_cohorts. The lifetime value
histogram counts mart.customer_rfm's customers per bin; the bin width is the page's choice (about
25 bars up to the 99th percentile), not a business figure. The cohort chart follows the page's
month range (by first-order month); no customer mart has a state column, so the page has no
state filter, and the tiles and the other charts are for all customers.
"""

from __future__ import annotations

import math

from .figures import BLUE, GREEN, GREY, PURPLE, RED, figure_html
from .fmt import NONE, count, money, month, nice_step, pct, short_count, short_money
from .model import Filters, Kpi, Marts, Page, Source, chart, no_data_banner, plotted

RFM, SUMMARY = "mart.customer_rfm", "mart.customer_summary"
SEGMENTS, COHORTS = "mart.customer_segments", "mart.customer_cohorts"
SEGMENT_ORDER = ("loyal", "new", "big spender at risk", "occasional", "hibernating")


def customer(m: Marts) -> Page:
    t = m.one(SUMMARY, "select * from mart.customer_summary")
    order = {s: n for n, s in enumerate(SEGMENT_ORDER)}
    segments = sorted(
        m.rows(
            SEGMENTS,
            "select * from mart.customer_segments",
        ),
        key=lambda r: (order.get(r["segment"], len(order)), r["segment"]),
    )
    cohorts = m.rows(
        COHORTS,
        "select * from mart.customer_cohorts order by cohort_month, months_since",
    )
    totals = [t] if t else []
    page = Page(
        "customer",
        "Customer",
        "RFM segments, cohort retention, repeat and churn, lifetime value.",
        [],
        [],
    )
    no_data_banner(page, m, totals, SUMMARY)
    page.filters = Filters(
        "The tiles and the charts but cohort retention are for all customers. The month range "
        "applies to the cohort chart, by first-order month. No customer mart has a state, so "
        "there is no state filter here.",
        "month" if cohorts else "",
        month(cohorts[0]["cohort_month"]) if cohorts else "",
        month(cohorts[-1]["cohort_month"]) if cohorts else "",
    )
    page.kpis = [
        Kpi(
            "customers",
            "Customers",
            short_count(t["customers"]) if t else NONE,
            "people who ordered",
            exact=count(t["customers"]) if t else "",
        ),
        Kpi(
            "repeat_rate", "Repeat rate", pct(t["repeat_rate"]) if t else NONE, "more than 1 order"
        ),
        Kpi(
            "churn_share",
            "Churn share",
            pct(t["churn_share"]) if t else NONE,
            "no order for 180+ days",
        ),
        Kpi(
            "average_ltv",
            "Average lifetime value",
            short_money(t["average_lifetime_value"]) if t else NONE,
            exact=money(t["average_lifetime_value"]) if t else "",
        ),
        Kpi(
            "median_ltv",
            "Median lifetime value",
            short_money(t["median_lifetime_value"]) if t else NONE,
            exact=money(t["median_lifetime_value"]) if t else "",
        ),
    ]
    page.charts = [
        chart(
            m,
            "segments",
            "RFM segments: size and value",
            "Recency and monetary quintiles; frequency decides loyal against new.",
            segments,
            (SEGMENTS,),
            _segments,
            wide=True,
        ),
        chart(
            m,
            "cohorts",
            "Cohort retention",
            "Share of each first-order month's customers who ordered again N months later.",
            cohorts,
            (COHORTS,),
            _cohorts,
            wide=True,
            data=_cohort_data,
        ),
        chart(
            m,
            "repeat-churn",
            "Repeat customers and churn",
            "Left: customers with more than one order. Right: customers silent for 180+ days.",
            totals,
            (SUMMARY,),
            lambda rows: _repeat_churn(rows[0]),
        ),
        chart(
            m,
            "ltv",
            "Lifetime value distribution",
            "Price plus freight of all a customer's orders; the top 1% share the last bar.",
            _ltv_bins(m),
            (RFM,),
            _ltv,
        ),
    ]
    return page


def _segments(segments: list[dict]):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = [r["segment"] for r in segments]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Customers", "Lifetime value (R$)"))
    fig.add_trace(
        go.Bar(
            x=names,
            y=[r["customers"] for r in segments],
            marker_color=BLUE,
            name="customers",
            customdata=[[r["average_recency_days"]] for r in segments],
            hovertemplate="<b>%{x}</b><br>%{y:,} customers<br>"
            "average recency %{customdata[0]:.0f} days<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[r["lifetime_value"] for r in segments],
            marker_color=GREEN,
            name="lifetime value",
            customdata=[[r["average_lifetime_value"]] for r in segments],
            hovertemplate="<b>%{x}</b><br>R$ %{y:,.2f} in total<br>"
            "R$ %{customdata[0]:,.2f} per customer<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_layout(showlegend=False, margin_t=56)  # room for the modebar above the titles
    return figure_html(fig, "segments")


def _cohort_data(cohorts: list[dict]) -> dict:
    # One heatmap row per cohort month: it is kept with that month's first mart row.
    first: dict[str, int] = {}
    for n, r in enumerate(cohorts):
        first.setdefault(month(r["cohort_month"]), n)
    return plotted(
        [Source(COHORTS, cohorts)],
        [[first[c] for c in sorted(first)]],
        date="cohort_month",
        along=("y", "z", "customdata"),
    )


def _cohorts(cohorts: list[dict]):
    import plotly.graph_objects as go

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
    return figure_html(fig, "cohorts", height=max(320, 120 + 20 * len(rows)))


def _repeat_churn(t: dict):
    import plotly.graph_objects as go

    fig = go.Figure()
    for n, (title, part, labels, colors) in enumerate(
        (
            ("repeat", t["repeat_customers"], ("repeat", "one order"), (GREEN, GREY)),
            ("churn", t["churned_customers"], ("churned", "active"), (RED, BLUE)),
        )
    ):
        fig.add_trace(
            go.Pie(
                labels=list(labels),
                values=[part, t["customers"] - part],
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
    return figure_html(fig, "repeat-churn", height=320)


def _ltv_bins(m: Marts) -> list[dict]:
    """Customers per lifetime value bin; the last bin holds the top 1%."""
    found = m.rows(
        RFM,
        "select quantile_cont(lifetime_value, 0.99) as cap from mart.customer_rfm "
        "having count(*) > 0",
    )
    if not found:
        return []
    cap = float(found[0]["cap"])
    step = nice_step(cap / 25)
    last = max(1, math.ceil(cap / step))
    bins = m.rows(
        RFM,
        "select least(floor(lifetime_value / ?)::int, ?) as bin, count(*) as customers "
        "from mart.customer_rfm group by 1 order by 1",
        (step, last),
    )
    for b in bins:
        b["low"], b["high"], b["last"] = b["bin"] * step, (b["bin"] + 1) * step, b["bin"] == last
    return bins


def _ltv(bins: list[dict]):
    import plotly.graph_objects as go

    step = bins[0]["high"] - bins[0]["low"]
    labels = [
        f"≥ {b['low']:,.0f}" if b["last"] else f"{b['low']:,.0f}–{b['high']:,.0f}" for b in bins
    ]
    fig = go.Figure(
        go.Bar(
            x=[(b["low"] + b["high"]) / 2 for b in bins],
            y=[b["customers"] for b in bins],
            width=step * 0.95,
            marker_color=PURPLE,
            customdata=labels,
            hovertemplate="R$ %{customdata}<br>%{y:,} customers<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="lifetime value (R$)")
    fig.update_yaxes(title_text="customers")
    return figure_html(fig, "ltv", height=320)
