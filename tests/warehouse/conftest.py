"""Fixtures of the warehouse tests: a fresh DuckDB warehouse per test (see handmade.py)."""

from __future__ import annotations

import pytest
from handmade import HandWarehouse


@pytest.fixture
def new_warehouse(tmp_path):
    """A fresh warehouse with the schema created and nothing loaded."""
    hw = HandWarehouse(tmp_path / "warehouse.duckdb")
    yield hw
    hw.close()
