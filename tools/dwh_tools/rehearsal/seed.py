"""The AWS side of one environment, created in moto the way Terraform and the deploy code make it.

Names and settings come from :mod:`dwh_tools.rehearsal.infra_values` (Terraform's own evaluation of
infra/); the Glue scripts and the DAGs reach their buckets through the deploy command's code.
Runs inside ``moto.mock_aws``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from dwh import config, kinds

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
PREFIX = "dwh-rehearsal"
REDSHIFT_PORT = 5439
ETL_USER = "dwh_etl"  # infra/modules/redshift: var.etl_username


@dataclass
class Environment:
    """What the rehearsal created; everything the harness and the checks need to find it."""

    prefix: str
    buckets: dict[str, str]
    mwaa_bucket: str
    glue_database: str
    glue_processed_database: str
    variables: dict[str, str]
    connections: dict[str, dict]
    backend_kwargs: dict
    topic_arn: str
    queue_url: str
    cluster_id: str
    roles: dict[str, str] = field(default_factory=dict)

    def airflow_env(self) -> dict[str, str]:
        """Airflow settings MWAA gets from Terraform: the Secrets Manager backend and target."""
        return {
            "AIRFLOW__SECRETS__BACKEND": (
                "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
            ),
            "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps(self.backend_kwargs),
            "AIRFLOW__DWH__TARGET": "aws",
            "DWH_TARGET": "aws",
        }

    def execution_input(self, ds: str) -> dict:
        """The state machine's input, as infra/modules/orchestration passes it."""
        v = self.variables
        return {
            "ds": ds,
            "config": {
                "resource_prefix": v["dwh_resource_prefix"],
                "redshift_cluster_id": v["dwh_redshift_cluster_id"],
                "redshift_database": v["dwh_redshift_database"],
                "redshift_secret_arn": v["dwh_redshift_secret_arn"],
                "raw_uri": v["dwh_raw_uri"],
                "processed_uri": v["dwh_processed_uri"],
                "iam_role_arn": v["dwh_redshift_copy_role_arn"],
                "glue_database": v["dwh_glue_database"],
                "glue_processed_database": v["dwh_glue_processed_database"],
                "alert_topic_arn": v["dwh_alert_topic_arn"],
            },
        }


def _role(iam, name: str, service: str) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def create(pipelines: list, raw_dir: Path, prefix: str = PREFIX) -> Environment:
    """Buckets, roles, Glue catalog, crawlers and jobs, the alert topic with an SQS subscriber,
    Secrets Manager's Variables and connections, a Redshift cluster; raw files landed."""
    from dwh_tools import deploy
    from dwh_tools.rehearsal import infra_values

    iam = boto3.client("iam", region_name=REGION)
    roles = {
        "mwaa": _role(iam, f"{prefix}-mwaa-execution", "airflow-env.amazonaws.com"),
        "stepfunctions": _role(iam, f"{prefix}-sfn", "states.amazonaws.com"),
        "glue": _role(iam, f"{prefix}-glue-job", "glue.amazonaws.com"),
        "redshift_copy": _role(iam, f"{prefix}-redshift-copy", "redshift.amazonaws.com"),
    }
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name=f"{prefix}-alerts")["TopicArn"]
    cluster_id = f"{prefix}-redshift"
    # The workloads log in as the ETL user with its own secret (infra/modules/redshift/users.tf
    # names it <prefix>/redshift/etl), never as the admin.
    etl_secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=f"{prefix}/redshift/etl",
        SecretString=json.dumps(
            {
                "username": ETL_USER,
                "password": "Rehearsal-only-2",
                "engine": "redshift",
                "host": f"{cluster_id}.rehearsal.{REGION}.redshift.amazonaws.com",
                "port": REDSHIFT_PORT,
                "dbname": "dwh",
            }
        ),
    )["ARN"]
    redshift = {
        "cluster_id": cluster_id,
        "workgroup_name": "",
        "database_name": "dwh",
        "etl_secret_arn": etl_secret,
        "copy_role_arn": roles["redshift_copy"],
        # The cluster's endpoint as Terraform reads it (the driver's socket is the rehearsal's).
        "endpoint_address": f"{cluster_id}.rehearsal.{REGION}.redshift.amazonaws.com",
        "port": REDSHIFT_PORT,
        "etl_username": ETL_USER,
        "alert_topic_arn": topic,
    }
    tf = infra_values.environment(prefix, ACCOUNT, REGION, redshift)

    s3 = boto3.client("s3", region_name=REGION)
    where = {"LocationConstraint": REGION}
    mwaa_bucket = f"airflow-{prefix}-{ACCOUNT}-{REGION}"
    for bucket in [*tf["buckets"].values(), mwaa_bucket]:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=where)
    for path in sorted(raw_dir.rglob("*.csv")):
        s3.upload_file(str(path), tf["buckets"]["raw"], path.relative_to(raw_dir).as_posix())

    boto3.client("redshift", region_name=REGION).create_cluster(
        ClusterIdentifier=cluster_id,
        NodeType="ra3.xlplus",
        MasterUsername="dwh_admin",
        MasterUserPassword="Rehearsal-only-1",
        DBName=redshift["database_name"],
    )
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName=f"{prefix}-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    secrets = boto3.client("secretsmanager", region_name=REGION)
    kw = tf["backend_kwargs"]
    for key, value in tf["variables"].items():
        secrets.create_secret(Name=f"{kw['variables_prefix']}/{key}", SecretString=value)
    for key, value in tf["connections"].items():
        secrets.create_secret(
            Name=f"{kw['connections_prefix']}/{key}", SecretString=json.dumps(value)
        )
    # Terraform always creates the slack_alerts secret; its value (the webhook) is put by hand.
    secrets.create_secret(Name=f"{kw['connections_prefix']}/slack_alerts")

    _glue(pipelines, tf, roles["glue"], prefix)
    # The deploy command's own sync puts the DAG folder and the Glue scripts in their buckets
    # (moto has no MWAA, so the environment update it would make is left out).
    report = deploy.DeployReport()
    deploy._sync(
        s3,
        mwaa_bucket,
        deploy.DAGS_PREFIX,
        deploy.dag_folder_files(config.REPO_ROOT),
        report,
        lambda line: None,
        False,
    )
    deploy._sync(
        s3,
        tf["buckets"]["scripts"],
        deploy.GLUE_PREFIX,
        deploy.glue_script_files(config.REPO_ROOT),
        report,
        lambda line: None,
        False,
    )
    return Environment(
        prefix=prefix,
        buckets=tf["buckets"],
        mwaa_bucket=mwaa_bucket,
        glue_database=tf["glue_database"],
        glue_processed_database=tf["glue_processed_database"],
        variables=tf["variables"],
        connections=tf["connections"],
        backend_kwargs=kw,
        topic_arn=topic,
        queue_url=queue_url,
        cluster_id=cluster_id,
        roles=roles,
    )


