"""IAM least privilege, checked on the parsed HCL of every policy document in infra/:

- no "*" action and no service-wide wildcard ("glue:*") in an Allow, no NotAction /
  NotResource (a Deny may name "s3:*": denying everything over plain HTTP is the point);
- every Allow statement names its resources; "*" only where AWS has no resource-level
  permissions for the actions, with a `# no resource-level permissions: <why>` comment in the
  statement, and only for actions known to need it;
- every policy attached to a role, bucket, topic or key is one of these documents (no inline JSON
  that would escape the check).
"""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
from infra_support import INFRA, blocks, parse_hcl, tf_files

EXCEPTION_MARKER = "no resource-level permissions:"

# Actions that accept no resource ARN (or, in a key policy, whose "*" means the key itself).
STAR_RESOURCE_ALLOWED = {
    "cloudwatch:PutMetricData",
    "logs:DescribeLogGroups",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "s3:GetAccountPublicAccessBlock",
    "redshift-data:DescribeStatement",
    "redshift-data:GetStatementResult",
    "redshift-data:CancelStatement",
    "glue:GetSecurityConfiguration",
    "glue:GetCrawlerMetrics",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
}
KEY_POLICY_DOCUMENTS = {("kms", "key"), ("kms", "account_key")}

POLICY_ATTRIBUTES = {
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_kms_key": ("policy",),
}


def _statements(body: dict) -> list[dict]:
    found = list(body.get("statement", []))
    for dynamic in body.get("dynamic", []):
        if "statement" in dynamic:
            found.extend(dynamic["statement"].get("content", []))
    return found


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def policy_documents(files: list[Path]) -> list[tuple[str, str, dict]]:
    """(where, document name, statement) for every statement of every policy document."""
    found = []
    for path in files:
        for type_, name, body in blocks(parse_hcl(path), "data"):
            if type_ == "aws_iam_policy_document":
                module = path.parent.name
                shown = path.relative_to(INFRA) if path.is_relative_to(INFRA) else path.name
                for statement in _statements(body):
                    found.append((f"{shown}:{name}", (module, name), statement))
    return found


def violations(files: list[Path]) -> list[str]:
    problems = []
    for where, document, st in policy_documents(files):
        sid = st.get("sid", "(no sid)")
        label = f"{where} statement {sid}"
        actions = _as_list(st.get("actions"))
        for key in ("not_actions", "not_resources", "not_principals"):
            if key in st:
                problems.append(f"{label}: uses {key}")
        if st.get("effect", "Allow") == "Deny":
            continue
        for action in actions:
            if action == "*" or re.fullmatch(r"[\w-]+:\*", str(action)):
                problems.append(f"{label}: wildcard action {action!r}")
        resources = st.get("resources")
        if resources is None:
            # Trust policies name no resources: the role they belong to is the resource.
            if "principals" in st and actions == ["sts:AssumeRole"]:
                continue
            problems.append(f"{label}: no resources")
            continue
        if "*" in _as_list(resources):
            comments = " ".join(c["value"] for c in st.get("__comments__", []))
            if EXCEPTION_MARKER not in comments:
                problems.append(f"{label}: resources '*' without '# {EXCEPTION_MARKER} <why>'")
            if document not in KEY_POLICY_DOCUMENTS:
                unexpected = sorted(set(actions) - STAR_RESOURCE_ALLOWED)
                if unexpected:
                    problems.append(f"{label}: '*' resource for restrictable {unexpected}")
    return problems


def test_every_policy_statement_is_least_privilege():
    problems = violations(tf_files())
    assert not problems, "\n".join(problems)


def test_there_are_policy_documents_to_check():
    found = policy_documents(tf_files())
    modules = {doc[0] for _, doc, _ in found}
    assert len(found) > 40
    assert {"mwaa", "orchestration", "glue", "redshift", "kms", "storage", "ingestion"} <= modules


def test_every_attached_policy_is_a_checked_policy_document():
    problems = []
    for path in tf_files():
        for type_, name, body in blocks(parse_hcl(path), "resource"):
            for attribute in POLICY_ATTRIBUTES.get(type_, ()):
                value = body.get(attribute)
                if value is None:
                    continue
                if not re.fullmatch(
                    r"\$\{data\.aws_iam_policy_document\.[\w\[\]\.\"-]+\.json\}", value
                ):
                    problems.append(
                        f"{path.relative_to(INFRA)}: {type_}.{name}.{attribute} = {value}"
                    )
    assert not problems, "\n".join(problems)


def test_the_check_catches_what_it_forbids(tmp_path):
    bad = tmp_path / "bad.tf"
    bad.write_text(
        """
data "aws_iam_policy_document" "bad" {
  statement {
    sid       = "DenyPlainHttp"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["arn:aws:s3:::x", "arn:aws:s3:::x/*"]
  }
  statement {
    sid       = "AllOfGlue"
    actions   = ["glue:*"]
    resources = ["arn:aws:glue:eu-west-1:000000000000:job/x"]
  }
  statement {
    sid       = "Everything"
    actions   = ["*"]
    resources = ["*"]
  }
  statement {
    sid       = "UnexplainedStar"
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
  statement {
    sid     = "ExplainedButRestrictable"
    actions = ["glue:StartJobRun"]
    # no resource-level permissions: not true for this action
    resources = ["*"]
  }
  statement {
    sid     = "NoResources"
    actions = ["sns:Publish"]
  }
}
"""
    )
    hcl2.loads(bad.read_text())
    text = "\n".join(violations([bad]))
    assert "AllOfGlue: wildcard action 'glue:*'" in text
    assert "Everything: wildcard action '*'" in text
    assert "UnexplainedStar: resources '*' without" in text
    assert "ExplainedButRestrictable: '*' resource for restrictable ['glue:StartJobRun']" in text
    assert "NoResources: no resources" in text
    assert "DenyPlainHttp" not in text
