"""Every state machine executed end to end by moto's Step Functions interpreter.

What moto cannot run, and how it is covered here instead:
- Wait states and Retry intervals really sleep in moto; both are made instant, the states still
  execute and the retries still happen.
- moto does not know that the Step Functions SDK name ``redshiftdata`` is boto's
  ``redshift-data``; the test adds that name to moto's override table.
- moto's Redshift Data API has no BatchExecuteStatement, never moves a statement past STARTED, and
  returns a fixed sample result. A small in-memory stand-in (``FakeRedshiftData``) is plugged into
  moto's Redshift Data backend: statements finish, BatchExecuteStatement exists, and the gate query
  returns as many failed blocking checks as the test chooses. The SQL each state sent is
  recorded, so the tests check what reached the API.
- moto 5.2.5 cannot finish a ``glue:startJobRun.sync`` state (its callback endpoint is None for
  .sync, then it cannot serialise the job run's datetimes). The StartJobRun call and the poll of
  the run stay moto's own, which fails the state as Step Functions does when the run did not
  succeed (States.TaskFailed, the JobRun as JSON in the Cause); only the loop around the poll is
  the rehearsal's. The Glue job tests run the jobs' real script on local PySpark behind moto's
  Glue API (:mod:`dwh_tools.rehearsal.glue`).
- moto hands AWS SDK responses to the interpreter with Python datetimes, which its own execution
  history then cannot serialise; responses are passed through JSON first, as AWS returns
  timestamps as text.
- The interpreter's other gaps (instant waits, the ``redshiftdata`` name, a sibling of a failed
  Parallel branch reading its input as its timeout) are filled as the rehearsal fills them
  (:func:`dwh_tools.rehearsal.state_machine.patch_interpreter`).
- Glue crawls are moto's own; moto's state manager is told to complete a crawl on
  its next read, as a real crawl completes after some polls.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import boto3
import pytest
from moto import mock_aws
from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse

from dwh_tools.compile_stepfunctions import compile_pipeline
from dwh_tools.rehearsal.state_machine import patch_interpreter

REGION = "eu-west-1"
PREFIX = "dwh-test"


class FakeRedshiftData:
    def __init__(self, failed_blocking: int, fail_statements: int = 0):
        self.failed_blocking = failed_blocking
        self.fail_statements = fail_statements  # how many submitted statements end FAILED
        self.sql: dict[str, list[str]] = {}
        self.failed: set[str] = set()

    def handle(self, response: RedshiftDataAPIServiceResponse, action: str):
        body = json.loads(response.body or "{}")
        if action in ("ExecuteStatement", "BatchExecuteStatement"):
            sid = str(uuid.uuid4())
            self.sql[sid] = body.get("Sqls") or [body["Sql"]]
            if len(self.failed) < self.fail_statements:
                self.failed.add(sid)
            return 200, {}, json.dumps({"Id": sid, "CreatedAt": time.time()})
        if action == "DescribeStatement":
            if body["Id"] in self.failed:
                error = 'ERROR: relation "staging.orders" does not exist'
                return 200, {}, json.dumps({"Id": body["Id"], "Status": "FAILED", "Error": error})
            return 200, {}, json.dumps({"Id": body["Id"], "Status": "FINISHED"})
        if action == "GetStatementResult":
            records = [[{"stringValue": f"check_{n}"}] for n in range(self.failed_blocking)]
            body = {"Records": records, "TotalNumRows": len(records), "ColumnMetadata": []}
            return 200, {}, json.dumps(body)
        raise AssertionError(f"unexpected Redshift Data call {action}")


@pytest.fixture
def aws(monkeypatch):
    patch_interpreter(monkeypatch)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="glue::crawl", transition={"progression": "immediate"})
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield
    state_manager.unset_transition("glue::crawl")


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


def execute(
    pipeline, include, resources, ds: object = "2024-03-01", extra: dict | None = None
) -> dict:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    role = f"arn:aws:iam::123456789012:role/{PREFIX}-sfn"
    definition = compile_pipeline(pipeline, include)
    arn = sfn.create_state_machine(
        name=f"{PREFIX}-{pipeline.pipeline}",
        definition=json.dumps(definition),
        roleArn=role,
    )["stateMachineArn"]
    execution_input = {
        "config": {
            "resource_prefix": PREFIX,
            "redshift_cluster_id": "dwh-test-cluster",
            "redshift_database": "dwh",
            "redshift_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rs",
            "raw_uri": "s3://raw",
            "processed_uri": "s3://processed",
            "iam_role_arn": "arn:aws:iam::123456789012:role/copy",
            "glue_database": "dwh_test_raw",
            "glue_processed_database": "dwh_test_processed",
            "alert_topic_arn": resources["topic"],
        },
    }
    if ds is not None:  # None: no ds in the input, the execution's start date is used
        execution_input["ds"] = ds
    execution_input |= extra or {}
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))
    deadline = time.monotonic() + 120
    while True:
        desc = sfn.describe_execution(executionArn=execution["executionArn"])
        if desc["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in history["events"]
        if "stateEnteredEventDetails" in e
    ]
    # The top-level flow: a branch stopped by a failed sibling may still record a state entered
    # after the failure path (moto stops branches as threads), so the order of the end of the
    # run is read among the top-level states only.
    flow = [name for name in entered if name in definition["States"]]
    return {"status": desc["status"], "entered": entered, "flow": flow, "desc": desc}


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
    assert result["status"] == "SUCCEEDED", (result["entered"][-5:], alerts(resources))
    assert {n.id for n in pipeline.nodes} <= set(result["entered"])
    assert "NotifyFailure" not in result["entered"]
    # Run-time values reached the SQL: the logical date and the processed location.
    sent = [s for batch in fake.sql.values() for s in batch]
    if any(n.kind == "load" for n in pipeline.nodes):
        assert any("s3://processed/" in s and "ingest_date=2024-03-01" in s for s in sent)
    notify_messages = alerts(resources)
    if any(n.kind == "notify" for n in pipeline.nodes):
        assert any("2024-03-01" in m for m in notify_messages), notify_messages


def glue_job_runs(pipeline) -> dict[str, int]:
    glue = boto3.client("glue", region_name=REGION)
    return {
        n.id: len(glue.get_job_runs(JobName=f"{PREFIX}-{n.id}")["JobRuns"])
        for n in pipeline.nodes
        if n.kind == "glue_job"
    }


@pytest.mark.parametrize(
    "ds", ["x/../../customers", "2024-13-45", "2024-02-30", "2024-01-01' or '1'='1", "", 20240101]
)
def test_a_logical_date_that_is_not_a_date_fails_the_execution_before_any_task(
    aws, monkeypatch, fixture_include, ds
):
    """``x/../../customers`` would have had the Glue jobs write into another entity's data."""
    from dwh.graph import load_pipeline

    pipeline = load_pipeline(
        fixture_include / "pipelines" / "fixture_all_kinds.yaml", fixture_include
    )
    fake = FakeRedshiftData(failed_blocking=0)
    install_fake_redshift(monkeypatch, fake)
    resources = provision(pipeline)
    result = execute(pipeline, fixture_include, resources, ds=ds)
    assert result["status"] == "FAILED"
    assert result["desc"]["error"] == "InvalidRunDate"
    assert "YYYY-MM-DD" in result["desc"]["cause"]
    assert not {n.id for n in pipeline.nodes} & set(result["entered"])
    assert set(glue_job_runs(pipeline).values()) == {0}
    assert fake.sql == {}


