"""The arrival gate's Terraform agrees with its code: the events it receives are the raw files the
handler reads, the marker prefix its role may write is the handler's, and the package holds the
handler and its manifest."""

from __future__ import annotations

import fnmatch
import re
import sys

from infra_support import REPO_ROOT, locals_of, resource, variable_default

sys.path.insert(0, str(REPO_ROOT / "lambdas" / "arrival_gate"))
import arrival_gate  # noqa: E402


def _wildcard() -> str:
    pattern = resource("ingestion", "aws_cloudwatch_event_rule", "raw_arrivals")["event_pattern"]
    return re.search(r'wildcard = "([^"]+)"', pattern).group(1)


def test_the_rule_sends_every_expected_raw_file_and_no_marker():
    wildcard = _wildcard()
    manifest = arrival_gate.load_manifest()
    for pipeline in manifest["pipelines"]:
        for key in arrival_gate.expected_keys(pipeline, "2024-03-05").values():
            assert fnmatch.fnmatchcase(key, wildcard), key
    marker = arrival_gate.marker_key("ecommerce_dwh", "2024-03-05")
    assert not fnmatch.fnmatchcase(marker, wildcard)


def test_the_role_writes_markers_only_under_the_handlers_prefix():
    assert locals_of("ingestion")["marker_prefix"] == arrival_gate.MARKER_PREFIX
    policy = resource("ingestion", "aws_iam_policy_document", "gate", "data")
    writes = [s for s in policy["statement"] if "s3:PutObject" in s["actions"]]
    assert [s["resources"] for s in writes] == [["${var.raw_bucket_arn}/${local.marker_prefix}/*"]]


def test_the_package_is_the_handler_and_its_manifest_on_python_312():
    fn = resource("ingestion", "aws_lambda_function", "gate")
    assert fn["runtime"] == "python3.12"
    module, func = fn["handler"].split(".")
    assert getattr(__import__(module), func) is arrival_gate.handler
    sources = resource("ingestion", "archive_file", "gate", "data")["source"]
    assert {s["filename"] for s in sources} == {"arrival_gate.py", "manifest.json"}


def test_the_gate_starts_airflow_unless_the_environment_says_stepfunctions():
    assert variable_default("platform", "arrival_gate_orchestrator") == "airflow"
