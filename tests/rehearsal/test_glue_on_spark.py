"""Glue behind moto's API executed for real: the provider's operators against jobs run on Spark.

Each test provisions what the Terraform would (buckets, the scripts in the scripts bucket, a Glue
job with its DefaultArguments, a crawler), lands raw CSV in moto's S3, and drives Glue through the
real Amazon provider operators, which poll GetJobRun / GetCrawler as they do on MWAA.
"""

from __future__ import annotations

import io
import json
import time
import types

import boto3
import pyarrow.parquet as pq
import pytest
from moto import mock_aws
from olist_contract import ENTITIES

from dwh import config
from dwh_tools.rehearsal import glue as glue_rehearsal

REGION = "eu-west-1"
DS = "2024-01-01"
JOB = "dwh-test-clean_entity"
CRAWLER = "dwh-test-raw"
SELLERS = ENTITIES["sellers"]
GLUE_DIR = config.REPO_ROOT / "include" / "glue"


@pytest.fixture
def aws(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        rehearsal = glue_rehearsal.install(tmp_path / "mirror")
        try:
            yield provision(rehearsal)
        finally:
            glue_rehearsal.uninstall()


def provision(rehearsal) -> types.SimpleNamespace:
    """What the Terraform creates: buckets, the scripts in the scripts bucket, the Glue job."""
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in ("scripts", "raw", "processed"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for script in sorted(GLUE_DIR.glob("*.py")):
        s3.upload_file(str(script), "scripts", f"glue/{script.name}")
    glue = boto3.client("glue", region_name=REGION)
    glue.create_job(
        Name=JOB,
        Role="arn:aws:iam::123456789012:role/dwh-test-glue",
        Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/glue/clean_entity.py"},
        DefaultArguments={
            "--raw_uri": "s3://raw",
            "--processed_uri": "s3://processed",
            "--extra-py-files": "s3://scripts/glue/olist_contract.py,"
            "s3://scripts/glue/olist_transforms.py",
            "--job-bookmark-option": "job-bookmark-enable",
        },
        GlueVersion="5.0",
    )
    return types.SimpleNamespace(s3=s3, glue=glue, rehearsal=rehearsal)


def land(s3, rows: list[str], ds: str = DS, header: list[str] | None = None) -> None:
    text = ",".join(header or SELLERS.column_names) + "\n" + "".join(r + "\n" for r in rows)
    key = f"sellers/ingest_date={ds}/{SELLERS.file_name}"
    s3.put_object(Bucket="raw", Key=key, Body=text.encode())


def keys(s3, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def parquet_rows(s3, prefix: str) -> int:
    parts = [k for k in keys(s3, "processed", prefix) if k.endswith(".parquet")]
    return sum(
        pq.read_table(io.BytesIO(s3.get_object(Bucket="processed", Key=k)["Body"].read())).num_rows
        for k in parts
    )


class FakeTaskInstance:
    """What the operators read from Airflow's task context: ids and XCom."""

    dag_id, task_id, run_id, map_index, try_number = "dwh_test", "clean_sellers", "r1", -1, 1

    def __init__(self):
        self.xcom: dict[str, object] = {}

    def xcom_push(self, key, value):
        self.xcom[key] = value

    def xcom_pull(self, key=None, task_ids=None):
        return self.xcom.get(key)


def run_operator(operator):
    return operator.execute({"ti": FakeTaskInstance()})


def glue_job_operator(**script_args):
    from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

    return GlueJobOperator(
        task_id="clean_sellers",
        job_name=JOB,
        script_args={"--ingest_date": DS, "--run_id": "r1", **script_args},
        wait_for_completion=True,
        resume_glue_job_on_retry=True,  # as plugins/dwh/operators/aws.py sets it
        job_poll_interval=0,
        aws_conn_id=None,
        region_name=REGION,
    )


@pytest.fixture
def polled_states(monkeypatch):
    """Every job state the provider's hook read while it waited."""
    from airflow.providers.amazon.aws.hooks.glue import GlueJobHook

    seen: list[str] = []
    real = GlueJobHook.get_job_state

    def spy(self, job_name, run_id):
        seen.append(real(self, job_name, run_id))
        return seen[-1]

    monkeypatch.setattr(GlueJobHook, "get_job_state", spy)
    return seen


ROWS = [
    "s1,01001,sao paulo,SP",
    "s2,20040,rio de janeiro,RJ",
    "s3,30110,belo horizonte,MG",
    ",40010,salvador,BA",  # no seller_id: quarantined
    "s5,80010,curitiba,PR",
]


def test_job_runs_on_spark_and_reruns_replace_the_partition(aws, polled_states):
    land(aws.s3, ROWS)
    run_id = run_operator(glue_job_operator(**{"--entity": "sellers"}))
    assert polled_states == ["RUNNING", "SUCCEEDED"]
    out = f"sellers/ingest_date={DS}/"
    assert parquet_rows(aws.s3, out) == 4
    assert parquet_rows(aws.s3, f"_quarantine/{out}") == 1
    metrics = json.loads(
        aws.s3.get_object(Bucket="processed", Key=f"_metrics/{out}metrics.json")["Body"].read()
    )
    assert (metrics["rows_in"], metrics["rows_out"], metrics["rows_quarantined"]) == (5, 4, 1)
    assert metrics["run_id"] == "r1" and metrics["source"].endswith(SELLERS.file_name)
    run = aws.glue.get_job_run(JobName=JOB, RunId=run_id)["JobRun"]
    assert run["Arguments"]["--raw_uri"] == "s3://raw"  # the job's defaults, merged
    (record,) = aws.rehearsal.runs()
    assert record.arguments["--JOB_NAME"] == JOB and record.state == "SUCCEEDED"
    assert record.role == "arn:aws:iam::123456789012:role/dwh-test-glue"
    assert f"s3://raw/{out}{SELLERS.file_name}" in record.reads
    assert "s3://scripts/glue/olist_transforms.py" in record.reads
    assert f"s3://processed/_metrics/{out}metrics.json" in record.writes
    assert all(
        k.startswith(("s3://processed/", "s3://raw/", "s3://scripts/")) for k in record.reads
    )
    assert not any(k.endswith(".crc") for k in record.writes)
    first_parts = set(keys(aws.s3, "processed", out))

    # A rerun of the date through boto3: fewer rows, and the old Parquet files gone from S3.
    land(aws.s3, ROWS[:2])
    run_id = aws.glue.start_job_run(
        JobName=JOB, Arguments={"--entity": "sellers", "--ingest_date": DS, "--run_id": "r2"}
    )["JobRunId"]
    states = [aws.glue.get_job_run(JobName=JOB, RunId=run_id)["JobRun"] for _ in range(2)]
    assert [s["JobRunState"] for s in states] == ["RUNNING", "SUCCEEDED"]
    assert "CompletedOn" in states[1] and "CompletedOn" not in states[0]
    assert parquet_rows(aws.s3, out) == 2
    assert not first_parts & {k for k in keys(aws.s3, "processed", out) if k.endswith(".parquet")}
    rerun = aws.rehearsal.runs()[1]
    assert {f"s3://processed/{k}" for k in first_parts if k.endswith(".parquet")} <= set(
        rerun.deletes
    )


def test_failing_runs_end_failed_with_the_error(aws, polled_states):
    from airflow.providers.common.compat.sdk import AirflowException

    # A contract violation: the landed file lacks a contract column.
    land(aws.s3, ["s1,01001,sao paulo"], header=SELLERS.column_names[:-1])
    with pytest.raises(AirflowException, match="FAILED"):
        run_operator(glue_job_operator(**{"--entity": "sellers"}))
    assert polled_states == ["RUNNING", "FAILED"]
    (run,) = aws.glue.get_job_runs(JobName=JOB)["JobRuns"]
    assert run["JobRunState"] == "FAILED"
    assert "ContractError" in run["ErrorMessage"] and "seller_state" in run["ErrorMessage"]

    # A missing argument fails before Spark, with the script runner's message.
    run_id = aws.glue.start_job_run(JobName=JOB, Arguments={"--ingest_date": DS})["JobRunId"]
    aws.glue.get_job_run(JobName=JOB, RunId=run_id)
    failed = aws.glue.get_job_run(JobName=JOB, RunId=run_id)["JobRun"]
    assert failed["JobRunState"] == "FAILED"
    assert "missing Glue argument(s) entity, run_id" in failed["ErrorMessage"]
    assert [r.state for r in aws.rehearsal.runs()] == ["FAILED", "FAILED"]


def test_crawler_operators_wait_and_metrics_answer(aws):
    from airflow.providers.amazon.aws.operators.glue_crawler import (
        GlueCrawlerOperator,
        GlueCrawlerRunOperator,
    )
    from botocore.exceptions import WaiterError

    aws.glue.create_crawler(
        Name=CRAWLER,
        Role="arn:aws:iam::123456789012:role/dwh-test-crawler",
        DatabaseName="dwh_test_raw",
        Targets={"S3Targets": [{"Path": "s3://raw/sellers/"}]},
    )
    land(aws.s3, ROWS)
    # The deprecated operator plugins/dwh/operators/aws.py uses, and its replacement.
    with pytest.warns(Warning, match="deprecated"):
        crawl = GlueCrawlerOperator(
            task_id="crawl", config={"Name": CRAWLER}, poll_interval=0, aws_conn_id=None
        )
    assert run_operator(crawl) == CRAWLER
    crawler = aws.glue.get_crawler(Name=CRAWLER)["Crawler"]
    assert (crawler["State"], crawler["LastCrawl"]["Status"]) == ("READY", "SUCCEEDED")
    (metrics,) = aws.glue.get_crawler_metrics(CrawlerNameList=[CRAWLER])["CrawlerMetricsList"]
    assert metrics["CrawlerName"] == CRAWLER and metrics["TablesCreated"] == 1
    assert metrics["LastRuntimeSeconds"] >= 0 and not metrics["StillEstimating"]

    # Polled by hand: RUNNING, STOPPING, then READY; a file with a missing column fails it.
    land(aws.s3, ["s1,01001,sao paulo"], ds="2024-01-02", header=SELLERS.column_names[:-1])
    aws.glue.start_crawler(Name=CRAWLER)
    seen = [aws.glue.get_crawler(Name=CRAWLER)["Crawler"] for _ in range(3)]
    assert [c["State"] for c in seen] == ["RUNNING", "STOPPING", "READY"]
    assert seen[0]["LastCrawl"]["Status"] == "SUCCEEDED"  # the previous crawl, as AWS reports
    assert seen[2]["LastCrawl"]["Status"] == "FAILED"
    message = seen[2]["LastCrawl"]["ErrorMessage"]
    assert "sellers" in message and "seller_state" in message and "2024-01-02" in message
    recrawl = GlueCrawlerRunOperator(
        task_id="recrawl", crawler_name=CRAWLER, poll_interval=0, aws_conn_id=None
    )
    with pytest.raises(WaiterError, match="terminal failure"):
        run_operator(recrawl)
    assert aws.rehearsal.crawls()[-1].error == message
    assert aws.rehearsal.crawls()[0].reads == [
        f"s3://raw/sellers/ingest_date={DS}/{SELLERS.file_name}"
    ]
    assert [r.state for r in aws.rehearsal.crawls()] == ["COMPLETED", "FAILED", "FAILED"]


def test_step_functions_glue_sync_task_runs_the_job(aws, monkeypatch):
    """moto's interpreter starts the run; the .sync wait (moto cannot finish it) polls to the end."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_glue,
    )

    def glue_sync(self, env, resource_runtime_part, normalised_parameters, state_credentials):
        started = env.stack.pop()
        run = glue_rehearsal.finished_job_run(aws.glue, started["JobName"], started["JobRunId"])
        if run["JobRunState"] != "SUCCEEDED":
            raise RuntimeError(f"Glue job run ended {run['JobRunState']}: {run['ErrorMessage']}")
        env.stack.append(json.loads(json.dumps(run, default=str)))

    monkeypatch.setattr(
        state_task_service_glue.StateTaskServiceGlue, "_eval_integration_pattern", glue_sync
    )
    definition = {
        "StartAt": "clean_sellers",
        "States": {
            "clean_sellers": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                # No --entity: the script refuses the run before Spark starts.
                "Parameters": {"JobName": JOB, "Arguments": {"--ingest_date": DS}},
                "End": True,
            }
        },
    }
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.create_state_machine(
            name="dwh-test-glue",
            definition=json.dumps(definition),
            roleArn="arn:aws:iam::123456789012:role/dwh-test-sfn",
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        for _ in range(200):
            desc = sfn.describe_execution(executionArn=execution)
            if desc["status"] != "RUNNING":
                break
            time.sleep(0.05)
    assert desc["status"] == "FAILED"
    assert "missing Glue argument(s) entity, run_id" in desc["cause"]
    (record,) = aws.rehearsal.runs()
    assert record.state == "FAILED" and record.arguments["--raw_uri"] == "s3://raw"


def test_stopped_crawl_and_unpolled_runs(aws):
    """StopCrawler cancels the crawl; a run never polled does not block the job's next run."""
    aws.glue.create_crawler(
        Name=CRAWLER, Role="crawler-role", Targets={"S3Targets": [{"Path": "s3://raw/sellers/"}]}
    )
    aws.glue.start_crawler(Name=CRAWLER)
    aws.glue.stop_crawler(Name=CRAWLER)
    seen = [aws.glue.get_crawler(Name=CRAWLER)["Crawler"] for _ in range(2)]
    assert [c["State"] for c in seen] == ["STOPPING", "READY"]
    assert seen[1]["LastCrawl"]["Status"] == "CANCELLED"
    (crawl,) = aws.glue.list_crawls(CrawlerName=CRAWLER)["Crawls"]
    assert crawl["State"] == "STOPPED" and "EndTime" in crawl

    # Both runs fail before Spark (no --entity); the first finished inside its StartJobRun.
    for _ in range(2):
        aws.glue.start_job_run(JobName=JOB, Arguments={"--ingest_date": DS})
    assert [r.state for r in aws.rehearsal.runs()] == ["FAILED", "FAILED"]