def test_without_a_logical_date_the_execution_runs_for_its_start_date(
    aws, monkeypatch, fixture_include
):
    from dwh.graph import load_pipeline

    pipeline = load_pipeline(
        fixture_include / "pipelines" / "fixture_all_kinds.yaml", fixture_include
    )
    fake = FakeRedshiftData(failed_blocking=0)
    install_fake_redshift(monkeypatch, fake)
    resources = provision(pipeline)
    result = execute(pipeline, fixture_include, resources, ds=None)
    assert result["status"] == "SUCCEEDED", result["entered"][-5:]
    started = result["desc"]["startDate"].astimezone(dt.UTC).date().isoformat()
    sent = [s for batch in fake.sql.values() for s in batch]
    assert any(f"ingest_date={started}/" in s for s in sent), sent[:3]
    assert set(glue_job_runs(pipeline).values()) == {1}


def glue_job_arguments(pipeline) -> dict[str, list[dict]]:
    """Node id -> the Arguments of each run of its Glue job, as Glue received them."""
    glue = boto3.client("glue", region_name=REGION)
    return {
        n.id: [r["Arguments"] for r in glue.get_job_runs(JobName=f"{PREFIX}-{n.id}")["JobRuns"]]
        for n in pipeline.nodes
        if n.kind == "glue_job"
    }


