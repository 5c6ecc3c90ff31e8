"""Plotly figure helpers: the shared look, the offline div and the horizontal bar chart."""

from __future__ import annotations

BLUE, ORANGE, GREEN, RED, GREY, PURPLE = (
    "#2563eb",
    "#f59e0b",
    "#059669",
    "#dc2626",
    "#9ca3af",
    "#7c3aed",
)
# The modebar keeps zoom, pan, reset and "download as PNG"; none of them needs the network.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


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


def hbar(labels, values, key, *, color=BLUE, hover="%{x}", customdata=None, xaxis=None):
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
