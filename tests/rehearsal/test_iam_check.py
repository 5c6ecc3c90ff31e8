"""IAM of the aws rehearsal: calls recorded from real clients map to IAM actions and ARNs, and are
checked against the policies read from infra/ (the real ones, and broken copies of them)."""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from dwh_tools.rehearsal.iam import (
    INFRA,
    Call,
    MissingInputs,
    Recorder,
    evaluate,
    required_inputs,
    role_policy,
)

ACCOUNT, REGION, PREFIX = "123456789012", "eu-west-1", "dwh-rehearsal"
CLUSTER = f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:{PREFIX}"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alerts"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
WAREHOUSE_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{PREFIX}-redshift-Ab12Cd"
JOB = f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{PREFIX}-transform_orders"
CRAWLER = f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/{PREFIX}-raw_orders"

# What the root module would pass the modules, for a provisioned cluster.
REDSHIFT = {
    "cluster_id": PREFIX,
    "workgroup_name": "",
    "data_api_resource_arn": CLUSTER,
    "database_name": "dwh",
    "etl_username": "dwh_etl",
    "etl_secret_arn": WAREHOUSE_SECRET,
    "endpoint_address": f"{PREFIX}.abc.{REGION}.redshift.amazonaws.com",
    "port": 5439,
    "copy_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-redshift-copy",
}
COMMON = {
    "account_id": ACCOUNT,
    "region": REGION,
    "var.name_prefix": PREFIX,
    "var.kms_key_arn": KEY,
}
MWAA_INPUTS = {
    **COMMON,
    "var.redshift": REDSHIFT,
    "var.alert_topic_arn": TOPIC,
    "var.glue_database": "dwh_rehearsal_raw",
    "var.glue_processed_database": "dwh_rehearsal_processed",
    "var.raw_uri": f"s3://{PREFIX}-raw",
    "var.processed_uri": f"s3://{PREFIX}-processed",
    "var.glue_job_arns": [JOB],
    "var.glue_crawler_arns": [CRAWLER],
}
GLUE_INPUTS = {
    **COMMON,
    **{
        f"var.{b}_bucket_arn": f"arn:aws:s3:::{PREFIX}-{b}"
        for b in ("raw", "processed", "scripts", "logs")
    },
}
STATE_MACHINE_INPUTS = {
    **COMMON,
    "var.redshift": REDSHIFT,
    "var.state_machines": {
        "ecommerce_dwh": {"glue_jobs": ["transform_orders"], "glue_crawlers": ["raw_orders"]}
    },
    "var.glue_job_arns": {"transform_orders": JOB},
    "var.glue_crawler_arns": {"raw_orders": CRAWLER},
}


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


@pytest.fixture
def recorder(aws):
    with Recorder(account_id=ACCOUNT) as rec:
        yield rec


def pairs(calls) -> set[tuple[str, str]]:
    return {(c.action, c.resource) for c in calls}


def mwaa(action: str, resource: str) -> Call:
    return Call("mwaa", action, resource, action.replace(":", "."))


# --- (a) recorded calls map to IAM actions and ARNs ----------------------------------------


