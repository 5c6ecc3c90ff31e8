"""The arrival gate's Lambda handler on moto: a date's run starts once, when its last file lands.

S3 and Step Functions are moto's; MWAA, which moto does not implement, is botocore's Stubber
answering InvokeRestApi as MWAA documents it.
"""

from __future__ import annotations

import json
import random

import arrival_gate
import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from dwh_tools.arrival_manifest import OUTPUT

DS = "2024-03-05"
BUCKET = "raw-test"
MANIFEST = arrival_gate.load_manifest(OUTPUT)
PIPELINE = MANIFEST["pipelines"][0]
KEYS = list(arrival_gate.expected_keys(PIPELINE, DS).values())
CONFIG = {"config": {"resource_prefix": "dwh-test", "raw_uri": f"s3://{BUCKET}"}}


def event(key: str, bucket: str = BUCKET) -> dict:
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}},
    }


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        sfn = boto3.client("stepfunctions")
        arn = sfn.create_state_machine(
            name="dwh-test-ecommerce_dwh",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        starts: list[dict] = []
        # Every StartExecution request the gate makes, refused or not.
        sfn.meta.events.register(
            "provide-client-params.states.StartExecution",
            lambda params, **_: starts.append(params),
        )
        yield s3, sfn, arn, starts


def land(s3, keys):
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"header\n")


def sfn_gate(s3, sfn, arn):
    store = arrival_gate.S3Store(s3, BUCKET)
    starter = arrival_gate.StepFunctionsStarter(sfn, {"ecommerce_dwh": arn}, CONFIG)
    return lambda e: arrival_gate.handle(e, store, starter, MANIFEST)


def outcomes(results):
    return [d["outcome"] for r in results for d in r.get("decisions", [])]


def test_the_manifest_expects_every_entity_of_the_crawler_node():
    assert PIPELINE["crawler_nodes"] == ["crawl_raw"]
    assert len(KEYS) == 9
    assert "orders/ingest_date=2024-03-05/olist_orders_dataset.csv" in KEYS


def test_the_last_file_of_a_date_starts_one_execution_with_the_schedules_input(aws):
    s3, sfn, arn, starts = aws
    gate = sfn_gate(s3, sfn, arn)
    results = []
    for key in KEYS:
        land(s3, [key])
        results.append(gate(event(key)))
    assert outcomes(results) == ["waiting"] * 8 + ["started"]
    assert results[0]["decisions"][0]["missing"] == KEYS[1:]
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == [f"arrival__{DS}"]
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(described["input"]) == {**CONFIG, "ds": DS}
    marker = s3.get_object(Bucket=BUCKET, Key=arrival_gate.marker_key("ecommerce_dwh", DS))
    assert json.loads(marker["Body"].read())["orchestrator"] == "stepfunctions"


def test_an_incomplete_date_starts_nothing(aws):
    s3, sfn, arn, starts = aws
    gate = sfn_gate(s3, sfn, arn)
    land(s3, KEYS[:-1])
    results = [gate(event(k)) for k in KEYS[:-1]]
    assert set(outcomes(results)) == {"waiting"}
    assert results[-1]["decisions"][0]["missing"] == [KEYS[-1]]
    assert starts == []
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_duplicate_and_out_of_order_events_start_the_date_once(aws):
    """Every file is in before the first event is handled, and each event comes three times in
    a shuffled order: only one StartExecution is made."""
    s3, sfn, arn, starts = aws
    gate = sfn_gate(s3, sfn, arn)
    land(s3, KEYS)
    events = [event(k) for k in KEYS] * 3
    random.Random(7).shuffle(events)
    results = [gate(e) for e in events]
    assert outcomes(results).count("started") == 1
    assert outcomes(results).count("already started") == len(events) - 1
    assert len(starts) == 1
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_a_file_of_another_date_or_no_raw_file_is_ignored(aws):
    s3, sfn, arn, starts = aws
    gate = sfn_gate(s3, sfn, arn)
    land(s3, KEYS)
    assert "ignored" in gate(event(arrival_gate.marker_key("ecommerce_dwh", DS)))
    assert "ignored" in gate(event("orders/ingest_date=2024-02-30/olist_orders_dataset.csv"))
    other = gate(event("orders/ingest_date=2024-03-06/olist_orders_dataset.csv"))
    assert outcomes([other]) == ["waiting"]
    assert starts == []


