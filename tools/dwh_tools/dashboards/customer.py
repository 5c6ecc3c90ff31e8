"""The customer dashboard: RFM segments, cohort retention, repeat and churn, lifetime value."""

from __future__ import annotations

import math

from .figures import BLUE, GREEN, GREY, PURPLE, RED, figure_html
from .fmt import NONE, count, money, month, nice_step, pct
from .model import Chart, Kpi, Marts, Page

SEGMENT_ORDER = ("loyal", "new", "big spender at risk", "occasional", "hibernating")


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
        step = nice_step(float(cap) / 25)
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