def test_calls_of_real_clients_map_to_iam_actions_and_arns(recorder):
    with recorder.paused():  # setup the role under test does not make
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="raw-b", CreateBucketConfiguration={"LocationConstraint": REGION})
        secret_arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="airflow/variables/dwh_raw_uri", SecretString="s3://raw-b"
        )["ARN"]
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]
        glue = boto3.client("glue", region_name=REGION)
        glue.create_job(
            Name="j1", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://raw-b/j.py"}
        )
    with recorder.acting_as("mwaa"):
        s3.put_object(Bucket="raw-b", Key="orders/1.csv", Body=b"id\n1\n")
        s3.get_object(Bucket="raw-b", Key="orders/1.csv")
        s3.head_object(Bucket="raw-b", Key="orders/1.csv")
        s3.list_objects_v2(Bucket="raw-b", Prefix="orders/")
        s3.copy_object(
            Bucket="raw-b", Key="copy.csv", CopySource={"Bucket": "raw-b", "Key": "orders/1.csv"}
        )
        s3.delete_objects(
            Bucket="raw-b", Delete={"Objects": [{"Key": "copy.csv"}, {"Key": "orders/1.csv"}]}
        )
        run = glue.start_job_run(JobName="j1")["JobRunId"]
        glue.get_job_run(JobName="j1", RunId=run)
        boto3.client("sns", region_name=REGION).publish(TopicArn=topic, Message="hi")
        # By name, as Airflow's secrets backend asks: IAM checks the full ARN moto gave it.
        boto3.client("secretsmanager", region_name=REGION).get_secret_value(
            SecretId="airflow/variables/dwh_raw_uri"
        )

    assert {c.role for c in recorder.calls} == {"mwaa"}
    assert pairs(recorder.calls) == {
        ("s3:PutObject", "arn:aws:s3:::raw-b/orders/1.csv"),
        ("s3:GetObject", "arn:aws:s3:::raw-b/orders/1.csv"),
        ("s3:ListBucket", "arn:aws:s3:::raw-b"),
        ("s3:PutObject", "arn:aws:s3:::raw-b/copy.csv"),
        ("s3:DeleteObject", "arn:aws:s3:::raw-b/copy.csv"),
        ("s3:DeleteObject", "arn:aws:s3:::raw-b/orders/1.csv"),
        ("glue:StartJobRun", f"arn:aws:glue:{REGION}:{ACCOUNT}:job/j1"),
        ("glue:GetJobRun", f"arn:aws:glue:{REGION}:{ACCOUNT}:job/j1"),
        ("sns:Publish", topic),
        ("secretsmanager:GetSecretValue", secret_arn),
    }
    assert re.fullmatch(r".*:secret:airflow/variables/dwh_raw_uri-\w{6}", secret_arn)
    copy = [c for c in recorder.calls if c.operation == "s3.CopyObject"]
    assert [c.action for c in copy] == ["s3:GetObject", "s3:PutObject"]


def test_an_operation_without_mapping_or_role_is_reported_not_allowed(recorder):
    with recorder.paused():
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket="b-one", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    s3 = boto3.client("s3", region_name=REGION)
    with recorder.acting_as("mwaa"), pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_tagging(Bucket="b-one")
    s3.list_objects_v2(Bucket="b-one")  # outside any acting role
    denials = evaluate(recorder.calls, {"mwaa": role_policy("mwaa", MWAA_INPUTS)})
    text = "\n".join(map(str, denials))
    assert "no IAM mapping for s3.GetBucketTagging" in text
    assert "role None: s3:ListBucket on arn:aws:s3:::b-one denied" in text
    assert "no acting role" in text


def test_the_state_machine_interpreter_acts_as_the_state_machine_role(recorder):
    with recorder.paused():
        topic = boto3.client("sns", region_name=REGION).create_topic(Name=f"{PREFIX}-alerts")[
            "TopicArn"
        ]
        sfn = boto3.client("stepfunctions", region_name=REGION)
        definition = {
            "StartAt": "Notify",
            "States": {
                "Notify": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sns:publish",
                    "Parameters": {"TopicArn": topic, "Message": "done"},
                    "End": True,
                }
            },
        }
        machine = sfn.create_state_machine(
            name=f"{PREFIX}-ecommerce_dwh",
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
        )["stateMachineArn"]
    recorder.clients_created_by("moto.stepfunctions", "state_machine[ecommerce_dwh]")
    with recorder.acting_as("scheduler"):
        execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    with recorder.paused():
        for _ in range(100):
            if sfn.describe_execution(executionArn=execution)["status"] != "RUNNING":
                break
            time.sleep(0.05)
        assert sfn.describe_execution(executionArn=execution)["status"] == "SUCCEEDED"

    by_role = {(c.role, c.action, c.resource) for c in recorder.calls}
    assert ("scheduler", "states:StartExecution", machine) in by_role
    assert ("state_machine[ecommerce_dwh]", "sns:Publish", topic) in by_role
    policies = {
        "scheduler": role_policy("scheduler", STATE_MACHINE_INPUTS),
        "state_machine[ecommerce_dwh]": role_policy(
            "state_machine[ecommerce_dwh]", STATE_MACHINE_INPUTS
        ),
    }
    assert evaluate(recorder.calls, policies) == []


