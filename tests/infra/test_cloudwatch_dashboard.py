"""The platform CloudWatch dashboard: generated from the graph, every metric one AWS publishes, and
every templatefile() placeholder supplied by the Terraform that deploys it."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from infra_support import REPO_ROOT, locals_of, module_blocks, parse_hcl, resource

from dwh.graph import load_all, load_pipeline, pipeline_files
from dwh_tools import cloudwatch_dashboard

# What each service documents it publishes: namespace -> metric -> the dimension names of the one
# combination the dashboard reads. Written from the services' pages, not from the generator:
# - Amazon MWAA, "Apache Airflow environment metrics in CloudWatch" (every metric also carries
#   the Environment dimension, as the console section of the page shows):
#   https://docs.aws.amazon.com/mwaa/latest/userguide/access-metrics-cw.html
# - Step Functions, "Monitoring Step Functions metrics using Amazon CloudWatch" (execution metrics,
#   dimension StateMachineArn):
#   https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html
# - AWS Glue job metrics (namespace "Glue"; JobName, JobRunId = ALL, Type = count):
#   https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html
#   and the observability (reliability) metrics, with ObservabilityGroup = error:
#   https://docs.aws.amazon.com/glue/latest/dg/monitor-observability.html
# - Amazon Redshift (CPUUtilization by ClusterIdentifier; QueryDuration by latency):
#   https://docs.aws.amazon.com/redshift/latest/mgmt/metrics-listing.html
#   Redshift Serverless (ComputeCapacity by Workgroup):
#   https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-monitoring.html
# - Amazon S3 request metrics (BucketName + FilterId, needs a metrics configuration) and daily
#   storage metrics (BucketName + StorageType):
#   https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html
# - AWS Backup (by BackupVaultName):
#   https://docs.aws.amazon.com/aws-backup/latest/devguide/cloudwatch.html
GLUE_JOB_DIMS = {"JobName", "JobRunId", "Type"}
GLUE_ERROR_DIMS = GLUE_JOB_DIMS | {"ObservabilityGroup"}
STATES_DIMS = {"StateMachineArn"}
DOCUMENTED = {
    "AmazonMWAA": {
        "TaskInstanceFinished": {"Environment", "DAG", "Task", "State"},
        "TaskInstanceDuration": {"Environment", "DAG", "Task"},
        "DAGDurationSuccess": {"Environment", "DAG"},
        "DAGDurationFailed": {"Environment", "DAG"},
    },
    "AWS/States": {
        "ExecutionsFailed": STATES_DIMS,
        "ExecutionsTimedOut": STATES_DIMS,
        "ExecutionsAborted": STATES_DIMS,
        "ExecutionsSucceeded": STATES_DIMS,
        "ExecutionTime": STATES_DIMS,
    },
    "Glue": {
        "glue.driver.aggregate.numCompletedTasks": GLUE_JOB_DIMS,
        "glue.driver.aggregate.numFailedTasks": GLUE_JOB_DIMS,
        "glue.driver.aggregate.numKilledTasks": GLUE_JOB_DIMS,
        "glue.succeed.ALL": GLUE_ERROR_DIMS,
        "glue.error.ALL": GLUE_ERROR_DIMS,
    },
    "AWS/Redshift": {
        "CPUUtilization": {"ClusterIdentifier"},
        "QueryDuration": {"ClusterIdentifier", "latency"},
    },
    "AWS/Redshift-Serverless": {"ComputeCapacity": {"Workgroup"}},
    "AWS/S3": {
        "PutRequests": {"BucketName", "FilterId"},
        "NumberOfObjects": {"BucketName", "StorageType"},
    },
    "AWS/Backup": {
        "NumberOfBackupJobsFailed": {"BackupVaultName"},
        "NumberOfBackupJobsCompleted": {"BackupVaultName"},
    },
}
# Fixed dimension values the pages name.
DOCUMENTED_VALUES = {
    "JobRunId": {"ALL"},
    "Type": {"count"},
    "ObservabilityGroup": {"error"},
    "latency": {"short", "medium", "long"},
    "StorageType": {"AllStorageTypes"},
    "State": {"failed"},
}

TEMPLATE = REPO_ROOT / "infra" / "monitoring" / "platform.dashboard.json"
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def _pipelines() -> dict:
    result = load_all(pipeline_files())
    assert not result.errors
    return result.pipelines


def _metric_rows(body: dict):
    """(widget title, namespace, metric name, {dimension: value}) of every metric of the body."""
    for w in body["widgets"]:
        for row in w.get("properties", {}).get("metrics", []):
            fields = [f for f in row if not isinstance(f, dict)]
            namespace, name, rest = fields[0], fields[1], fields[2:]
            yield (
                w["properties"]["title"],
                namespace,
                name,
                dict(zip(rest[::2], rest[1::2], strict=True)),
            )


def _titles(body: dict) -> list[str]:
    return [w["properties"]["title"] for w in body["widgets"] if w["type"] == "metric"]


def _glue_job_ids(pipelines: dict) -> set[str]:
    return {n.id for p in pipelines.values() for n in p.nodes if n.kind == "glue_job"}


def test_one_widget_per_glue_job_of_the_graph_and_a_widget_set_per_pipeline():
    pipelines = _pipelines()
    titles = _titles(cloudwatch_dashboard.body(pipelines))
    glue = sorted(t.removeprefix("Glue job ") for t in titles if t.startswith("Glue job "))
    assert glue == sorted(_glue_job_ids(pipelines)) and len(glue) == len(set(glue))
    for name in pipelines:
        for what in (
            "Airflow task failures",
            "Airflow durations (ms)",
            "Step Functions executions",
        ):
            assert titles.count(f"Pipeline {name}: {what}") == 1


def test_a_glue_job_node_added_to_a_copied_pipeline_gets_its_widget(tmp_path):
    src = REPO_ROOT / "include" / "pipelines" / "ecommerce_dwh.yaml"
    doc = yaml.safe_load(src.read_text())
    template = next(n for n in doc["for_each_entity"]["nodes"] if n["kind"] == "glue_job")
    doc["nodes"].append(
        {"id": "clean_returns", "kind": "glue_job", "script": template["script"]}
        | {"depends_on": list(template["depends_on"])}
    )
    copy = tmp_path / "ecommerce_dwh.yaml"
    copy.write_text(yaml.safe_dump(doc, sort_keys=False))
    before = cloudwatch_dashboard.body({"ecommerce_dwh": load_pipeline(src)})
    after_p = load_pipeline(copy, include_dir=REPO_ROOT / "include")
    after = cloudwatch_dashboard.body({"ecommerce_dwh": after_p})

    added = set(_titles(after)) - set(_titles(before))
    assert added == {"Glue job clean_returns"}
    rows = [r for r in _metric_rows(after) if r[0] == "Glue job clean_returns"]
    assert {r[3]["JobName"] for r in rows} == {"${name_prefix}-clean_returns"}
    # ... and a failure line and a duration line among the pipeline's Airflow widgets.
    tasks = {r[3].get("Task") for r in _metric_rows(after) if r[0].startswith("Pipeline ")}
    assert "clean_returns" in tasks


def test_every_metric_is_one_the_service_documents():
    problems = []
    for title, namespace, name, dims in _metric_rows(cloudwatch_dashboard.body(_pipelines())):
        expected = DOCUMENTED.get(namespace, {}).get(name)
        if expected is None:
            problems.append(f"{title}: {namespace} {name} is not a documented metric")
        elif set(dims) != expected:
            problems.append(
                f"{title}: {namespace} {name} dimensions {sorted(dims)} != {sorted(expected)}"
            )
        for key, value in dims.items():
            if key in DOCUMENTED_VALUES and value not in DOCUMENTED_VALUES[key]:
                problems.append(
                    f"{title}: {namespace} {name} {key}={value} is not a documented value"
                )
    assert not problems, "\n".join(problems)


def test_the_airflow_widgets_name_the_dag_and_task_ids_the_compiler_gives():
    pipelines = _pipelines()
    for title, namespace, _, dims in _metric_rows(cloudwatch_dashboard.body(pipelines)):
        if namespace == "AmazonMWAA":
            name = title.removeprefix("Pipeline ").split(":")[0]
            assert dims["DAG"] == name  # dag_id = pipeline (dwh.compile_airflow)
            if "Task" in dims:
                assert dims["Task"] in {n.id for n in pipelines[name].nodes}  # task_id = node id


def test_the_committed_template_is_what_the_graph_generates():
    assert TEMPLATE.read_text() == cloudwatch_dashboard.render(_pipelines())


def test_no_account_specific_value_in_the_template():
    text = TEMPLATE.read_text()
    assert not re.search(r"\b\d{12}\b", text)
    assert "arn:" not in text and "s3://" not in text
    assert not re.search(r'"region": "(?!\$\{region\})', text)


def _template_roots() -> set[str]:
    return {re.split(r"[.\[]", m)[0] for m in PLACEHOLDER.findall(TEMPLATE.read_text())}


def test_every_placeholder_is_supplied_by_the_terraform_templatefile_call():
    supplied = set(locals_of("monitoring")["dashboard_vars"])
    body = resource("monitoring", "aws_cloudwatch_dashboard", "platform")["dashboard_body"]
    assert "templatefile(var.dashboard_template_file, local.dashboard_vars)" in body
    assert _template_roots() == supplied == set(cloudwatch_dashboard.PLACEHOLDERS)


def test_every_pipeline_has_its_state_machine_arn_key_in_the_template():
    keys = {
        m.split(".", 1)[1]
        for m in PLACEHOLDER.findall(TEMPLATE.read_text())
        if m.startswith("state_machine_arns.")
    }
    assert keys == set(_pipelines())  # orchestration's state_machine_arns is keyed by pipeline


def test_the_platform_deploys_the_generated_template_and_the_raw_request_metrics():
    platform = module_blocks(parse_hcl(REPO_ROOT / "infra" / "modules" / "platform" / "main.tf"))
    monitoring = platform["monitoring"]
    assert monitoring["dashboard_template_file"].endswith(
        "/infra/monitoring/platform.dashboard.json"
    )
    for var in (
        "raw_bucket_name",
        "redshift_cluster_id",
        "redshift_workgroup_name",
        "backup_vault_name",
    ):
        assert var in monitoring
    metric = resource("monitoring", "aws_s3_bucket_metric", "raw_landed")
    assert metric["bucket"] == "${var.raw_bucket_name}" and "filter" not in metric
    assert locals_of("monitoring")["dashboard_vars"]["raw_metrics_filter"] == (
        "${aws_s3_bucket_metric.raw_landed.name}"
    )


@pytest.mark.parametrize(
    "typo",
    [
        ("glue.driver.aggregate.numFailedTasks", "glue.driver.aggregate.numFailedTask"),
        ('"StateMachineArn"', '"StateMachineARN"'),
    ],
)
def test_a_misspelt_metric_or_dimension_fails_the_reference_check(typo, monkeypatch):
    real = cloudwatch_dashboard.body
    wrong, right = typo[1], typo[0]
    monkeypatch.setattr(
        cloudwatch_dashboard,
        "body",
        lambda p: json.loads(json.dumps(real(p)).replace(right, wrong)),
    )
    with pytest.raises(AssertionError, match="not a documented metric|dimensions"):
        test_every_metric_is_one_the_service_documents()


def test_the_compile_check_reports_a_dashboard_out_of_date_with_the_graph(monkeypatch, capsys):
    from dwh_tools import cli

    assert cli.main(["compile", "--check"]) == 0
    real = cloudwatch_dashboard.render
    monkeypatch.setattr(
        cloudwatch_dashboard, "render", lambda p: real(p).replace("Glue job", "Job")
    )
    assert cli.main(["compile", "--check"]) == 1
    assert "drift infra/monitoring/platform.dashboard.json" in capsys.readouterr().err