def test_an_url_encoded_key_is_read_as_the_raw_key(aws):
    s3, sfn, arn, starts = aws
    land(s3, KEYS)
    result = sfn_gate(s3, sfn, arn)(event(KEYS[0].replace("=", "%3D")))
    assert outcomes([result]) == ["started"]


def test_a_failed_start_removes_the_marker_so_the_retry_starts_the_date(aws):
    s3, sfn, arn, starts = aws
    land(s3, KEYS)
    store = arrival_gate.S3Store(s3, BUCKET)
    broken = arrival_gate.StepFunctionsStarter(sfn, {"ecommerce_dwh": arn + "-gone"}, CONFIG)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        arrival_gate.handle(event(KEYS[0]), store, broken, MANIFEST)
    assert not store.exists(arrival_gate.marker_key("ecommerce_dwh", DS))
    assert outcomes([sfn_gate(s3, sfn, arn)(event(KEYS[0]))]) == ["started"]


def test_a_start_step_functions_refuses_as_a_duplicate_counts_as_started(aws):
    """The cron fallback or a person started the date under the gate's name: not an error."""
    s3, sfn, arn, starts = aws
    land(s3, KEYS)
    sfn.start_execution(stateMachineArn=arn, name=f"arrival__{DS}", input="{}")
    result = sfn_gate(s3, sfn, arn)(event(KEYS[0]))
    assert outcomes([result]) == ["already started"]


def test_on_mwaa_the_gate_posts_one_dag_run_through_invoke_rest_api(aws):
    s3, *_ = aws
    land(s3, KEYS)
    mwaa = boto3.client("mwaa")
    store = arrival_gate.S3Store(s3, BUCKET)
    starter = arrival_gate.MwaaStarter(mwaa, "dwh-test-airflow")
    with Stubber(mwaa) as stub:
        stub.add_response(
            "invoke_rest_api",
            {"RestApiStatusCode": 200, "RestApiResponse": {"state": "queued"}},
            {
                "Name": "dwh-test-airflow",
                "Path": "/dags/ecommerce_dwh/dagRuns",
                "Method": "POST",
                "Body": {
                    "dag_run_id": f"arrival__{DS}",
                    "logical_date": f"{DS}T00:00:00Z",
                    "conf": {},
                },
            },
        )
        events = [event(k) for k in reversed(KEYS)] * 2
        results = [arrival_gate.handle(e, store, starter, MANIFEST) for e in events]
        stub.assert_no_pending_responses()
    assert outcomes(results).count("started") == 1
    assert outcomes(results).count("already started") == len(events) - 1


def test_on_mwaa_an_existing_dag_run_counts_as_started(aws):
    s3, *_ = aws
    land(s3, KEYS)
    mwaa = boto3.client("mwaa")
    starter = arrival_gate.MwaaStarter(mwaa, "dwh-test-airflow")
    with Stubber(mwaa) as stub:
        stub.add_client_error(
            "invoke_rest_api",
            service_error_code="RestApiClientException",
            http_status_code=400,
            modeled_fields={"RestApiStatusCode": 409, "RestApiResponse": {"detail": "exists"}},
        )
        result = arrival_gate.handle(
            event(KEYS[0]), arrival_gate.S3Store(s3, BUCKET), starter, MANIFEST
        )
    assert outcomes([result]) == ["already started"]


def test_the_lambda_entry_point_reads_its_configuration_from_the_environment(aws, monkeypatch):
    s3, sfn, arn, starts = aws
    land(s3, KEYS)
    monkeypatch.setenv("RAW_BUCKET", BUCKET)
    monkeypatch.setenv("ORCHESTRATOR", "stepfunctions")
    monkeypatch.setenv("STATE_MACHINE_ARNS", json.dumps({"ecommerce_dwh": arn}))
    monkeypatch.setenv("EXECUTION_INPUT", json.dumps(CONFIG))
    result = arrival_gate.handler(event(KEYS[3]), None)
    assert outcomes([result]) == ["started"]
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_a_wrong_orchestrator_setting_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR", "cron")
    with pytest.raises(arrival_gate.GateError, match="ORCHESTRATOR: 'cron'"):
        arrival_gate.starter_from_env()