# --- policies read from infra/ -------------------------------------------------------------


def test_the_inputs_a_role_needs_are_read_from_its_module():
    needed = required_inputs("glue_job")
    assert needed["var.scripts_prefix"] == "default"
    with pytest.raises(MissingInputs) as missing:
        role_policy("glue_job", {"account_id": ACCOUNT})
    assert missing.value.names == [
        "region",
        "var.kms_key_arn",
        "var.logs_bucket_arn",
        "var.name_prefix",
        "var.processed_bucket_arn",
        "var.raw_bucket_arn",
        "var.scripts_bucket_arn",
    ]


def test_policy_expressions_resolve_to_concrete_arns():
    policy = role_policy("mwaa", MWAA_INPUTS)
    by_sid = {s.sid: s for s in policy.statements}
    assert policy.documents == ["infra/modules/mwaa: execution"]
    assert by_sid["ReadSourceObjects"].resources == (
        f"arn:aws:s3:::airflow-{PREFIX}-{ACCOUNT}-{REGION}/*",
    )
    assert by_sid["RunGlueJobs"].resources == (
        JOB,
    )  # a dynamic block, kept since the list is non-empty
    assert "ConnectToWorkgroupWithIam" not in by_sid  # provisioned: the serverless branch is absent
    assert (
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:airflow/connections/redshift_default-??????"
        in (by_sid["ReadBackendSecrets"].resources)
    )
    machine = role_policy("state_machine[ecommerce_dwh]", STATE_MACHINE_INPUTS)
    with pytest.raises(KeyError, match=r"one policy per key of \['ecommerce_dwh'\]; got None"):
        role_policy("state_machine", STATE_MACHINE_INPUTS)
    assert {s.sid: s.resources for s in machine.statements}["RunGlueCrawlers"] == (CRAWLER,)


# --- (b) the calls a DAG run makes, against the real MWAA policies -------------------------
# Read from apache-airflow-providers-amazon 9.34.0 as the plugin's operators use them.

SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:airflow"
DAG_CALLS = {
    # GlueJobOperator(resume_glue_job_on_retry=True, stop_job_run_on_kill=True): get_job_runs
    # finds a run of a retried try, has_job (get_job), start_job_run, get_job_run while polling.
    "glue job": [
        mwaa(f"glue:{a}", JOB)
        for a in ("GetJobRuns", "GetJob", "StartJobRun", "GetJobRun", "BatchStopJobRun")
    ],
    # GlueCrawlerOperator: start_crawler, the crawler_ready waiter and get_crawler.
    "glue crawler": [mwaa("glue:StartCrawler", CRAWLER), mwaa("glue:GetCrawler", CRAWLER)],
    # RedshiftDataOperator with cluster_identifier and secret_arn: the Data API reads the secret
    # with the caller's permissions.
    "redshift data": [
        mwaa("redshift-data:ExecuteStatement", CLUSTER),
        mwaa("redshift-data:BatchExecuteStatement", CLUSTER),
        mwaa("secretsmanager:GetSecretValue", WAREHOUSE_SECRET),
        mwaa("redshift-data:DescribeStatement", "*"),
        mwaa("redshift-data:GetStatementResult", "*"),
    ],
    # QualityGateOperator over RedshiftSQLHook with iam=true: get_cluster_credentials.
    "redshift sql": [
        mwaa(
            "redshift:GetClusterCredentials",
            f"arn:aws:redshift:{REGION}:{ACCOUNT}:dbuser:{PREFIX}/dwh_etl",
        ),
        mwaa(
            "redshift:GetClusterCredentials",
            f"arn:aws:redshift:{REGION}:{ACCOUNT}:dbname:{PREFIX}/dwh",
        ),
    ],
    "sns": [mwaa("sns:Publish", TOPIC)],
    # SecretsManagerBackend: get_secret_value of <prefix>/<name> (moto-like random suffixes).
    "secrets backend": [
        mwaa("secretsmanager:GetSecretValue", f"{SECRET}/variables/dwh_raw_uri-a1B2c3"),
        mwaa("secretsmanager:GetSecretValue", f"{SECRET}/variables/dwh_redshift_cluster_id-Zz9Yy8"),
        mwaa("secretsmanager:GetSecretValue", f"{SECRET}/connections/redshift_default-Qw3Er4"),
        mwaa("secretsmanager:GetSecretValue", f"{SECRET}/connections/slack_alerts-Ty5Ui6"),
    ],
}


