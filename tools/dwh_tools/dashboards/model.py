"""The page model every dashboard fills, and the read-only access to the mart views."""

from __future__ import annotations

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


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


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
) -> Chart:
    """A chart drawn by ``draw(rows)``, or its "No data" notice by the one empty rule."""
    empty = m.no_data(rows, *views, reason=reason)
    return Chart(key, title, about, None if empty else draw(rows), empty=empty, wide=wide)


def no_data_banner(page: Page, m: Marts, rows: list, *views: str) -> bool:
    """Put the page's "No data" banner up when its main rows are empty; True when it did."""
    empty = m.no_data(rows, *views)
    if empty:
        page.banners.append(f"No data: {empty}")
    return bool(empty)
