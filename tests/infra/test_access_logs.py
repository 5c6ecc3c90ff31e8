"""Every bucket that sends server access logs to the access-log bucket is admitted by its policy.

S3 delivers access logs as the logging service; the access-log bucket's policy admits it only for
the source buckets named in aws:SourceArn. A bucket that logs there but is not named loses its
logs without an error anywhere.
"""

from __future__ import annotations

from infra_support import MODULES, blocks, module_blocks, parse_hcl, parse_module


def logging_modules() -> list[str]:
    """Modules other than storage with an aws_s3_bucket_logging into var.access_logs_bucket_name."""
    found = []
    for module in sorted(p.name for p in MODULES.iterdir() if p.is_dir()):
        for _, _, body in blocks(parse_module(module), "resource"):
            if body.get("target_bucket") == "${var.access_logs_bucket_name}":
                found.append(module)
    return sorted(set(found) - {"storage"})


def test_the_access_log_policy_names_the_storage_buckets_and_the_passed_sources():
    (statement,) = [
        s
        for _, name, body in blocks(parse_module("storage"), "data")
        if name == "access_logs"
        for s in body["statement"]
        if s.get("sid") == "S3ServerAccessLogs"
    ]
    (source,) = [c for c in statement["condition"] if c["variable"] == "aws:SourceArn"]
    assert "var.log_source_bucket_arns" in str(source["values"])


def test_the_platform_passes_every_other_logging_bucket_to_storage():
    assert logging_modules() == ["mwaa"]  # the list below must grow with this one
    platform = {}
    for path in sorted((MODULES / "platform").glob("*.tf")):
        platform.update(module_blocks(parse_hcl(path)))
    passed = str(platform["storage"].get("log_source_bucket_arns"))
    for module in logging_modules():
        assert f"module.{module}.bucket_arn" in passed, (
            f"infra/modules/{module} logs to the access-log bucket, but platform does not pass "
            f"module.{module}.bucket_arn to storage's log_source_bucket_arns"
        )