@pytest.mark.parametrize("task", sorted(DAG_CALLS))
def test_the_mwaa_role_allows_the_calls_of_a_dag_run(task):
    assert evaluate(DAG_CALLS[task], {"mwaa": role_policy("mwaa", MWAA_INPUTS)}) == []


def test_the_mwaa_role_allows_the_crawler_operators_metrics_read():
    """GlueCrawlerHook.wait_for_crawler_completion reads glue:GetCrawlerMetrics at the end."""
    call = mwaa("glue:GetCrawlerMetrics", "*")
    assert evaluate([call], {"mwaa": role_policy("mwaa", MWAA_INPUTS)}) == []


def test_other_secrets_and_other_jobs_are_denied():
    calls = [
        mwaa("secretsmanager:GetSecretValue", f"{SECRET}/variables/not_ours-a1B2c3"),
        mwaa("glue:StartJobRun", f"arn:aws:glue:{REGION}:{ACCOUNT}:job/someone-else"),
        mwaa("s3:PutObject", f"arn:aws:s3:::airflow-{PREFIX}-{ACCOUNT}-{REGION}/dags/x.py"),
    ]
    denied = evaluate(calls, {"mwaa": role_policy("mwaa", MWAA_INPUTS)})
    assert [(d.action, d.resource) for d in denied] == [(c.action, c.resource) for c in calls]


ADMIN_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{PREFIX}-redshift-admin-Xy12Zw"


def test_the_mwaa_role_cannot_log_in_as_the_admin():
    calls = [
        mwaa(
            "redshift:GetClusterCredentials",
            f"arn:aws:redshift:{REGION}:{ACCOUNT}:dbuser:{PREFIX}/dwh_admin",
        ),
        mwaa(
            "redshift:GetClusterCredentials",
            f"arn:aws:redshift:{REGION}:{ACCOUNT}:dbuser:{PREFIX}/*",
        ),
        mwaa("secretsmanager:GetSecretValue", ADMIN_SECRET),
    ]
    denied = evaluate(calls, {"mwaa": role_policy("mwaa", MWAA_INPUTS)})
    assert [(d.action, d.resource) for d in denied] == [(c.action, c.resource) for c in calls]


def test_the_state_machine_role_reads_the_etl_secret_only():
    policies = {"state_machine": role_policy("state_machine[ecommerce_dwh]", STATE_MACHINE_INPUTS)}
    etl = Call("state_machine", "secretsmanager:GetSecretValue", WAREHOUSE_SECRET, "x")
    admin = Call("state_machine", "secretsmanager:GetSecretValue", ADMIN_SECRET, "x")
    assert evaluate([etl], policies) == []
    assert [d.resource for d in evaluate([admin], policies)] == [ADMIN_SECRET]


