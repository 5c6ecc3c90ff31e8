"""The executive dashboard: revenue, orders, average order value and growth."""

from __future__ import annotations

import datetime as dt

from .figures import BLUE, GREEN, ORANGE, PURPLE, RED, figure_html
from .fmt import NONE, count, money, month, pct
from .model import Chart, Kpi, Marts, Page


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
