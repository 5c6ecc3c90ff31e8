"""A Glue job task of the aws DAG on a run that fails: retried, unless the data contract failed.

The task is the aws DAG's own (``build_dag``), run try after try by the Task SDK's task runner
(``run`` then ``finalize``, as a worker does) against moto, the Glue job run executing its real
script on local PySpark (:mod:`dwh_tools.rehearsal.glue`). Only the supervisor's side of the
runner's channel is a stand-in: it keeps XComs and answers, as the API server does, whether a
failed try may be retried (while tries remain).
"""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from moto import mock_aws
from olist_contract import CONTRACT_VIOLATION, ENTITIES

from dwh import config
from dwh.compile_airflow import build_dag
from dwh.graph import load_pipeline
from dwh_tools.rehearsal import glue as glue_rehearsal

REGION = "eu-west-1"
PREFIX = "dwh-test"
DS = "2024-01-01"
TASK = "clean_sellers"
JOB = f"{PREFIX}-{TASK}"
SELLERS = ENTITIES["sellers"]
ROWS = ["s1,01001,sao paulo,SP", "s2,20040,rio de janeiro,RJ"]


@pytest.fixture
def pipeline():
    """The main pipeline, its alerts on SNS only (Slack would need a webhook)."""
    p = load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml")
    sns = p.defaults.alerts.model_copy(update={"on_failure": ["sns"], "on_retry": ["sns"]})
    return p.model_copy(update={"defaults": p.defaults.model_copy(update={"alerts": sns})})


@pytest.fixture
def aws(tmp_path, monkeypatch):
    """moto with what Terraform creates for the job: buckets, scripts, the job, the alert topic
    (read through a queue), and the Variables and connection the DAG reads."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        glue_runs = glue_rehearsal.install(tmp_path / "mirror")
        try:
            s3 = boto3.client("s3", region_name=REGION)
            for bucket in ("scripts", "raw", "processed"):
                s3.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
                )
            for script in sorted((config.REPO_ROOT / "include" / "glue").glob("*.py")):
                s3.upload_file(str(script), "scripts", f"glue/{script.name}")
            boto3.client("glue", region_name=REGION).create_job(
                Name=JOB,
                Role="arn:aws:iam::123456789012:role/dwh-test-glue",
                Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/glue/clean_entity.py"},
                GlueVersion="5.0",
            )
            sns = boto3.client("sns", region_name=REGION)
            topic = sns.create_topic(Name=f"{PREFIX}-alerts")["TopicArn"]
            sqs = boto3.client("sqs", region_name=REGION)
            queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
            sns.subscribe(
                TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"]
            )
            variables = {
                "resource_prefix": PREFIX,
                "raw_uri": "s3://raw",
                "processed_uri": "s3://processed",
                "alert_topic_arn": topic,
            }
            for name, value in variables.items():
                monkeypatch.setenv(f"AIRFLOW_VAR_DWH_{name.upper()}", value)
            connection = {"conn_type": "aws", "extra": {"region_name": REGION}}
            monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
            yield glue_runs, s3, sqs, queue
        finally:
            glue_rehearsal.uninstall()


def land_sellers(s3, header: list[str]) -> None:
    text = ",".join(header) + "\n" + "".join(r + "\n" for r in ROWS)
    key = f"sellers/ingest_date={DS}/{SELLERS.file_name}"
    s3.put_object(Bucket="raw", Key=key, Body=text.encode())


def alerts(sqs, queue) -> list[str]:
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"])["Message"] for m in got]


class Supervisor:
    """The supervisor's side of the task runner's channel for one task: its XComs kept (and
    listed for the next try to clear, as the API server lists them), all else acknowledged."""

    def __init__(self):
        self.xcom: dict[str, object] = {}

    def send(self, msg):
        from airflow.sdk.execution_time import comms

        if isinstance(msg, comms.SetXCom):
            self.xcom[msg.key] = msg.value
        elif isinstance(msg, comms.DeleteXCom):
            self.xcom.pop(msg.key, None)
        elif isinstance(msg, comms.GetXCom):
            return comms.XComResult(key=msg.key, value=self.xcom.get(msg.key))
        elif isinstance(msg, comms.GetXComSequenceSlice):
            found = [self.xcom[msg.key]] if msg.key in self.xcom else []
            return comms.XComSequenceSliceResult(root=found)
        return None


def triggered(supervisor, deferred) -> tuple[str, dict]:
    """What the triggerer hands back to a deferred try: the method to resume and its kwargs with
    the event of the provider's GlueJobCompleteTrigger once the run has ended."""
    from airflow.sdk.serde import deserialize, serialize

    run_id = supervisor.xcom["glue_job_run_id"]
    glue = boto3.client("glue", region_name=REGION)
    run = glue_rehearsal.finished_job_run(glue, JOB, run_id)
    if run["JobRunState"] == "SUCCEEDED":
        event = {"status": "success", "run_id": run_id}
    else:  # the waiter's failure: its message carries the state and the ErrorMessage
        status = f"{run['JobRunState']} - {run.get('ErrorMessage')}"
        event = {"status": "error", "message": f"AWS Glue job failed.: {status}", "run_id": run_id}
    kwargs = {**deserialize(deferred.next_kwargs), "event": event}
    return deferred.next_method, serialize(kwargs)


