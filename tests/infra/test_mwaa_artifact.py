"""What MWAA receives holds only what MWAA runs, and loads there without laptop packages.

The deploy code builds plugins.zip and the DAGs folder exactly as it uploads them; a fresh
interpreter then loads them the way MWAA does: the plugins folder through Airflow's own plugin
manager, the DAGs through a DagBag with the aws target, while DuckDB, PySpark, Plotly, sqlglot and
the laptop tooling (dwh_tools) cannot be imported.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dwh import config
from dwh_tools import deploy

LAPTOP_ONLY = ("duckdb", "pyspark", "plotly", "sqlglot", "dwh_tools")

# Runs in a fresh interpreter (-I: no PYTHONPATH, no user site) so nothing of the laptop leaks in.
LOADER = r"""
import importlib, importlib.abc, json, os, sys
from pathlib import Path

blocked = set(os.environ["BLOCKED"].split(","))

class NotOnMwaa(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (not installed on MWAA)")
        return None

sys.meta_path.insert(0, NotOnMwaa())
plugins, dags = Path(os.environ["PLUGINS"]), Path(os.environ["DAGS"])
sys.path[:0] = [str(plugins), str(dags / "include" / "glue")]  # what startup.sh puts on the path

before = set(sys.modules)
from airflow import plugins_manager

plugins_manager.ensure_plugins_loaded()
plugin_errors = plugins_manager.get_import_errors()
stems = {p.stem for p in plugins.rglob("*.py")}
bare = sorted(stems & (set(sys.modules) - before) - {"__init__"})

module_errors = {}
for path in sorted(plugins.rglob("*.py")):
    parts = path.relative_to(plugins).with_suffix("").parts
    name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    try:
        importlib.import_module(name)
    except Exception as exc:
        module_errors[name] = f"{type(exc).__name__}: {exc}"

from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=str(dags))
print(json.dumps({
    "plugin_errors": {str(k): v for k, v in plugin_errors.items()},
    "bare_modules": bare,
    "module_errors": module_errors,
    "dag_errors": {str(k): v for k, v in bag.import_errors.items()},
    "dags": sorted(bag.dag_ids),
    "laptop_modules": sorted(m for m in sys.modules if m.split(".")[0] in blocked),
}))
"""


def build_artifact(root: Path) -> tuple[Path, Path]:
    """plugins.zip unpacked and the DAGs folder, as the deploy code builds and uploads them."""
    plugins, dags = root / "plugins", root / "dags"
    data = deploy.build_plugins_zip(config.PLUGINS_DIR)
    deploy.check_plugins_zip(data, "plugins.zip")
    zipfile.ZipFile(io.BytesIO(data)).extractall(plugins)
    for key, source in deploy.dag_folder_files(config.REPO_ROOT).items():
        target = root / key  # dags/<file> and dags/include/<part>/<file>
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return plugins, dags


def load_like_mwaa(plugins: Path, dags: Path, home: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "DWH_", "PYTHON")) or k == "AIRFLOW__CORE__UNIT_TEST_MODE"
    }
    env.update(
        BLOCKED=",".join(LAPTOP_ONLY),
        PLUGINS=str(plugins),
        DAGS=str(dags),
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(plugins),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__DWH__TARGET="aws",
        DWH_INCLUDE_DIR=str(dags / "include"),
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", LOADER],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> tuple[Path, Path]:
    return build_artifact(tmp_path_factory.mktemp("mwaa"))


def shipped(plugins: Path) -> list[str]:
    return sorted(str(p.relative_to(plugins)) for p in plugins.rglob("*") if p.is_file())


def test_plugins_zip_holds_the_runtime_and_none_of_the_laptop_tooling(artifact):
    plugins, _ = artifact
    files = shipped(plugins)
    runtime = {
        "dwh/compile_airflow.py",
        "dwh/graph.py",
        "dwh/kinds.py",
        "dwh/operators/aws.py",
        "dwh/loads.py",
        "dwh/quality.py",
        "dwh/sql.py",
    }
    assert runtime <= set(files), sorted(runtime - set(files))
    laptop = [f for f in files if f.startswith("dwh_tools") or "local" in Path(f).stem]
    assert laptop == []
    for name in ("cli", "runner", "ui", "dashboards", "datagen", "landing", "deploy", "warehouse"):
        assert not [f for f in files if Path(f).stem == name], name


def test_mwaa_loads_the_artifact_without_laptop_packages(artifact, tmp_path):
    plugins, dags = artifact
    result = load_like_mwaa(plugins, dags, tmp_path)
    assert result["plugin_errors"] == {}
    assert result["bare_modules"] == []
    assert result["module_errors"] == {}
    assert result["dag_errors"] == {}
    assert result["dags"] == ["ecommerce_dwh", "warehouse_maintenance"]
    assert result["laptop_modules"] == []


def test_without_its_airflowignore_the_plugin_manager_registers_bare_modules(artifact, tmp_path):
    """The check above can fail: the same load of a plugins folder lacking .airflowignore."""
    plugins, dags = artifact
    copy = tmp_path / "plugins"
    shutil.copytree(plugins, copy)
    (copy / ".airflowignore").unlink()
    result = load_like_mwaa(copy, dags, tmp_path / "home")
    assert {"config", "graph", "kinds", "aws"} <= set(result["bare_modules"])


def test_laptop_code_in_the_plugins_folder_shows_as_an_import_error(artifact, tmp_path):
    plugins, dags = artifact
    copy = tmp_path / "plugins"
    shutil.copytree(plugins, copy)
    shutil.copytree(config.TOOLS_DIR / "dwh_tools", copy / "dwh_tools")
    result = load_like_mwaa(copy, dags, tmp_path / "home")
    assert any(p.endswith("warehouse.py") for p in result["plugin_errors"]), result["plugin_errors"]
    assert "duckdb" in " ".join(result["plugin_errors"].values())
