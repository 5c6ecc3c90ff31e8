"""The product dashboard: category ranking, freight share, review score, on-time delivery."""

from __future__ import annotations

from .figures import BLUE, GREEN, ORANGE, figure_html, hbar
from .fmt import NONE, count, money, pct
from .model import Chart, Kpi, Marts, Page

TOP_N = 15


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
            hbar(
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
            hbar(
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
            hbar(
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
