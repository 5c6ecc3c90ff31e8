"""How figures read on a page: money, counts, percentages, months."""

from __future__ import annotations

import datetime as dt
import math

NONE = "—"


def money(value: float | None, digits: int = 2) -> str:
    return NONE if value is None else f"R$ {value:,.{digits}f}"


def count(value: float | None) -> str:
    return NONE if value is None else f"{int(value):,}"


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