@pytest.mark.parametrize(
    ("extra", "expected"),
    [({"allow_empty": True}, "true"), ({"allow_empty": False}, "false"), ({}, "false")],
    ids=["true", "false", "absent"],
)
def test_the_execution_input_says_whether_the_extract_is_empty_on_purpose(
    aws, monkeypatch, fixture_include, extra, expected
):
    """Every job that cleans an entity gets the run's --allow_empty; absent means false."""
    from dwh.graph import load_pipeline

    pipeline = load_pipeline(
        fixture_include / "pipelines" / "fixture_all_kinds.yaml", fixture_include
    )
    install_fake_redshift(monkeypatch, FakeRedshiftData(failed_blocking=0))
    resources = provision(pipeline)
    result = execute(pipeline, fixture_include, resources, extra=extra)
    assert result["status"] == "SUCCEEDED", result["entered"][-5:]
    cleaning = {n.id for n in pipeline.nodes if n.kind == "glue_job" and "entity" in n.arguments}
    assert cleaning
    runs = glue_job_arguments(pipeline)
    for node_id in cleaning:
        (arguments,) = runs[node_id]
        assert arguments["--allow_empty"] == expected, node_id


@pytest.mark.parametrize("value", ["yes", "true", 1, None, {"value": True}])
def test_an_allow_empty_that_is_not_a_boolean_fails_the_execution_before_any_task(
    aws, monkeypatch, fixture_include, value
):
    """Not guessed either way: "yes" read as false would fail the jobs later on the missing
    file, read as true could replace processed rows; the Airflow param refuses it too."""
    from dwh.graph import load_pipeline

    pipeline = load_pipeline(
        fixture_include / "pipelines" / "fixture_all_kinds.yaml", fixture_include
    )
    fake = FakeRedshiftData(failed_blocking=0)
    install_fake_redshift(monkeypatch, fake)
    resources = provision(pipeline)
    result = execute(pipeline, fixture_include, resources, extra={"allow_empty": value})
    assert result["status"] == "FAILED"
    assert result["desc"]["error"] == "InvalidAllowEmpty"
    assert "allow_empty" in result["desc"]["cause"] and "boolean" in result["desc"]["cause"]
    assert not {n.id for n in pipeline.nodes} & set(result["entered"])
    assert set(glue_job_runs(pipeline).values()) == {0}
    assert fake.sql == {}


@pytest.mark.with_node_kind("quality")
def test_failing_quality_gate_alerts_and_fails(aws, monkeypatch, pipeline_and_include):
    pipeline, include = pipeline_and_include
    quality = [n.id for n in pipeline.nodes if n.kind == "quality"]
    install_fake_redshift(monkeypatch, FakeRedshiftData(failed_blocking=2))
    resources = provision(pipeline)
    result = execute(pipeline, include, resources)
    assert result["status"] == "FAILED"
    assert "NotifyFailure" in result["entered"]
    assert result["flow"][-1] == "PipelineFailed"
    assert f"{quality[0]}.failed" in result["entered"]
    downstream = [n.id for n in pipeline.nodes if quality[0] in n.depends_on]
    assert not set(downstream) & set(result["entered"]), "nodes after a failed gate must not run"
    (message,) = [m for m in alerts(resources) if "failed" in m]
    assert pipeline.pipeline in message and "QualityGateFailed" in message


