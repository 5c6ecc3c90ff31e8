"""Every state machine executed end to end by moto's Step Functions interpreter.

What moto cannot run, and how it is covered here instead:
- Wait states really sleep in moto; the polling Waits are made instant, the states still execute.
- moto's Redshift Data API has no BatchExecuteStatement, never moves a statement past STARTED, and
  returns a fixed sample result. A small in-memory stand-in (``FakeRedshiftData``) is plugged into
  moto's Redshift Data backend: statements finish, BatchExecuteStatement exists, and the gate query
  returns the number of failed blocking checks chosen by the test. The SQL each state sent is
  recorded, so the tests check what reached the API.
- Glue job runs and crawls are moto's own (runs succeed; a crawl completes on the next read).
"""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from moto import mock_aws
from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse

from dwh.compile_stepfunctions import compile_pipeline

REGION = "eu-west-1"
PREFIX = "dwh-test"


class FakeRedshiftData:
    def __init__(self, failed_blocking: int):
        self.failed_blocking = failed_blocking
        self.sql: dict[str, list[str]] = {}

    def handle(self, response: RedshiftDataAPIServiceResponse, action: str):
        body = json.loads(response.body or "{}")
        if action in ("ExecuteStatement", "BatchExecuteStatement"):
            sid = str(uuid.uuid4())
            self.sql[sid] = body.get("Sqls") or [body["Sql"]]
            return 200, {}, json.dumps({"Id": sid, "CreatedAt": time.time()})
        if action == "DescribeStatement":
            return 200, {}, json.dumps({"Id": body["Id"], "Status": "FINISHED"})
        if action == "GetStatementResult":
            record = [[{"longValue": self.failed_blocking}]]
            return 200, {}, json.dumps({"Records": record, "TotalNumRows": 1, "ColumnMetadata": []})
        raise AssertionError(f"unexpected Redshift Data call {action}")


@pytest.fixture
def aws(monkeypatch):
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    monkeypatch.setattr(
        wait_function.WaitFunction, "_wait_interval", lambda self, env, wait_seconds: None
    )
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def install_fake_redshift(monkeypatch, fake: FakeRedshiftData) -> None:
    for action in (
        "ExecuteStatement",
        "BatchExecuteStatement",
        "DescribeStatement",
        "GetStatementResult",
    ):
        method = "".join("_" + c.lower() if c.isupper() else c for c in action).lstrip("_")
        monkeypatch.setattr(
            RedshiftDataAPIServiceResponse,
            method,
            lambda self, _a=action: fake.handle(self, _a),
            raising=False,
        )


def provision(pipeline) -> dict:
    """Create what the Terraform would: Glue jobs and crawlers, the alert topic, a role."""
    glue = boto3.client("glue", region_name=REGION)
    for node in pipeline.nodes:
        if node.kind == "glue_job":
            glue.create_job(
                Name=f"{PREFIX}-{node.id}",
                Role="glue-role",
                Command={"Name": "glueetl", "ScriptLocation": f"s3://scripts/glue/{node.script}"},
            )
        if node.kind == "glue_crawler":
            glue.create_crawler(
                Name=f"{PREFIX}-{node.crawler}",
                Role="glue-role",
                Targets={"S3Targets": [{"Path": f"s3://raw/{e}/"} for e in node.entities]},
            )
    topic = boto3.client("sns", region_name=REGION).create_topic(Name=f"{PREFIX}-alerts")[
        "TopicArn"
    ]
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn
    )
    return {"topic": topic, "queue_url": queue_url}


