"""The executive dashboard: revenue, orders, average order value and growth.

Every figure is a column of mart.executive_months (one row per month), mart.executive_monthly
(one row per month and customer state: the monthly charts while a state is chosen),
mart.executive_states (one row per customer state, ranked) or mart.executive_summary (one row over
all months). The monthly charts follow the page's month range and state; the states chart
(all months) its state; the tiles are for all months and all states.
"""

from __future__ import annotations

import datetime as dt

from .figures import BLUE, GREEN, ORANGE, PURPLE, RED, figure_html
from .fmt import NONE, count, money, month, pct, short_count, short_money
from .model import Filters, Kpi, Marts, Page, Source, chart, no_data_banner, plotted

MONTHS, STATES, SUMMARY = "mart.executive_months", "mart.executive_states", "mart.executive_summary"
MONTHLY = "mart.executive_monthly"


def _previous_month(d: dt.date) -> dt.date:
    return (d.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def executive(m: Marts) -> Page:
    months = m.rows(MONTHS, "select * from mart.executive_months order by month_start")
    monthly = m.rows(
        MONTHLY, "select * from mart.executive_monthly order by customer_state, month_start"
    )
    states = m.rows(
        STATES, "select * from mart.executive_states order by revenue_rank, customer_state"
    )
    total = m.one(
        SUMMARY,
        "select months, orders, revenue, average_order_value from mart.executive_summary",
    )
    page = Page(
        "executive",
        "Executive",
        "Revenue, orders, average order value and growth by month and customer state.",
        [],
        [],
    )
    no_data_banner(page, m, months, MONTHS)
    # Growth of the latest whole month; the run date's month only when no month is whole yet.
    whole = [r for r in months if r["is_complete"]] or months
    page.kpis = _kpis(total, whole[-1] if whole else None, states[0] if states else None)
    page.filters = Filters(
        "The tiles are for all months and all states. The month range and the state apply to "
        "the charts: the monthly charts show the chosen state's own months "
        f"({MONTHLY}); the states chart covers all months.",
        "month" if months else "",
        month(months[0]["month_start"]) if months else "",
        month(months[-1]["month_start"]) if months else "",
        sorted(r["customer_state"] for r in states),
    )

    def by_month(traces: int, keep=lambda r: True):
        """The all-states months, and every state's own months for when a state is chosen."""
        return lambda _: plotted(
            [
                Source(MONTHS, [r for r in months if keep(r)], "all"),
                Source(MONTHLY, [r for r in monthly if keep(r)], "state"),
            ],
            traces,
            date="month_start",
            state="customer_state",
        )

    def grown(r: dict) -> bool:
        return r["revenue_growth"] is not None

    page.charts = [
        chart(
            m,
            "revenue-orders",
            "Revenue and orders by month",
            "Bars: revenue (items' price); line: distinct orders.",
            months,
            (MONTHS,),
            lambda _: _revenue_orders(months + monthly),
            wide=True,
            data=by_month(2),
        ),
        chart(
            m,
            "aov",
            "Average order value by month",
            "Revenue divided by orders.",
            months,
            (MONTHS,),
            lambda _: _aov(months + monthly),
            data=by_month(1),
        ),
        chart(
            m,
            "growth",
            "Month-over-month revenue growth",
            "Revenue against the previous calendar month; months without one are left out.",
            [r for r in months if grown(r)],
            (MONTHS,),
            lambda _: _growth([r for r in months + monthly if grown(r)]),
            reason="growth needs revenue in two consecutive months.",
            data=by_month(1, grown),
        ),
        chart(
            m,
            "states",
            "Revenue by customer state",
            f"All {len(states)} states, largest first, over all months." if states else "",
            states,
            (STATES,),
            _states,
            wide=True,
            data=lambda rows: plotted([Source(STATES, rows)], 1, state="customer_state"),
        ),
    ]
    return page


def _kpis(total: dict | None, latest: dict | None, top: dict | None) -> list[Kpi]:
    if latest is None:
        growth = Kpi("mom_growth", "Month-over-month growth", NONE)
    else:
        growth_rate, before = (
            latest["revenue_growth"],
            month(_previous_month(latest["month_start"])),
        )
        growth = Kpi(
            "mom_growth",
            f"Growth {month(latest['month_start'])}",
            pct(growth_rate, signed=True),
            f"revenue vs {before}" if growth_rate is not None else f"no revenue in {before}",
            "" if growth_rate is None else ("good" if growth_rate >= 0 else "bad"),
        )
    return [
        Kpi(
            "revenue",
            "Revenue",
            short_money(total["revenue"], 0) if total else NONE,
            f"items' price, {total['months']} months" if total else "",
            exact=money(total["revenue"]) if total else "",
        ),
        Kpi(
            "orders",
            "Orders",
            short_count(total["orders"]) if total else NONE,
            "not canceled or unavailable",
            exact=count(total["orders"]) if total else "",
        ),
        Kpi(
            "aov",
            "Average order value",
            short_money(total["average_order_value"]) if total else NONE,
            exact=money(total["average_order_value"]) if total else "",
        ),
        growth,
        Kpi(
            "top_state",
            "Top state",
            top["customer_state"] if top else NONE,
            f"{pct(top['revenue_share'])} of revenue" if top else "",
        ),
    ]


def _revenue_orders(months: list[dict]):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

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
    return figure_html(fig, "revenue-orders")


def _aov(months: list[dict]):
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Scatter(
            x=[month(r["month_start"]) for r in months],
            y=[r["average_order_value"] for r in months],
            mode="lines+markers",
            line_color=PURPLE,
            hovertemplate="%{x}: R$ %{y:,.2f}<extra>AOV</extra>",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="R$ per order")
    return figure_html(fig, "aov")


def _growth(grown: list[dict]):
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=[month(r["month_start"]) for r in grown],
            y=[r["revenue_growth"] * 100 for r in grown],
            marker_color=[GREEN if r["revenue_growth"] >= 0 else RED for r in grown],
            hovertemplate="%{x}: %{y:+.1f}%<extra></extra>",
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="% vs previous month", ticksuffix="%")
    return figure_html(fig, "growth")


def _states(states: list[dict]):
    import plotly.graph_objects as go

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
    return figure_html(fig, "states", height=320)
