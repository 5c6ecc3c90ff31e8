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


class StubTaskInstance:
    """The task instance a first try finds: no Glue run of an earlier try in its XComs."""

    dag_id, task_id, run_id, map_index = "ecommerce_dwh", "clean_orders", "manual__1", -1

    def xcom_pull(self, **kw):
        return None

    def xcom_push(self, **kw):
        pass


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


@pytest.mark.parametrize(("conf", "expected"), [({"allow_empty": True}, "true"), ({}, "false")])
def test_a_glue_task_passes_the_runs_allow_empty_to_the_job_run(
    pipeline, conf, expected, monkeypatch
):
    """The DagRun's conf (the trigger form's allow_empty) reaches the Glue run as --allow_empty,
    written as Glue arguments are, "true"/"false"; no conf: the param's default, false."""
    import boto3
    from airflow.sdk.definitions.param import process_params
    from airflow.sdk.execution_time.context import VariableAccessor
    from moto import mock_aws
    from moto.moto_api import state_manager

    for name, value in {
        "resource_prefix": "dwh-test",
        "raw_uri": "s3://raw",
        "processed_uri": "s3://processed",
    }.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_DWH_{name.upper()}", value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    dag = build_dag(pipeline, "aws")
    task = dag.get_task("clean_orders")
    # The task's template context as the worker makes it: params = the DAG's, with the conf.
    context = {
        "ds": "2024-03-01",
        "run_id": "manual__2024-03-01",
        "var": {"value": VariableAccessor(False)},
        "params": process_params(dag, task, conf, suppress_exception=False),
        "ti": StubTaskInstance(),
    }
    task.render_template_fields(context, dag.get_template_env())
    assert task.script_args["--allow_empty"] == expected

    state_manager.set_transition(
        model_name="glue::job_run", transition={"progression": "immediate"}
    )
    try:
        with mock_aws():
            glue = boto3.client("glue")
            glue.create_job(
                Name="dwh-test-clean_orders",
                Role="glue-role",
                Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/glue/x.py"},
            )
            task.job_poll_interval = 0
            task.execute(context)
            (run,) = glue.get_job_runs(JobName="dwh-test-clean_orders")["JobRuns"]
    finally:
        state_manager.unset_transition("glue::job_run")
    assert run["Arguments"]["--allow_empty"] == expected
    assert run["Arguments"]["--ingest_date"] == "2024-03-01"


def test_the_trigger_form_offers_allow_empty_off_and_refuses_a_non_boolean(pipeline):
    from airflow.sdk.definitions.param import process_params
    from airflow.sdk.exceptions import ParamValidationError

    for target in ("aws", "local"):
        dag = build_dag(pipeline, target)
        param = dag.params.get_param("allow_empty")
        assert param.value is False and param.schema["type"] == "boolean"
        assert "empty on purpose" in param.description
        task = dag.get_task("clean_orders")
        with pytest.raises(ParamValidationError, match="allow_empty"):
            process_params(dag, task, {"allow_empty": "yes"}, suppress_exception=False)