def test_the_glue_job_role_reads_raw_and_writes_processed_only():
    policies = {"glue_job": role_policy("glue_job", GLUE_INPUTS)}
    job = [
        Call("glue_job", "s3:ListBucket", f"arn:aws:s3:::{PREFIX}-raw", "s3.ListObjectsV2"),
        Call("glue_job", "s3:GetObject", f"arn:aws:s3:::{PREFIX}-raw/orders/1.csv", "s3.GetObject"),
        Call(
            "glue_job",
            "s3:PutObject",
            f"arn:aws:s3:::{PREFIX}-processed/orders/p.parquet",
            "s3.PutObject",
        ),
        Call(
            "glue_job",
            "s3:GetObject",
            f"arn:aws:s3:::{PREFIX}-scripts/glue/transform.py",
            "s3.GetObject",
        ),
    ]
    assert evaluate(job, policies) == []
    raw_write = Call(
        "glue_job", "s3:PutObject", f"arn:aws:s3:::{PREFIX}-raw/orders/x", "s3.PutObject"
    )
    assert [d.resource for d in evaluate([raw_write], policies)] == [raw_write.resource]


def test_a_condition_is_evaluated_when_the_call_carries_its_key():
    policy = {"mwaa": role_policy("mwaa", MWAA_INPUTS)}
    metric = Call("mwaa", "cloudwatch:PutMetricData", "*", "cloudwatch.PutMetricData")
    assert (
        evaluate([replace(metric, context=(("cloudwatch:namespace", "AmazonMWAA"),))], policy) == []
    )
    other = evaluate([replace(metric, context=(("cloudwatch:namespace", "Other"),))], policy)
    assert "no statement" in other[0].reason
    (unknown,) = evaluate([metric], policy)
    assert "PublishAirflowMetrics match but have a condition not evaluated here" in unknown.reason


# --- (c) a removed statement denies what it allowed; (d) an explicit Deny wins -------------


def _copy_module(tmp_path, module: str):
    shutil.copytree(INFRA / "modules" / module, tmp_path / "modules" / module)
    return tmp_path / "modules" / module / "iam.tf"


def test_removing_a_statement_denies_the_calls_it_allowed(tmp_path):
    iam_tf = _copy_module(tmp_path, "glue")
    text = iam_tf.read_text()
    statement = re.search(
        r'\n  statement \{\n    sid\s*= "WriteProcessedAndTemp".*?\n  \}\n', text, re.S
    )
    iam_tf.write_text(text.replace(statement.group(), "\n"))
    write = Call(
        "glue_job",
        "s3:PutObject",
        f"arn:aws:s3:::{PREFIX}-processed/orders/p.parquet",
        "s3.PutObject",
    )
    read = Call(
        "glue_job", "s3:GetObject", f"arn:aws:s3:::{PREFIX}-raw/orders/1.csv", "s3.GetObject"
    )

    assert evaluate([write, read], {"glue_job": role_policy("glue_job", GLUE_INPUTS)}) == []
    (denial,) = evaluate(
        [write, read], {"glue_job": role_policy("glue_job", GLUE_INPUTS, infra=tmp_path)}
    )
    assert str(denial).startswith(
        f"role glue_job: s3:PutObject on arn:aws:s3:::{PREFIX}-processed/orders/p.parquet denied"
    )
    assert "no statement of infra/modules/glue: job allows it" in denial.reason


