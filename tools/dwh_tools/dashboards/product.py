"""The product dashboard: category ranking, freight share, review score, on-time delivery.

The figures are columns of mart.product_categories (one row per category, ranked by revenue)
and mart.product_summary (one row over all categories: totals, item-weighted review score and
on-time rate, the top category and its share). Neither has a date or a state, so the page has
no filters; each chart's rows still download as CSV.
"""

from __future__ import annotations

from .figures import BLUE, GREEN, ORANGE, figure_html, hbar
from .fmt import NONE, count, money, pct, short_money
from .model import Filters, Kpi, Marts, Page, chart, no_data_banner

CATEGORIES, SUMMARY = "mart.product_categories", "mart.product_summary"
TOP_N = 15


def product(m: Marts) -> Page:
    cats = m.rows(
        CATEGORIES,
        "select * from mart.product_categories order by revenue_rank, category",
    )
    t = m.one(
        SUMMARY,
        "select categories, revenue, freight_share, average_review_score, on_time_rate, "
        "top_category, top_category_share from mart.product_summary",
    )
    page = Page(
        "product",
        "Product",
        "Category ranking by revenue, freight share, review score and on-time delivery.",
        [],
        [],
    )
    no_data_banner(page, m, cats, CATEGORIES)
    page.filters = Filters(
        "No product mart has a date or a state, so this page has no filters: the tiles and the "
        "charts are for all orders."
    )
    review = t["average_review_score"] if t else None
    page.kpis = [
        Kpi("categories", "Categories", count(t["categories"]) if t else NONE),
        Kpi(
            "revenue",
            "Revenue",
            short_money(t["revenue"], 0) if t else NONE,
            "items' price, all orders",
            exact=money(t["revenue"]) if t else "",
        ),
        Kpi(
            "top_category",
            "Top category",
            t["top_category"] if t else NONE,
            f"{pct(t['top_category_share'])} of revenue" if t else "",
        ),
        Kpi(
            "freight_share",
            "Freight share",
            pct(t["freight_share"]) if t else NONE,
            "of price plus freight",
        ),
        Kpi(
            "review_score",
            "Review score",
            NONE if review is None else f"{review:.2f}",
            "out of 5, item-weighted",
        ),
        Kpi(
            "on_time_rate",
            "On-time delivery",
            pct(t["on_time_rate"] if t else None),
            "item-weighted",
        ),
    ]

    head = cats[:TOP_N]
    names = [c["category"] for c in head]
    top_note = f"Top {len(head)} of {len(cats)} categories by revenue."
    plotted = [
        c for c in cats if c["on_time_rate"] is not None and c["average_review_score"] is not None
    ]
    page.charts = [
        chart(
            m,
            "categories",
            "Top categories by revenue",
            top_note,
            head,
            (CATEGORIES,),
            lambda head: hbar(
                names,
                [c["revenue"] for c in head],
                "categories",
                hover="R$ %{x:,.2f}<br>%{customdata[0]:,} orders, %{customdata[1]:,} items",
                customdata=[[c["orders"], c["items"]] for c in head],
            ),
        ),
        chart(
            m,
            "freight",
            "Freight share of order value",
            "Freight over price plus freight; " + top_note[0].lower() + top_note[1:],
            head,
            (CATEGORIES,),
            lambda head: hbar(
                names,
                [None if c["freight_share"] is None else c["freight_share"] * 100 for c in head],
                "freight",
                color=ORANGE,
                hover="%{x:.1f}% freight",
                xaxis={"ticksuffix": "%"},
            ),
        ),
        chart(
            m,
            "reviews",
            "Review score by category",
            "Average review score (1 to 5) of the categories' orders.",
            head if any(c["average_review_score"] is not None for c in head) else [],
            (CATEGORIES,),
            lambda head: hbar(
                names,
                [c["average_review_score"] for c in head],
                "reviews",
                color=GREEN,
                hover="%{x:.2f} of 5",
                xaxis={"range": [0, 5]},
            ),
            reason="no category has reviews.",
        ),
        chart(
            m,
            "ontime",
            "On-time delivery against review score",
            "One bubble per category, sized by revenue.",
            plotted,
            (CATEGORIES,),
            _ontime,
            reason="no category has both deliveries and reviews.",
        ),
    ]
    return page


def _ontime(plotted: list[dict]):
    import plotly.graph_objects as go

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
    return figure_html(fig, "ontime")