def execute(pipeline, include, resources, ds="2024-03-01") -> dict:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    role = f"arn:aws:iam::123456789012:role/{PREFIX}-sfn"
    arn = sfn.create_state_machine(
        name=f"{PREFIX}-{pipeline.pipeline}",
        definition=json.dumps(compile_pipeline(pipeline, include)),
        roleArn=role,
    )["stateMachineArn"]
    execution_input = {
        "ds": ds,
        "config": {
            "resource_prefix": PREFIX,
            "redshift_cluster_id": "dwh-test-cluster",
            "redshift_database": "dwh",
            "redshift_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rs",
            "raw_uri": "s3://raw",
            "processed_uri": "s3://processed",
            "iam_role_arn": "arn:aws:iam::123456789012:role/copy",
            "alert_topic_arn": resources["topic"],
        },
    }
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))
    for _ in range(600):
        desc = sfn.describe_execution(executionArn=execution["executionArn"])
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.05)
    history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in history["events"]
        if "stateEnteredEventDetails" in e
    ]
    return {"status": desc["status"], "entered": entered, "desc": desc}


def alerts(resources) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    msgs = sqs.receive_message(QueueUrl=resources["queue_url"], MaxNumberOfMessages=10).get(
        "Messages", []
    )
    return [json.loads(m["Body"])["Message"] for m in msgs]


def test_success_path_runs_every_node(aws, monkeypatch, pipeline_and_include):
    pipeline, include = pipeline_and_include
    fake = FakeRedshiftData(failed_blocking=0)
    install_fake_redshift(monkeypatch, fake)
    resources = provision(pipeline)
    result = execute(pipeline, include, resources)
    assert result["status"] == "SUCCEEDED", result["entered"][-5:]
    assert {n.id for n in pipeline.nodes} <= set(result["entered"])
    assert "NotifyFailure" not in result["entered"]
    # Run-time values reached the SQL: the logical date and the processed location.
    sent = [s for batch in fake.sql.values() for s in batch]
    if any(n.kind == "load" for n in pipeline.nodes):
        assert any("s3://processed/" in s and "ingest_date=2024-03-01" in s for s in sent)
    notify_messages = alerts(resources)
    if any(n.kind == "notify" for n in pipeline.nodes):
        assert any("2024-03-01" in m for m in notify_messages), notify_messages


def test_failing_quality_gate_alerts_and_fails(aws, monkeypatch, pipeline_and_include):
    pipeline, include = pipeline_and_include
    quality = [n.id for n in pipeline.nodes if n.kind == "quality"]
    if not quality:
        pytest.skip(f"{pipeline.pipeline} has no quality gate; its failure path is the next test")
    install_fake_redshift(monkeypatch, FakeRedshiftData(failed_blocking=2))
    resources = provision(pipeline)
    result = execute(pipeline, include, resources)
    assert result["status"] == "FAILED"
    assert "NotifyFailure" in result["entered"]
    assert result["entered"][-1] == "PipelineFailed"
    assert f"{quality[0]}.failed" in result["entered"]
    downstream = [n.id for n in pipeline.nodes if quality[0] in n.depends_on]
    assert not set(downstream) & set(result["entered"]), "nodes after a failed gate must not run"
    (message,) = [m for m in alerts(resources) if "failed" in m]
    assert pipeline.pipeline in message and "QualityGateFailed" in message


def test_failing_glue_job_alerts_and_fails(aws, monkeypatch, pipeline_and_include):
    pipeline, include = pipeline_and_include
    jobs = [n for n in pipeline.nodes if n.kind == "glue_job"]
    if not jobs:
        pytest.skip(f"{pipeline.pipeline} has no Glue job")
    install_fake_redshift(monkeypatch, FakeRedshiftData(failed_blocking=0))
    # No retries here: moto would sleep through the real backoff intervals.
    for node in jobs:
        object.__setattr__(
            node, "retries", node.retries.model_copy(update={"count": 0}) if node.retries else None
        )
    object.__setattr__(
        pipeline,
        "defaults",
        pipeline.defaults.model_copy(
            update={"retries": pipeline.defaults.retries.model_copy(update={"count": 0})}
        ),
    )
    resources = provision(pipeline)
    boto3.client("glue", region_name=REGION).delete_job(JobName=f"{PREFIX}-{jobs[0].id}")
    result = execute(pipeline, include, resources)
    assert result["status"] == "FAILED"
    assert result["entered"][-2:] == ["NotifyFailure", "PipelineFailed"]
    (message,) = alerts(resources)
    assert pipeline.pipeline in message and "EntityNotFound" in message