@pytest.mark.parametrize(
    ("condition", "denied"),
    [
        ("", True),
        (
            'condition {\n      test = "Bool"\n      variable = "aws:SecureTransport"\n      values = ["false"]\n    }',
            False,
        ),
        # Not evaluable here: taken as matching, so the Deny still applies.
        (
            'condition {\n      test = "StringEquals"\n      variable = "aws:ResourceTag/team"\n      values = ["x"]\n    }',
            True,
        ),
    ],
    ids=["unconditional", "condition-false", "condition-unknown"],
)
def test_an_explicit_deny_wins_over_an_allow(tmp_path, condition, denied):
    iam_tf = _copy_module(tmp_path, "glue")
    deny = f"""
  statement {{
    sid       = "NoRawReads"
    effect    = "Deny"
    actions   = ["s3:Get*"]
    resources = ["${{var.raw_bucket_arn}}/*"]
    {condition}
  }}
"""
    text = iam_tf.read_text()
    iam_tf.write_text(
        text.replace(
            'data "aws_iam_policy_document" "job" {',
            'data "aws_iam_policy_document" "job" {' + deny,
            1,
        )
    )
    read = Call(
        "glue_job",
        "s3:GetObject",
        f"arn:aws:s3:::{PREFIX}-raw/orders/1.csv",
        "s3.GetObject",
        (("aws:SecureTransport", "true"),),
    )
    denials = evaluate([read], {"glue_job": role_policy("glue_job", GLUE_INPUTS, infra=tmp_path)})
    assert [d.reason for d in denials] == (
        ["explicitly denied by statement NoRawReads"] if denied else []
    )


@pytest.mark.slow
def test_the_provider_hooks_under_moto_make_no_call_the_mwaa_role_denies(recorder):
    """The provider's own hooks, as the aws DAG's tasks drive them, recorded under moto and checked
    against the real MWAA policies. moto has no GetCrawlerMetrics and never finishes a crawl or a
    Data API statement, so the waits are replaced by the hooks' single polls; the recorder sees
    a call before moto answers it."""
    from airflow.providers.amazon.aws.hooks.glue import GlueJobHook
    from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook
    from airflow.providers.amazon.aws.hooks.redshift_data import RedshiftDataHook
    from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook
    from airflow.providers.amazon.aws.hooks.sns import SnsHook
    from airflow.providers.amazon.aws.secrets.secrets_manager import SecretsManagerBackend
    from airflow.sdk import Connection

    crawler, job = CRAWLER.rsplit("/", 1)[1], JOB.rsplit("/", 1)[1]
    with recorder.paused():
        glue = boto3.client("glue", region_name=REGION)
        glue.create_crawler(Name=crawler, Role="r", Targets={"S3Targets": [{"Path": "s3://raw/"}]})
        glue.create_job(
            Name=job, Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://s/j.py"}
        )
        boto3.client("redshift", region_name=REGION).create_cluster(
            ClusterIdentifier=PREFIX,
            NodeType="ra3.xlplus",
            MasterUsername="dwh_admin",
            MasterUserPassword="Passw0rd!",
            DBName="dwh",
        )
        boto3.client("sns", region_name=REGION).create_topic(Name=f"{PREFIX}-alerts")
        secrets = boto3.client("secretsmanager", region_name=REGION)
        secrets.create_secret(Name="airflow/variables/dwh_raw_uri", SecretString="s3://raw")
        secrets.create_secret(Name=f"{PREFIX}-redshift", SecretString="{}")
        # The ETL user's secret's ARN is moto's; the module gets it as var.redshift.etl_secret_arn.
        secret_arn = secrets.describe_secret(SecretId=f"{PREFIX}-redshift")["ARN"]
    inputs = {**MWAA_INPUTS, "var.redshift": {**REDSHIFT, "etl_secret_arn": secret_arn}}

    with recorder.acting_as("mwaa"):
        backend = SecretsManagerBackend(variables_lookup_pattern="^dwh_", region_name=REGION)
        assert backend.get_variable("dwh_raw_uri") == "s3://raw"
        crawlers = GlueCrawlerHook(aws_conn_id=None, region_name=REGION)
        crawlers.start_crawler(crawler)
        crawlers.get_crawler(crawler)  # what the crawler_ready waiter polls
        with pytest.raises(NotImplementedError):  # wait_for_crawler_completion, after the wait
            crawlers.glue_client.get_crawler_metrics(CrawlerNameList=[crawler])
        jobs = GlueJobHook(job_name=job, aws_conn_id=None, region_name=REGION)
        run = jobs.initialize_job({"--run_date": "2024-01-01"})
        assert jobs.get_job_state(job, run["JobRunId"]) == "SUCCEEDED"
        data = RedshiftDataHook(aws_conn_id=None, region_name=REGION)
        statement = data.execute_query(
            sql="select 1",
            database="dwh",
            cluster_identifier=PREFIX,
            secret_arn=secret_arn,
            wait_for_completion=False,
        ).statement_id
        data.check_query_is_finished(statement)
        warehouse = Connection(
            conn_id="redshift_default",
            conn_type="redshift",
            host=REDSHIFT["endpoint_address"],
            login="dwh_etl",
            schema="dwh",
            extra=json.dumps({"iam": True, "cluster_identifier": PREFIX, "region_name": REGION}),
        )
        RedshiftSQLHook(aws_conn_id=None).get_iam_token(warehouse)
        SnsHook(aws_conn_id=None, region_name=REGION).publish_to_target(
            TOPIC, "done", subject="dwh"
        )

    actions = {c.action for c in recorder.calls}
    assert {
        "glue:StartJobRun",
        "redshift-data:ExecuteStatement",
        "redshift:GetClusterCredentials",
    } <= actions
    denials = evaluate(recorder.calls, {"mwaa": role_policy("mwaa", inputs)})
    assert "glue:GetCrawlerMetrics" in actions
    assert [(d.role, d.action, d.resource) for d in denials] == []


