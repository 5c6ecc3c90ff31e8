"""Where things are: repository folders, the local lake under $DWH_HOME, and the chosen target.

Everything here is cheap and side-effect free so DAG files may import it at parse time.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# DWH_INCLUDE_DIR points the runtime at another include/ folder (the tests' fixture pipelines).
INCLUDE_DIR = Path(os.environ.get("DWH_INCLUDE_DIR") or REPO_ROOT / "include").resolve()
PIPELINES_DIR = INCLUDE_DIR / "pipelines"
SQL_DIR = INCLUDE_DIR / "sql"
GLUE_DIR = INCLUDE_DIR / "glue"
STEPFUNCTIONS_DIR = REPO_ROOT / "infra" / "stepfunctions"
# What MWAA runs travels in plugins.zip (plugins/); the laptop's tooling (CLI, local target,
# dashboards, deploy, Step Functions compiler) lives in tools/ and never ships.
PLUGINS_DIR = REPO_ROOT / "plugins"
TOOLS_DIR = REPO_ROOT / "tools"


def local_pythonpath() -> list[str]:
    """The import path of a laptop process: the runtime, the tooling and the Glue contract."""
    return [str(PLUGINS_DIR), str(TOOLS_DIR), str(GLUE_DIR)]


TARGETS = ("local", "aws")
BUCKETS = ("raw", "processed", "scripts", "logs")


def target() -> str:
    """The deployment target: $DWH_TARGET, else Airflow config [dwh] target, else local."""
    value = os.environ.get("DWH_TARGET") or os.environ.get("AIRFLOW__DWH__TARGET") or "local"
    if value not in TARGETS:
        raise ValueError(f"DWH_TARGET={value!r} is not one of {', '.join(TARGETS)}")
    return value


def dwh_home() -> Path:
    """Root of the local target's state ($DWH_HOME, default .dwh in the repository)."""
    home = os.environ.get("DWH_HOME")
    return Path(home).resolve() if home else REPO_ROOT / ".dwh"


def lake(bucket: str) -> Path:
    """Local stand-in for an S3 bucket: $DWH_HOME/lake/<bucket>/."""
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; expected one of {', '.join(BUCKETS)}")
    return dwh_home() / "lake" / bucket


def warehouse_path() -> Path:
    return dwh_home() / "warehouse.duckdb"


def outbox_path() -> Path:
    return dwh_home() / "alerts" / "outbox.jsonl"
