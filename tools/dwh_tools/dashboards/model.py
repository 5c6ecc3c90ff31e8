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
