"""The aws target's operators on what a clear, a retry and a parse do (provider 9.34.0)."""

from __future__ import annotations

import warnings

import pytest

from dwh import config
from dwh.compile_airflow import build_dag
from dwh.graph import load_pipeline


@pytest.fixture(scope="module")
def pipeline():
    return load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml")


class TaskState:
    """The task state store a cleared task finds: the statement id of its succeeded try."""

    def __init__(self, **values):
        self.values = dict(values)

    def get(self, key, default=None):
        return self.values.get(key, default)

    def set(self, key, value):
        self.values[key] = value


class StubRedshiftData:
    """The Redshift Data API client: every statement finishes at once."""

    def __init__(self):
        self.submitted = []

    def batch_execute_statement(self, **kw):
        self.submitted.append(kw["Sqls"])
        return {"Id": f"stmt-{len(self.submitted)}"}

    def execute_statement(self, **kw):
        self.submitted.append([kw["Sql"]])
        return {"Id": f"stmt-{len(self.submitted)}"}

    def describe_statement(self, Id):  # noqa: N803 - boto's parameter name
        return {"Id": Id, "Status": "FINISHED", "HasResultSet": False}


@pytest.mark.parametrize("task_id", ["load_orders", "build_dim_customer"])
def test_a_cleared_redshift_task_runs_its_sql_again(pipeline, task_id, monkeypatch):
    from airflow.providers.amazon.aws.hooks.redshift_data import RedshiftDataHook

    stub = StubRedshiftData()
    monkeypatch.setattr(RedshiftDataHook, "conn", property(lambda self: stub))
    task = build_dag(pipeline, "aws").get_task(task_id)
    task.sql = ["select 1", "select 2"]  # as rendered; the files are not read here
    for key in ("cluster_identifier", "database", "secret_arn"):
        setattr(task, key, "x")
    # The first try succeeded and left its statement id; the clear runs the task again.
    state = TaskState(**{task.external_id_key: "stmt-of-the-succeeded-try"})
    task.execute({"task_state_store": state})
    assert stub.submitted == [["select 1", "select 2"]], "the cleared task ran no SQL"


def test_parsing_the_aws_dags_warns_of_nothing_deprecated(pipeline):
    from airflow.exceptions import AirflowProviderDeprecationWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for path in sorted(config.PIPELINES_DIR.glob("*.yaml")):
            build_dag(load_pipeline(path), "aws")
    deprecated = [
        str(w.message) for w in caught if issubclass(w.category, AirflowProviderDeprecationWarning)
    ]
    assert deprecated == []