def _glue(pipelines: list, tf: dict, role: str, prefix: str) -> None:
    """One crawler per crawler name and one job per glue_job node, as infra/modules/glue does."""
    from dwh_tools import deploy

    glue = boto3.client("glue", region_name=REGION)
    glue.create_database(DatabaseInput={"Name": tf["glue_database"]})
    _processed_catalog(glue, tf)
    raw, processed = (f"s3://{tf['buckets'][b]}" for b in ("raw", "processed"))
    scripts = f"s3://{tf['buckets']['scripts']}/{deploy.GLUE_PREFIX}"
    helpers = [
        f"{scripts}/{Path(k).name}"
        for k in deploy.glue_script_files(config.REPO_ROOT)
        if not k.endswith("clean_entity.py")
    ]
    made: set[str] = set()
    for pipeline in pipelines:
        for node in pipeline.nodes:
            d = kinds.define(node)
            name = d.resource(prefix) if node.kind in ("glue_job", "glue_crawler") else None
            if name is None or name in made:
                continue
            made.add(name)
            if node.kind == "glue_crawler":
                glue.create_crawler(
                    Name=name,
                    Role=role,
                    DatabaseName=tf["glue_database"],
                    Targets={"S3Targets": [{"Path": f"{raw}/{e}/"} for e in d.entities]},
                )
            else:
                glue.create_job(
                    Name=name,
                    Role=role,
                    Command={"Name": "glueetl", "ScriptLocation": f"{scripts}/{d.script}"},
                    DefaultArguments={
                        "--raw_uri": raw,
                        "--processed_uri": processed,
                        "--extra-py-files": ",".join(helpers),
                    },
                    GlueVersion="5.0",
                )


def _processed_catalog(glue, tf: dict) -> None:
    """The processed catalog database and its tables, as infra/modules/glue/processed.tf makes
    them from the generated infra/modules/glue/processed_tables.json."""
    from dwh_tools import processed_catalog

    database = tf["glue_processed_database"]
    glue.create_database(DatabaseInput={"Name": database})
    tables = json.loads(processed_catalog.OUTPUT.read_text())["tables"]
    for name, table in tables.items():
        glue.create_table(
            DatabaseName=database,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"EXTERNAL": "TRUE", "classification": "parquet"},
                "StorageDescriptor": {
                    "Location": f"s3://{tf['buckets']['processed']}/{table['location']}",
                    "Columns": [{"Name": c["name"], "Type": c["type"]} for c in table["columns"]],
                },
            },
        )
