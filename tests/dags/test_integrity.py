"""DAG integrity: what the DAG processor on MWAA and locally will see, for both targets."""

from __future__ import annotations

import ast
import os
import socket
from pathlib import Path

import pytest

from dwh import config
from dwh.graph import ALLOWED_TAGS, pipeline_files

DAGS_DIR = config.REPO_ROOT / "dags"
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))


def dagbag(folder: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder), safe_mode=False)


@pytest.fixture(scope="module", params=["local", "aws"])
def bag(request):
    mp = pytest.MonkeyPatch()
    mp.setenv("DWH_TARGET", request.param)
    # Parsing must not touch the network nor read Variables: make both fail loudly.
    mp.setattr(socket.socket, "connect", lambda *a, **k: pytest.fail(f"network at parse: {a}"))
    from airflow.sdk import Variable

    mp.setattr(Variable, "get", lambda *a, **k: pytest.fail("Variable.get at parse time"))
    result = dagbag(DAGS_DIR)
    mp.undo()
    return request.param, result


def test_every_pipeline_has_one_dag_file():
    assert {p.stem for p in pipeline_files()} == {f.stem for f in DAG_FILES}


def test_no_import_errors(bag):
    target, result = bag
    assert result.import_errors == {}, f"target {target}: {result.import_errors}"
    assert len(result.dags) == len(DAG_FILES)


def test_dag_id_equals_file_name(bag):
    _, result = bag
    for dag_id, dag in result.dags.items():
        assert Path(dag.fileloc).stem == dag_id


def test_owner_tags_doc_retries_and_alerting(bag):
    target, result = bag
    for dag in result.dags.values():
        assert dag.doc_md and len(dag.doc_md) > 40, f"{dag.dag_id}: doc_md with triage notes"
        assert f"target:{target}" in dag.tags
        assert set(dag.tags) - {f"target:{target}"} <= ALLOWED_TAGS
        assert dag.max_active_runs == 1
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            assert task.owner == "data-platform", where
            assert task.retries >= 1, where
            assert task.execution_timeout is not None, where
            assert task.on_failure_callback, f"{where}: no failure alert"
            assert task.task_id.split("_")[0] in {
                "crawl",
                "clean",
                "load",
                "build",
                "refresh",
                "check",
                "notify",
                "analyze",
                "vacuum",
                "purge",
                "create",
                "prepare",
                "record",
            }, f"{where}: task ids read verb_object"


def test_parsed_dags_publish_the_marts_as_outlets_of_refresh_marts(bag):
    """What the DAG processor sees, parsed with no network: the marts are refresh_marts' assets."""
    _, result = bag
    outlets = {
        (dag.dag_id, task.task_id): sorted(a.uri for a in task.outlets)
        for dag in result.dags.values()
        for task in dag.tasks
        if task.outlets
    }
    assert list(outlets) == [("ecommerce_dwh", "refresh_marts")]
    uris = outlets["ecommerce_dwh", "refresh_marts"]
    assert "x-dwh://warehouse/mart/executive_monthly" in uris
    assert all(u.startswith("x-dwh://warehouse/mart/") for u in uris)


def test_aws_target_uses_provider_operators_and_local_uses_embedded_ones():
    from dwh.compile_airflow import dag_for_file

    for f in DAG_FILES:
        aws = {t.task_id: type(t).__module__ for t in dag_for_file(str(f), "aws").tasks}
        local = {t.task_id: type(t).__module__ for t in dag_for_file(str(f), "local").tasks}
        assert aws.keys() == local.keys()
        assert all(m.startswith(("airflow.providers.", "dwh.operators.aws")) for m in aws.values())
        assert all(m == "dwh_tools.local_target.operators" for m in local.values())


def test_dag_files_do_no_top_level_work():
    forbidden = {"Variable", "boto3", "requests", "urllib", "socket", "duckdb", "pyspark"}
    for f in DAG_FILES:
        tree = ast.parse(f.read_text())
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        }
        names |= {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not names & forbidden, f"{f.name}: {names & forbidden}"
        assert len(f.read_text().splitlines()) < 15, f"{f.name}: DAG files stay thin"


def test_parsing_does_not_import_local_engines(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, os; os.environ['DWH_TARGET']='aws';"
        "from airflow.dag_processing.dagbag import DagBag;"
        f"b = DagBag(dag_folder={str(DAGS_DIR)!r});"
        "assert not b.import_errors, b.import_errors;"
        "bad = [m for m in ('duckdb', 'pyspark', 'sqlglot') if m in sys.modules];"
        "print('imported:', bad); sys.exit(1 if bad else 0)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]


def test_a_broken_pipeline_file_fails_only_its_own_dag(tmp_path, monkeypatch):
    include = tmp_path / "include"
    (include / "pipelines").mkdir(parents=True)
    (include / "glue").symlink_to(config.GLUE_DIR)
    (include / "sql").symlink_to(config.SQL_DIR)
    good = next(iter(pipeline_files()))
    (include / "pipelines" / good.name).write_text(good.read_text())
    (include / "pipelines" / "broken.yaml").write_text("pipeline: broken\nnodes: [")
    dags = tmp_path / "dags"
    dags.mkdir()
    for stem in (good.stem, "broken"):
        (dags / f"{stem}.py").write_text((DAGS_DIR / f"{good.stem}.py").read_text())
    monkeypatch.setattr(config, "PIPELINES_DIR", include / "pipelines")
    result = dagbag(dags)
    assert list(result.dags) == [good.stem]
    (error,) = result.import_errors.values()
    assert "broken.yaml" in error and "not valid YAML" in error


def test_aws_sql_templates_render_from_variables_at_run_time():
    """COPY and Spectrum statements get the bucket, role and catalog from Variables, not blanks."""
    from unittest import mock

    from dwh.compile_airflow import build_dag
    from dwh.graph import load_pipeline

    dag = build_dag(load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml"), "aws")
    values = {
        "dwh_processed_uri": "s3://processed-example",
        "dwh_redshift_copy_role_arn": "copy-role-example",
        "dwh_glue_database": "catalog_example",
        "dwh_glue_processed_database": "processed_catalog_example",
    }
    context = {"ds": "2024-03-01", "run_id": "scheduled__2024-03-01"}
    with mock.patch("airflow.sdk.Variable.get", side_effect=values.__getitem__) as get:
        load = dag.get_task("load_orders")
        copy = load.render_template(load.sql, context, jinja_env=dag.get_template_env())
        ddl = dag.get_task("create_warehouse_schema")
        schema = ddl.render_template(ddl.sql, context, jinja_env=dag.get_template_env())
    assert get.called
    assert (
        "copy staging.orders from 's3://processed-example/orders/ingest_date=2024-03-01/' "
        "iam_role 'copy-role-example' format as parquet"
    ) in copy
    assert any(
        "database 'catalog_example'" in s and "iam_role 'copy-role-example'" in s for s in schema
    )
    assert any(
        "spectrum_processed" in s and "database 'processed_catalog_example'" in s for s in schema
    )
