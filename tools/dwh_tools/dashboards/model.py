"""The page model every dashboard fills, and the read-only access to the mart views."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class Kpi:
    key: str
    label: str
    value: str
    note: str = ""
    tone: str = ""  # "good", "bad" or "" (colours the figure)
    exact: str = ""  # the whole figure, in the tile's tooltip when ``value`` is rounded

    @property
    def title(self) -> str:
        return self.exact or self.value


@dataclass
class Chart:
    key: str
    title: str
    about: str = ""
    html: Any = None  # markupsafe.Markup of the Plotly div, or None when there is no data
    empty: str = ""
    wide: bool = False
    data: dict | None = None  # the rows behind the chart, for the filters and "Download CSV"


@dataclass
class Source:
    """Mart rows one chart plots. ``scope`` says when they are shown: "any" (always, narrowed by
    their own date and state columns), "all" (only while no state is chosen) or "state" (only
    while one is: the mart's rows for that state take the place of the all-states rows)."""

    view: str
    rows: list[dict]
    scope: str = "any"


@dataclass
class Filters:
    """The page's filter bar. ``dates`` is "month" or "date" (the inputs' kind), or "" when no
    chart of the page has a date; ``states`` the states to choose from, none when no chart of
    the page has a state. ``note`` says what the filters apply to and what the tiles show."""

    note: str
    dates: str = ""
    first: str = ""
    last: str = ""
    states: list[str] = field(default_factory=list)


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
    filters: Filters | None = None

    @property
    def file(self) -> str:
        return f"{self.slug}.html"


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _cell(value: Any) -> Any:
    """A mart value as the page's JSON holds it (and its CSV writes it)."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def plotted(
    sources: list[Source],
    traces: int | list[list[int]] | None,
    *,
    date: str | None = None,
    state: str | None = None,
    last: int | None = None,
    last_by: str = "dates",
    along: tuple[str, ...] | None = None,
    title: str = "",
) -> dict:
    """What the page's script needs to filter a chart and export its rows.

    The rows of ``sources`` are numbered in order, across the sources; the figure is drawn over
    all of them. ``traces`` gives, per trace of the figure, the row each point plots (an int n:
    n traces that each plot every row in order; None: the chart is never filtered, only
    exported). The script keeps the points whose rows pass the filter on ``date`` (a column,
    compared by its first 7 or 10 characters) and ``state``, then the ``last`` dates (or rows)
    of those, and redraws. ``along`` names the trace attributes that run along the points.
    """
    rows = [[n, [_cell(r[c]) for c in s.rows[0]]] for n, s in enumerate(sources) for r in s.rows]
    if isinstance(traces, int):
        traces = [list(range(len(rows)))] * traces
    return {
        "sources": [
            {"view": s.view, "columns": list(s.rows[0]) if s.rows else [], "scope": s.scope}
            for s in sources
        ],
        "rows": rows,
        "traces": traces,
        "date": date,
        "state": state,
        "last": last,
        "last_by": last_by,
        "along": list(along) if along else None,
        "title": title,
    }


class Marts:
    """Read-only queries over the mart views; a view that does not exist reads as empty.

    The pages only read and format: every figure they show is a column of a mart view, so the
    HTML pages and the QuickSight datasets read the same definitions.
    """

    def __init__(self, con):
        import duckdb

        self.con = con
        self._catalog_error = duckdb.CatalogException
        self.missing: set[str] = set()
        self.filled: set[str] = set()

    def rows(self, view: str, sql: str, params: tuple = ()) -> list[dict]:
        """The rows of ``sql``, a query over ``view``."""
        try:
            cur = self.con.execute(sql, list(params))
        except self._catalog_error:
            self.missing.add(view)
            return []
        names = [d[0] for d in cur.description]
        out = [dict(zip(names, map(_plain, r), strict=True)) for r in cur.fetchall()]
        if out:
            self.filled.add(view)
        return out

    def no_data(self, rows: list, *views: str, reason: str = "") -> str:
        """The one empty rule of every page, chart and table: "" when ``rows`` hold data, else
        what the "No data" notice says.

        A view that does not exist asks for the pipeline to be run; a view without rows says so.
        ``reason`` explains an empty selection from views that do have rows (e.g. growth needs
        two consecutive months).
        """
        if rows:
            return ""
        if reason and any(v in self.filled for v in views):
            return reason
        return " ".join(
            f"{v} does not exist yet; run the pipeline (make run) to build the marts."
            if v in self.missing
            else f"{v} has no rows yet."
            for v in views
            if v not in self.filled
        )

    def one(self, view: str, sql: str) -> dict | None:
        """The single row of a one-row summary view, or None when it has none."""
        found = self.rows(view, sql)
        return found[0] if found else None


def chart(
    m: Marts,
    key: str,
    title: str,
    about: str,
    rows: list,
    views: tuple[str, ...],
    draw,
    *,
    reason: str = "",
    wide: bool = False,
    data=None,
) -> Chart:
    """A chart drawn by ``draw(rows)``, or its "No data" notice by the one empty rule.

    ``data(rows)`` gives the rows behind the drawn chart (``plotted``); by default ``rows``,
    exported but never filtered.
    """
    empty = m.no_data(rows, *views, reason=reason)
    if empty:
        return Chart(key, title, about, None, empty=empty, wide=wide)
    spec = data(rows) if data else plotted([Source(views[0], rows)], None)
    return Chart(key, title, about, draw(rows), wide=wide, data=spec)


def no_data_banner(page: Page, m: Marts, rows: list, *views: str) -> bool:
    """Put the page's "No data" banner up when its main rows are empty; True when it did."""
    empty = m.no_data(rows, *views)
    if empty:
        page.banners.append(f"No data: {empty}")
    return bool(empty)