@pytest.mark.with_node_kind("glue_job")
def test_failing_glue_job_alerts_and_fails(aws, monkeypatch, pipeline_without_retries):
    pipeline, include = pipeline_without_retries
    jobs = [n for n in pipeline.nodes if n.kind == "glue_job"]
    install_fake_redshift(monkeypatch, FakeRedshiftData(failed_blocking=0))
    resources = provision(pipeline)
    boto3.client("glue", region_name=REGION).delete_job(JobName=f"{PREFIX}-{jobs[0].id}")
    result = execute(pipeline, include, resources)
    assert result["status"] == "FAILED"
    assert result["flow"][-2:] == ["NotifyFailure", "PipelineFailed"]
    (message,) = alerts(resources)
    assert pipeline.pipeline in message and "EntityNotFound" in message


def test_a_failed_statement_is_retried_as_the_pipeline_says(aws, monkeypatch, pipeline_and_include):
    """A statement that ends FAILED is submitted again (the Task Retry covers only the API call),
    and the run goes on when the retry succeeds."""
    pipeline, include = pipeline_and_include
    fake = FakeRedshiftData(failed_blocking=0, fail_statements=1)
    install_fake_redshift(monkeypatch, fake)
    resources = provision(pipeline)
    result = execute(pipeline, include, resources)
    assert result["status"] == "SUCCEEDED", result["entered"][-5:]
    (first_failed,) = fake.failed
    retried = [sqls for sid, sqls in fake.sql.items() if sqls == fake.sql[first_failed]]
    assert len(retried) >= 2, "the failed statement was not submitted again"
    assert any(e.endswith("_backoff") for e in result["entered"])
    assert alerts(resources) == [] or all("failed" not in m for m in alerts(resources))


def test_failing_redshift_statement_alerts_and_fails(aws, monkeypatch, pipeline_and_include):
    pipeline, include = pipeline_and_include
    install_fake_redshift(monkeypatch, FakeRedshiftData(failed_blocking=0, fail_statements=10**6))
    resources = provision(pipeline)
    result = execute(pipeline, include, resources)
    assert result["status"] == "FAILED"
    assert result["flow"][-2:] == ["NotifyFailure", "PipelineFailed"]
    sql_nodes = {n.id for n in pipeline.nodes if n.kind in ("load", "sql", "quality")}
    failed = [e for e in result["entered"] if e.endswith("_failed")]
    assert failed and failed[0].split(".")[0] in sql_nodes
    notify = [n.id for n in pipeline.nodes if n.kind == "notify"]
    assert not set(notify) & set(result["entered"])
    (message,) = alerts(resources)
    assert "RedshiftStatementFailed" in message
    # The statement's own error reaches the alert, not only the node's name.
    assert 'relation "staging.orders" does not exist' in message


# --- Glue job runs that fail, on the jobs' real script ---------------------------------------

JOB_PIPELINE = "fixture_all_kinds.yaml"
TRANSIENT = "Failed to provision workers: insufficient capacity in the Availability Zone"


