"""The arrival gate's Lambda role (infra/modules/ingestion) allows exactly what the handler does:
its calls, made on moto (MWAA stubbed: moto has none), are recorded and checked against the
role's policy read from infra/, for each orchestrator the module can be set to."""

from __future__ import annotations

import json
import sys

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from dwh_tools.arrival_manifest import GATE_DIR, OUTPUT
from dwh_tools.rehearsal.iam import Recorder, evaluate, role_policy

if str(GATE_DIR) not in sys.path:
    sys.path.insert(0, str(GATE_DIR))
import arrival_gate  # noqa: E402

ACCOUNT, REGION, PREFIX = "123456789012", "eu-west-1", "dwh-rehearsal"
BUCKET = f"{PREFIX}-raw"
ENVIRONMENT = f"{PREFIX}-airflow"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
DS = "2024-03-05"
MANIFEST = arrival_gate.load_manifest(OUTPUT)
KEYS = list(arrival_gate.expected_keys(MANIFEST["pipelines"][0], DS).values())


def inputs(orchestrator: str, state_machines: dict | None = None) -> dict:
    return {
        "account_id": ACCOUNT,
        "region": REGION,
        "var.name_prefix": PREFIX,
        "var.kms_key_arn": KEY,
        "var.raw_bucket_arn": f"arn:aws:s3:::{BUCKET}",
        "var.orchestrator": orchestrator,
        "var.state_machine_arns": state_machines or {},
        "var.mwaa_environment_name": ENVIRONMENT,
    }


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws(), Recorder(account_id=ACCOUNT) as recorder:
        with recorder.paused():
            s3 = boto3.client("s3")
            s3.create_bucket(
                Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
            for key in KEYS:
                s3.put_object(Bucket=BUCKET, Key=key, Body=b"header\n")
            arn = boto3.client("stepfunctions").create_state_machine(
                name=f"{PREFIX}-ecommerce_dwh",
                definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
            )["stateMachineArn"]
        yield recorder, arn


def run_gate(recorder, starter_for):
    """Every file's event, then the last one again (a duplicate), as the gate's role."""
    with recorder.acting_as("arrival_gate"):
        s3 = boto3.client("s3")
        store, starter = arrival_gate.S3Store(s3, BUCKET), starter_for()
        for key in [*KEYS, KEYS[-1]]:
            event = {"detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
            arrival_gate.handle(event, store, starter, MANIFEST)
    return {(c.action, c.resource) for c in recorder.calls}


def sfn_starter(arn):
    config = {"config": {"resource_prefix": PREFIX, "raw_uri": f"s3://{BUCKET}"}}
    return lambda: arrival_gate.StepFunctionsStarter(
        boto3.client("stepfunctions"), {"ecommerce_dwh": arn}, config
    )


def test_starting_step_functions_executions_is_allowed_and_needs_nothing_more(aws):
    recorder, arn = aws
    calls = run_gate(recorder, sfn_starter(arn))
    assert ("states:StartExecution", arn) in calls
    assert ("s3:ListBucket", f"arn:aws:s3:::{BUCKET}") in calls
    marker = arrival_gate.marker_key("ecommerce_dwh", DS)
    assert ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/{marker}") in calls
    policy = role_policy("arrival_gate", inputs("stepfunctions", {"ecommerce_dwh": arn}))
    assert evaluate(recorder.calls, {"arrival_gate": policy}) == []


def test_triggering_dag_runs_on_mwaa_is_allowed(aws):
    recorder, _ = aws
    mwaa = boto3.client("mwaa")
    with Stubber(mwaa) as stub:
        stub.add_response("invoke_rest_api", {"RestApiStatusCode": 200, "RestApiResponse": {}})
        calls = run_gate(recorder, lambda: arrival_gate.MwaaStarter(mwaa, ENVIRONMENT))
    role = f"arn:aws:airflow:{REGION}:{ACCOUNT}:role/{ENVIRONMENT}/User"
    assert ("airflow:InvokeRestApi", role) in calls
    policy = role_policy("arrival_gate", inputs("airflow"))
    assert evaluate(recorder.calls, {"arrival_gate": policy}) == []


def test_a_role_set_for_one_orchestrator_may_not_start_the_other(aws):
    recorder, arn = aws
    run_gate(recorder, sfn_starter(arn))
    denials = evaluate(
        recorder.calls, {"arrival_gate": role_policy("arrival_gate", inputs("airflow"))}
    )
    assert [(d.action, d.resource) for d in denials] == [("states:StartExecution", arn)]


def test_the_gate_may_not_write_outside_its_marker_prefix(aws):
    recorder, arn = aws
    with recorder.acting_as("arrival_gate"):
        boto3.client("s3").put_object(Bucket=BUCKET, Key=KEYS[0], Body=b"overwritten")
    policy = role_policy("arrival_gate", inputs("stepfunctions", {"ecommerce_dwh": arn}))
    denials = evaluate(recorder.calls, {"arrival_gate": policy})
    assert [(d.action, d.resource) for d in denials] == [
        ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/{KEYS[0]}")
    ]
