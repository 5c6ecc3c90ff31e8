"""Shared test settings: an isolated $DWH_HOME and AIRFLOW_HOME per session, no network."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_INCLUDE = REPO_ROOT / "tests" / "fixtures" / "include"
SHARED_OLIST = REPO_ROOT.parent / "shared" / "datasets" / "olist_sample"

_session_home = Path(tempfile.mkdtemp(prefix="dwh-test-"))
os.environ.setdefault("DWH_HOME", str(_session_home / "dwh"))
os.environ.setdefault("AIRFLOW_HOME", str(_session_home / "airflow"))
os.environ.setdefault("DWH_CACHE_DIR", str(_session_home / "cache"))  # validated pipelines
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


@pytest.fixture(scope="session")
def fixture_include() -> Path:
    return FIXTURE_INCLUDE


@pytest.fixture(scope="session", autouse=True)
def _stop_local_spark():
    """Stop the shared Spark session before the interpreter exits, so its JVM closes cleanly."""
    yield
    from dwh_tools.local_target.spark import stop_spark

    stop_spark()