def run_tries(pipeline, monkeypatch, deferrable: bool) -> list[tuple[list[str], BaseException]]:
    """Run the task's tries as the scheduler does, until one does not end up for retry; each
    try parses the DAG again, as a worker does, and a deferred try is resumed after its run
    ended. Returns, for every try, the states it went through and its error."""
    from airflow.sdk.api.datamodels._generated import DagRun, DagRunState, DagRunType, TIRunContext
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance, finalize, run
    from airflow.utils.state import TaskInstanceState
    from structlog import get_logger
    from uuid6 import uuid7

    supervisor = Supervisor()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", supervisor, raising=False)
    logical = dt.datetime.fromisoformat(f"{DS}T00:00:00+00:00")
    dag_run = DagRun(
        dag_id=pipeline.pipeline,
        run_id=f"scheduled__{DS}",
        logical_date=logical,
        data_interval_start=logical,
        data_interval_end=logical + dt.timedelta(days=1),
        run_after=logical + dt.timedelta(days=1),
        start_date=logical + dt.timedelta(days=1),
        end_date=None,
        run_type=DagRunType.SCHEDULED,
        state=DagRunState.RUNNING,
        consumed_asset_events=[],
        partition_key=None,
    )
    log = get_logger(logger_name="task")
    tries = []
    while True:
        try_number, resume, states = len(tries) + 1, {}, []
        while True:
            task = build_dag(pipeline, "aws").get_task(TASK)
            task.job_poll_interval = 0  # polls of GetJobRun without sleeping between them
            task.deferrable = deferrable  # as [operators] default_deferrable would set it
            ti = RuntimeTaskInstance.model_construct(
                id=uuid7(),
                task_id=TASK,
                dag_id=pipeline.pipeline,
                run_id=dag_run.run_id,
                try_number=try_number,
                map_index=-1,
                dag_version_id=uuid7(),
                task=task,
                bundle_instance=None,
                _ti_context_from_server=TIRunContext(
                    dag_run=dag_run,
                    max_tries=task.retries,
                    should_retry=try_number <= task.retries,
                    xcom_keys_to_clear=[] if resume else list(supervisor.xcom),
                    **resume,
                ),
                max_tries=task.retries,
                start_date=dt.datetime.now(dt.UTC),
                state=TaskInstanceState.RUNNING,
            )
            context = ti.get_template_context()
            state, msg, error = run(ti, context, log)
            states.append(state.value)
            if state != TaskInstanceState.DEFERRED:
                break
            method, kwargs = triggered(supervisor, msg)
            resume = {"next_method": method, "next_kwargs": kwargs}
        context["exception"] = error
        finalize(ti, state, context, log, error)
        tries.append((states, error))
        if state != TaskInstanceState.UP_FOR_RETRY:
            return tries


@pytest.mark.parametrize("deferrable", [False, True], ids=["waiting", "deferred"])
def test_a_contract_violation_fails_the_task_at_once_with_the_error(
    aws, pipeline, monkeypatch, deferrable
):
    glue_runs, s3, sqs, queue = aws
    land_sellers(s3, header=SELLERS.column_names[:-1])  # seller_state, a contract column, gone
    assert pipeline.retries_for(pipeline.node_map[TASK]).count > 0  # it would be retried

    tries = run_tries(pipeline, monkeypatch, deferrable)

    deferred = ["deferred"] if deferrable else []
    assert [states for states, _ in tries] == [[*deferred, "failed"]]
    assert len(glue_runs.runs()) == 1
    (_, error) = tries[0]
    assert CONTRACT_VIOLATION in str(error) and "seller_state" in str(error)
    (alert,) = alerts(sqs, queue)
    assert alert.startswith("[failure]") and "seller_state" in alert and CONTRACT_VIOLATION in alert


@pytest.mark.parametrize("deferrable", [False, True], ids=["waiting", "deferred"])
def test_any_other_failed_run_is_retried_as_the_pipeline_says(
    aws, pipeline, monkeypatch, deferrable
):
    glue_runs, s3, sqs, queue = aws
    land_sellers(s3, header=SELLERS.column_names)
    count = pipeline.retries_for(pipeline.node_map[TASK]).count
    error = "Failed to provision workers: insufficient capacity in the Availability Zone"
    glue_runs.fail_runs(JOB, error, times=count + 1)

    tries = run_tries(pipeline, monkeypatch, deferrable)

    deferred = ["deferred"] if deferrable else []
    retried = [[*deferred, "up_for_retry"]] * count
    assert [states for states, _ in tries] == [*retried, [*deferred, "failed"]]
    assert [r.error for r in glue_runs.runs()] == [error] * (count + 1)
    sent = alerts(sqs, queue)
    assert [m.split("]")[0] for m in sent] == ["[retry"] * count + ["[failure"]