@pytest.fixture
def glue_on_spark(aws, tmp_path):
    """Glue job runs executing their script from the scripts bucket on local PySpark, with the
    buckets the execution input names; the scripts uploaded as the deploy uploads them."""
    from dwh import config
    from dwh_tools.rehearsal import glue

    s3 = boto3.client("s3", region_name=REGION)
    for bucket in ("scripts", "raw", "processed"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for script in sorted((config.REPO_ROOT / "include" / "glue").glob("*.py")):
        s3.upload_file(str(script), "scripts", f"glue/{script.name}")
    # The crawls only finish: the crawler would stop the run on a file that lacks a contract
    # column before any job reads it, and what is under test is the job's own failure.
    runs = glue.install(tmp_path / "mirror", run_crawler=False)
    yield runs
    glue.uninstall()


def land(entity: str, ds: str, without: tuple[str, ...] = ()) -> None:
    """Two rows of an entity's raw file in the raw bucket, ``without`` those columns."""
    from olist_contract import DECIMAL, DOUBLE, ENTITIES, INT, TIMESTAMP

    sample = {INT: "1", DOUBLE: "1.5", DECIMAL: "1.50", TIMESTAMP: "2024-02-28 10:00:00"}
    e = ENTITIES[entity]
    columns = [c for c in e.columns if c.name not in without]
    rows = [[sample.get(c.type, f"{c.name}_{n}") for c in columns] for n in (1, 2)]
    text = "\n".join(",".join(r) for r in [[c.name for c in columns], *rows]) + "\n"
    key = f"{entity}/ingest_date={ds}/{e.file_name}"
    boto3.client("s3", region_name=REGION).put_object(Bucket="raw", Key=key, Body=text.encode())


def job_pipeline(fixture_include, layout: str, retries: dict | None = None):
    """The fixture pipeline with its Glue jobs in Parallel branches, or only its customers chain,
    whose Glue job is then a top-level state; ``retries`` replaces its retry settings."""
    from dwh.graph import load_pipeline

    p = load_pipeline(fixture_include / "pipelines" / JOB_PIPELINE, fixture_include)
    if layout == "top level":
        keep = ("crawl_raw", "clean_customers", "load_customers")
        p = p.model_copy(update={"nodes": [n for n in p.nodes if n.id in keep]})
    if retries:
        r = p.defaults.retries.model_copy(update=retries)
        p = p.model_copy(update={"defaults": p.defaults.model_copy(update={"retries": r})})
    return p


def runs_of(glue_runs, node_id: str) -> list:
    return [r for r in glue_runs.runs() if r.job_name == f"{PREFIX}-{node_id}"]


@pytest.mark.parametrize("layout", ["parallel branch", "top level"])
def test_a_glue_job_failing_on_the_contract_is_not_retried(
    glue_on_spark, monkeypatch, fixture_include, layout
):
    """A raw file without a column the contract requires: the job's run fails, and the machine
    goes to the alert at once, with the run's error message; the file would fail every retry."""
    pipeline = job_pipeline(fixture_include, layout)
    assert pipeline.retries_for(pipeline.node_map["clean_customers"]).count > 0
    install_fake_redshift(monkeypatch, FakeRedshiftData(failed_blocking=0))
    resources = provision(pipeline)
    land("customers", "2024-03-01", without=("customer_state",))
    land("orders", "2024-03-01")

    result = execute(pipeline, fixture_include, resources)

    runs = runs_of(glue_on_spark, "clean_customers")
    assert len(runs) == 1, "the run that failed on the contract was started again"
    assert runs[0].state == "FAILED" and "contract violation" in runs[0].error
    assert result["status"] == "FAILED"
    assert result["flow"][-2:] == ["NotifyFailure", "PipelineFailed"]
    (message,) = alerts(resources)
    assert "GlueJobContractViolation" in message and "clean_customers" in message
    assert "contract violation" in message and "customer_state" in message


def test_other_glue_job_failures_are_retried_as_the_pipeline_says(
    glue_on_spark, monkeypatch, fixture_include
):
    """A run that Glue fails for want of capacity is started again: as many times as the
    pipeline's retries say, after its delay grown by the backoff rate up to the maximum delay."""
    retries = {"count": 3, "delay_seconds": 10, "backoff_rate": 2.0, "max_delay_seconds": 25}
    pipeline = job_pipeline(fixture_include, "parallel branch", retries)
    waited = []

    def wait(self, env, wait_seconds):
        state = env.states.context_object.context_object_data["State"]["Name"]
        waited.append((state, wait_seconds))

    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    monkeypatch.setattr(wait_function.WaitFunction, "_wait_interval", wait)
    install_fake_redshift(monkeypatch, FakeRedshiftData(failed_blocking=0))
    resources = provision(pipeline)
    land("customers", "2024-03-01")
    land("orders", "2024-03-01")
    glue_on_spark.fail_runs(f"{PREFIX}-clean_customers", TRANSIENT, times=10)

    result = execute(pipeline, fixture_include, resources)

    assert [r.error for r in runs_of(glue_on_spark, "clean_customers")] == [TRANSIENT] * 4
    backoff = [s for name, s in waited if name == "clean_customers.job_backoff"]
    assert backoff == [10, 20, 25]
    assert result["status"] == "FAILED"
    assert result["flow"][-2:] == ["NotifyFailure", "PipelineFailed"]
    (message,) = alerts(resources)
    assert "clean_customers" in message and TRANSIENT in message
