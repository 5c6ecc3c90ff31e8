"""How figures read on a page: money, counts, percentages, months."""

from __future__ import annotations

import datetime as dt
import math

NONE = "—"


def money(value: float | None, digits: int = 2) -> str:
    return NONE if value is None else f"R$ {value:,.{digits}f}"


def count(value: float | None) -> str:
    return NONE if value is None else f"{int(value):,}"


# A tile's figure from a million up, in the units a reader rounds to; the tile's tooltip keeps
# the exact figure. Below a million the whole figure fits a tile.
UNITS = ((1e9, "B"), (1e6, "M"))


def _compact(value: float) -> str | None:
    for size, unit in UNITS:
        scaled = round(abs(value) / size, 1)
        if scaled >= 1:
            return f"{'-' if value < 0 else ''}{scaled:,.1f} {unit}"
    return None


def short_money(value: float | None, digits: int = 2) -> str:
    """``money`` for a KPI tile: "R$ 13.5 M" from a million up."""
    short = None if value is None else _compact(value)
    return money(value, digits) if short is None else f"R$ {short}"


def short_count(value: float | None) -> str:
    """``count`` for a KPI tile: "5.7 M" from a million up."""
    short = None if value is None else _compact(value)
    return count(value) if short is None else short


def pct(value: float | None, digits: int = 1, signed: bool = False) -> str:
    if value is None:
        return NONE
    return f"{value * 100:+.{digits}f}%" if signed else f"{value * 100:.{digits}f}%"


def month(value: dt.date | dt.datetime) -> str:
    return value.strftime("%Y-%m")


def nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
