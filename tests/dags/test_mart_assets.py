"""The marts are Airflow assets: the task refreshing them is their one producer on both targets,
and a DAG scheduled on a mart is queued when the real ecommerce_dwh DAG refreshes it."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from dwh import assets, config
from dwh.compile_airflow import build_dag
from dwh.graph import PipelineError, load_pipeline, pipeline_files
from dwh.sql import SAMPLE_CONTEXT, render, split_statements
from dwh_tools import runner
from dwh_tools.lineage import statement_tables

FIXTURES = Path(__file__).parent / "fixtures"
CONSUMER = "finance_revenue_report"


def mart_tables() -> set[str]:
    """Every table or view the files of include/sql/mart create, read from the files."""
    tables = set()
    for path in sorted((config.SQL_DIR / "mart").glob("*.sql")):
        for statement in split_statements(render(path.read_text(), SAMPLE_CONTEXT)):
            tables |= {t for role, t in statement_tables(statement) if role == "create"}
    return tables


def test_the_mart_files_create_marts():
    marts = mart_tables()
    assert "mart.executive_monthly" in marts and len(marts) >= 16
    assert all(t.startswith("mart.") for t in marts)


@pytest.mark.parametrize("target", ["local", "aws"])
def test_every_mart_is_an_outlet_of_exactly_one_task(target):
    producers: dict[str, list[str]] = {}
    for path in pipeline_files():
        dag = build_dag(load_pipeline(path), target)
        for task in dag.tasks:
            for outlet in task.outlets:
                producers.setdefault(outlet.uri, []).append(f"{dag.dag_id}.{task.task_id}")
    expected = {assets.uri(t): ["ecommerce_dwh.refresh_marts"] for t in mart_tables()}
    assert producers == expected


def test_the_asset_uri_of_a_mart_is_what_the_readme_tells_consumers():
    from airflow.sdk import Asset

    uri = assets.uri("mart.executive_monthly")
    assert uri == "x-dwh://warehouse/mart/executive_monthly"
    assert Asset(uri).uri == uri  # Airflow keeps it as written: an x- scheme is not normalised
    assert f'Asset("{uri}")' in (config.REPO_ROOT / "README.md").read_text()


def copy_include(tmp_path: Path) -> Path:
    include = tmp_path / "include"
    shutil.copytree(config.INCLUDE_DIR / "pipelines", include / "pipelines")
    (include / "sql").symlink_to(config.SQL_DIR)
    (include / "glue").symlink_to(config.GLUE_DIR)
    return include


def test_a_pipeline_file_edited_since_dwh_compile_fails_with_what_to_run(tmp_path, monkeypatch):
    include = copy_include(tmp_path)
    yaml_path = include / "pipelines" / "ecommerce_dwh.yaml"
    text = yaml_path.read_text()
    marts = "mart/executive.sql, mart/customer.sql, mart/product.sql, mart/operational.sql"
    assert text.count(marts) == 1
    yaml_path.write_text(text.replace(marts, "mart/executive.sql, mart/customer.sql"))
    monkeypatch.setattr(config, "PIPELINES_DIR", include / "pipelines")
    with pytest.raises(PipelineError) as err:
        build_dag(load_pipeline(yaml_path, include), "local")
    message = str(err.value)
    assert message.startswith(f"{include / 'pipelines' / 'assets.json'}: ")
    assert "pipeline 'ecommerce_dwh' node 'refresh_marts' field 'sources'" in message
    assert "run `dwh compile`" in message


def test_two_nodes_writing_one_mart_are_refused(tmp_path):
    from dwh_tools.lineage import published_writes

    include = copy_include(tmp_path)
    yaml_path = include / "pipelines" / "ecommerce_dwh.yaml"
    text = yaml_path.read_text()
    anchor = "  - id: notify_success\n"
    twin = (
        "  - id: refresh_executive_again\n    kind: sql\n    sql: mart/executive.sql\n"
        "    depends_on: [refresh_marts]\n"
    )
    yaml_path.write_text(text.replace(anchor, twin + anchor))
    p = load_pipeline(yaml_path, include)
    with pytest.raises(PipelineError) as err:
        published_writes({p.pipeline: p}, {p.pipeline: yaml_path}, include)
    assert str(err.value).startswith(f"{yaml_path}: node 'refresh_executive_again' field 'sql'")
    assert "mart.executive_monthly, which node 'refresh_marts' of ecommerce_dwh writes" in str(
        err.value
    )


def airflow(env: dict, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run(
        [runner.airflow_bin(), *args], env=env, capture_output=True, text=True, timeout=540
    )
    assert run.returncode == 0, (
        f"airflow {' '.join(args)}:\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
    )
    return run


@pytest.mark.slow
def test_refreshing_the_marts_queues_a_dag_scheduled_on_a_mart(tmp_path, monkeypatch):
    """The real DAG's refresh_marts runs in a real metadata database (the tasks before it marked
    success, over a warehouse with the schema created); the consumer fixture is serialized
    beside it. Airflow records the mart's asset event, queues the consumer, and the scheduler's
    own query says the consumer needs a run."""
    from dwh_tools.local_target.warehouse import Warehouse

    monkeypatch.setenv("DWH_HOME", str(tmp_path / "dwh"))
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(config.REPO_ROOT / "dags" / "ecommerce_dwh.py", dags)
    shutil.copy(FIXTURES / "consumer_dag.py", dags)
    env = runner.airflow_env()
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags)
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    runner.ensure_metadata_db(env)
    wh = Warehouse(config.warehouse_path())
    wh.ensure_schema()
    wh.close()

    airflow(env, "dags", "reserialize")
    airflow(
        env,
        "dags",
        "test",
        "ecommerce_dwh",
        "2024-01-02",
        "--mark-success-pattern",
        "(?!refresh_marts$).*",  # matched in full against each task id
    )

    db = sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db")
    events = db.execute(
        "select a.uri, e.source_dag_id, e.source_task_id from asset_event e "
        "join asset a on a.id = e.asset_id"
    ).fetchall()
    assert {uri for uri, _, _ in events} == {assets.uri(t) for t in mart_tables()}
    assert {(dag, task) for _, dag, task in events} == {("ecommerce_dwh", "refresh_marts")}
    queued = db.execute(
        "select a.uri, q.target_dag_id from asset_dag_run_queue q join asset a on a.id = q.asset_id"
    ).fetchall()
    assert queued == [("x-dwh://warehouse/mart/executive_monthly", CONSUMER)]
    db.close()

    # What the scheduler asks before it creates the runs of asset-scheduled DAGs.
    code = (
        "import json\n"
        "from airflow.models.dag import DagModel\n"
        "from airflow.utils.session import create_session\n"
        "with create_session() as s:\n"
        "    dags, triggered = DagModel.dags_needing_dagruns(s)\n"
        "    print(json.dumps([sorted(m.dag_id for m in dags), sorted(triggered)]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-3000:]
    needing, asset_triggered = json.loads(run.stdout.splitlines()[-1])
    assert CONSUMER in needing
    assert asset_triggered == [CONSUMER]