# What Step Functions calls, with the state machine's role, for each task of the generated
# definitions (a .sync Glue job also polls and may stop the run; the Data API reads the secret).
SFN_TASK_CALLS = {
    "aws-sdk:glue:startCrawler": [("glue:StartCrawler", CRAWLER)],
    "aws-sdk:glue:getCrawler": [("glue:GetCrawler", CRAWLER)],
    "glue:startJobRun.sync": [
        (f"glue:{a}", JOB) for a in ("StartJobRun", "GetJobRun", "GetJobRuns", "BatchStopJobRun")
    ],
    "aws-sdk:redshiftdata:executeStatement": [
        ("redshift-data:ExecuteStatement", CLUSTER),
        ("secretsmanager:GetSecretValue", WAREHOUSE_SECRET),
    ],
    "aws-sdk:redshiftdata:batchExecuteStatement": [
        ("redshift-data:BatchExecuteStatement", CLUSTER),
        ("secretsmanager:GetSecretValue", WAREHOUSE_SECRET),
    ],
    "aws-sdk:redshiftdata:describeStatement": [("redshift-data:DescribeStatement", "*")],
    "aws-sdk:redshiftdata:getStatementResult": [("redshift-data:GetStatementResult", "*")],
    "sns:publish": [("sns:Publish", TOPIC)],
}


def _task_resources(states: dict) -> set[str]:
    found = set()
    for state in states.values():
        if state.get("Type") == "Task":
            found.add(state["Resource"].removeprefix("arn:aws:states:::"))
        for branch in state.get("Branches", []):
            found |= _task_resources(branch["States"])
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                found |= _task_resources(state[key]["States"])
    return found


def test_the_state_machine_role_allows_the_tasks_of_the_generated_definitions():
    tasks = set()
    for path in sorted((INFRA / "stepfunctions").glob("*.asl.json")):
        tasks |= _task_resources(json.loads(path.read_text())["States"])
    assert tasks == set(SFN_TASK_CALLS), "a task integration without its IAM calls here"
    role = "state_machine[ecommerce_dwh]"
    calls = [
        Call(role, action, resource, task)
        for task, pairs_ in SFN_TASK_CALLS.items()
        for action, resource in pairs_
    ]
    assert evaluate(calls, {role: role_policy(role, STATE_MACHINE_INPUTS)}) == []
