"""The redshift_default connection Terraform writes for MWAA gets past the real driver.

RedshiftSQLHook hands every key of the connection's extra to ``redshift_connector.connect()``.
The extra is computed here by Terraform itself from infra/modules/mwaa/secrets.tf (the expression
is read from the file, evaluated offline), then given to the hook and the real driver against
moto's Redshift, on a closed local port: a connection MWAA could use fails only at the network
("communication error"); a wrong extra fails before it with the driver's own error.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import boto3
import pytest
from infra_support import MODULES, TerraformError
from moto import mock_aws

SECRETS_TF = MODULES / "mwaa" / "secrets.tf"
REGION = "eu-west-1"
CLUSTER = "dwh-test-redshift"


def extra_expression() -> str:
    text = SECRETS_TF.read_text()
    found = re.search(r"^  redshift_extra = (jsondecode\(.*?^  \}\)\))$", text, re.M | re.S)
    assert found, f"{SECRETS_TF}: no redshift_extra local"
    return found.group(1)


def terraform_extra(terraform, tmp_path, workgroup: str) -> dict:
    """Evaluate the real expression in a provider-less module with the variables it reads."""
    work = tmp_path / f"tf-{workgroup or 'cluster'}"
    work.mkdir()
    redshift = {
        "workgroup_name": workgroup,
        "cluster_id": "" if workgroup else CLUSTER,
        "etl_username": "dwh_etl",
    }
    (work / "main.tf").write_text(
        f"""
variable "redshift" {{ type = any }}
locals {{
  region         = "{REGION}"
  redshift_extra = {extra_expression()}
}}
output "extra" {{ value = local.redshift_extra }}
"""
    )
    (work / "terraform.tfvars.json").write_text(json.dumps({"redshift": redshift}))
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    for command in (["init", "-backend=false"], ["apply", "-auto-approve"]):
        done = subprocess.run(
            [terraform, *command, "-no-color"], cwd=work, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise TerraformError(done.stderr + done.stdout)
    out = subprocess.run(
        [terraform, "output", "-json"], cwd=work, env=env, capture_output=True, text=True
    )
    return json.loads(out.stdout)["extra"]["value"]


def connect_with(extra: dict, monkeypatch) -> Exception:
    from airflow.providers.amazon.aws.hooks.redshift_sql import RedshiftSQLHook

    conn = {
        "conn_type": "redshift",
        "host": "127.0.0.1",
        "port": 1,  # nothing listens: the driver stops at the network, after its own checks
        "schema": "dwh",
        "login": "dwh_etl",
        "extra": {**extra, "timeout": 2},
    }
    monkeypatch.setenv("AIRFLOW_CONN_REDSHIFT_PROBE", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws"}))
    with pytest.raises(Exception) as err:
        RedshiftSQLHook(redshift_conn_id="redshift_probe").get_conn()
    return err.value


@pytest.fixture
def redshift_on_moto(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("redshift").create_cluster(
            ClusterIdentifier=CLUSTER,
            NodeType="ra3.xlplus",
            MasterUsername="dwh_admin",
            MasterUserPassword="Not-a-secret-1",
        )
        yield


def test_the_cluster_connection_reaches_the_network(
    terraform, tmp_path, redshift_on_moto, monkeypatch
):
    extra = terraform_extra(terraform, tmp_path, workgroup="")
    error = connect_with(extra, monkeypatch)
    assert "communication error" in str(error), f"{type(error).__name__}: {error}"


def test_the_serverless_connection_keys_are_the_drivers(terraform, tmp_path):
    import inspect

    import redshift_connector

    extra = terraform_extra(terraform, tmp_path, workgroup="dwh-test")
    accepted = set(inspect.signature(redshift_connector.connect).parameters)
    assert set(extra) <= accepted, sorted(set(extra) - accepted)
    assert extra["iam"] is True and extra["db_user"] == "dwh_etl"


def test_the_driver_refuses_boto_style_keys(redshift_on_moto, monkeypatch):
    """The check above can fail: boto's region_name is a TypeError in the driver."""
    extra = {"iam": True, "cluster_identifier": CLUSTER, "region_name": REGION}
    error = connect_with(extra, monkeypatch)
    assert isinstance(error, TypeError) and "region_name" in str(error)
