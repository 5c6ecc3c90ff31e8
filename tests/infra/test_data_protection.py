"""Data protection of infra/, read from the parsed HCL: HTTPS-only bucket policies deny all of S3,
the raw and audit (logs) buckets carry S3 Object Lock, the backup vault a vault lock, the lake,
the warehouse and the backups are encrypted with three different keys, replication never copies
deletions, and every checkov skip is listed with its reason in infra/README.md."""

from __future__ import annotations

import re

import yaml
from infra_support import (
    INFRA,
    blocks,
    locals_of,
    module_blocks,
    parse_hcl,
    parse_module,
    resource,
    tf_files,
    variable_default,
)


def _statements(body: dict) -> list[dict]:
    found = list(body.get("statement", []))
    for dynamic in body.get("dynamic", []):
        if "statement" in dynamic:
            found.extend(dynamic["statement"].get("content", []))
    return found


def _policy_statements() -> list[tuple[str, dict]]:
    found = []
    for path in tf_files():
        for type_, name, body in blocks(parse_hcl(path), "data"):
            if type_ == "aws_iam_policy_document":
                for statement in _statements(body):
                    found.append((f"{path.relative_to(INFRA)}:{name}", statement))
    return found


def _plain(value):
    """A parsed block without python-hcl2's markers (`__is_block__`, `__comments__`)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _ref(expression: str) -> str:
    """`${var.x}` -> `var.x`."""
    m = re.fullmatch(r"\$\{(.+)\}", str(expression))
    assert m, f"expected a reference, got {expression!r}"
    return m.group(1)


# --- HTTPS only ---------------------------------------------------------------------------------


def test_every_secure_transport_deny_denies_all_of_s3_on_the_bucket_and_its_objects():
    denies = [
        (where, st)
        for where, st in _policy_statements()
        if any(c.get("variable") == "aws:SecureTransport" for c in st.get("condition", []))
    ]
    assert len(denies) >= 3, "expected the lake, access-log and MWAA buckets' HTTPS-only denies"
    problems = []
    for where, st in denies:
        label = f"{where} statement {st.get('sid')}"
        (condition,) = _plain(st["condition"])
        if st.get("effect") != "Deny" or condition != {
            "test": "Bool",
            "variable": "aws:SecureTransport",
            "values": ["false"],
        }:
            problems.append(f"{label}: not a Deny on aws:SecureTransport = false")
        if st.get("actions") != ["s3:*"]:
            problems.append(f"{label}: denies {st.get('actions')}, not s3:*")
        resources = st.get("resources", [])
        if len(resources) != 2 or resources[1] != resources[0] + "/*":
            problems.append(f"{label}: resources {resources} are not one bucket and its objects")
        if _plain(st.get("principals")) != [{"type": "AWS", "identifiers": ["*"]}]:
            problems.append(f"{label}: does not apply to every principal")
    assert not problems, "\n".join(problems)


# --- S3 Object Lock -----------------------------------------------------------------------------

LOCKED = {"raw", "logs"}  # logs holds CloudTrail and AWS Config: the audit trail


def test_raw_and_audit_buckets_have_object_lock_in_governance_mode_by_default():
    lock = resource("storage", "aws_s3_bucket_object_lock_configuration", "this")
    locked = locals_of("storage")[_ref(lock["for_each"]).removeprefix("local.")]
    assert set(locked) == LOCKED
    assert lock["bucket"] == "${aws_s3_bucket.this[each.key].id}"
    assert lock["object_lock_enabled"] == "Enabled"
    (retention,) = _plain(lock["rule"][0]["default_retention"])
    assert _ref(retention["mode"]) == "var.object_lock_mode"
    assert variable_default("storage", "object_lock_mode") == "GOVERNANCE"
    assert retention["days"] == "${each.value}"
    assert "aws_s3_bucket_versioning.this" in str(lock.get("depends_on"))
    # New buckets are created with Object Lock; existing ones get it from the configuration
    # above, in place (object_lock_enabled on the bucket alone would replace the bucket).
    bucket = resource("storage", "aws_s3_bucket", "this")
    assert "contains(keys(local.object_lock_days), each.key)" in bucket["object_lock_enabled"]
    assert "object_lock_enabled" in str(bucket["lifecycle"][0]["ignore_changes"])


def test_object_lock_retention_is_shorter_than_the_buckets_expiry_everywhere():
    """A lifecycle expiry inside the retention would be refused by Object Lock for every version:
    the defaults, each environment and the plan-time check keep retention below expiry."""
    pairs = {"raw": ("raw_object_lock_days", "raw_retention_days")}
    pairs["logs"] = ("logs_object_lock_days", "log_retention_days")
    for lock_days, expire_days in pairs.values():
        assert variable_default("storage", lock_days) < variable_default("storage", expire_days)
        assert variable_default("platform", lock_days) < variable_default("platform", expire_days)
        for env in ("dev", "prod"):
            platform = parse_hcl(INFRA / "envs" / env / "main.tf")["module"][0]["platform"]
            days = platform.get(lock_days, variable_default("platform", lock_days))
            expire = platform.get(expire_days, variable_default("platform", expire_days))
            assert days < expire, f"envs/{env}: {lock_days} = {days} >= {expire_days} = {expire}"
    lock = resource("storage", "aws_s3_bucket_object_lock_configuration", "this")
    (precondition,) = lock["lifecycle"][0]["precondition"]
    assert "expire_days" in precondition["condition"] and "each.value" in precondition["condition"]
    platform = module_blocks(parse_module("platform"))["storage"]
    for lock_days, _ in pairs.values():
        assert platform[lock_days] == f"${{var.{lock_days}}}"
    assert platform["object_lock_mode"] == "${var.object_lock_mode}"


def test_replicas_of_locked_buckets_keep_the_lock():
    """S3 replicates a locked object only into a bucket with Object Lock, reading its retention."""
    lock = resource("storage", "aws_s3_bucket_object_lock_configuration", "replica")
    assert lock["object_lock_enabled"] == "Enabled"
    assert "local.object_lock_days" in lock["for_each"] and "local.replicated" in lock["for_each"]
    (source,) = [
        st
        for name, st in _policy_statements()
        if name == "modules/storage/replication.tf:replication"
        and st.get("sid") == "ReadSourceObjects"
    ]
    assert {"s3:GetObjectRetention", "s3:GetObjectLegalHold"} <= set(source["actions"])


# --- AWS Backup vault lock ----------------------------------------------------------------------


def test_the_backup_vault_has_a_vault_lock():
    vault = resource("security", "aws_backup_vault", "this")
    lock = resource("security", "aws_backup_vault_lock_configuration", "this")
    assert lock["count"] == vault["count"]
    assert lock["backup_vault_name"] == "${aws_backup_vault.this[0].name}"
    assert _ref(lock["min_retention_days"]) == "var.backup_vault_min_retention_days"
    assert _ref(lock["max_retention_days"]) == "var.backup_vault_max_retention_days"
    assert _ref(lock["changeable_for_days"]) == "var.backup_vault_lock_changeable_for_days"
    # The plan's retention must lie inside the lock's bounds or every backup job fails.
    (precondition,) = lock["lifecycle"][0]["precondition"]
    assert "var.backup_retention_days" in precondition["condition"]
    low = variable_default("security", "backup_vault_min_retention_days")
    high = variable_default("security", "backup_vault_max_retention_days")
    assert low <= variable_default("security", "backup_retention_days") <= high
    # Without changeable_for_days the lock stays in governance mode (removable); dev never
    # becomes compliance-locked.
    assert variable_default("security", "backup_vault_lock_changeable_for_days") is None
    dev = parse_hcl(INFRA / "envs" / "dev" / "main.tf")["module"][0]["platform"]
    assert dev.get("backup_vault_lock_changeable_for_days") is None
    security = module_blocks(parse_module("platform"))["security"]
    for name in (
        "backup_vault_min_retention_days",
        "backup_vault_max_retention_days",
        "backup_vault_lock_changeable_for_days",
    ):
        assert security[name] == f"${{var.{name}}}"


# --- KMS keys -----------------------------------------------------------------------------------


def _kms_key_of(module_output: str) -> str:
    """`module.kms.<output>` -> the aws_kms_key resource that output names."""
    m = re.fullmatch(r"module\.kms\.(\w+)", module_output)
    assert m, f"expected a key of module.kms, got {module_output}"
    outputs = {k: v for e in parse_module("kms")["output"] for k, v in e.items()}
    value = _ref(outputs[m.group(1)]["value"])
    key = re.fullmatch(r"aws_kms_key\.(\w+)\.arn", value)
    assert key, f"output {m.group(1)} of modules/kms is {value}, not a key ARN"
    return key.group(1)


def test_lake_warehouse_and_backups_are_encrypted_with_three_different_keys():
    platform = module_blocks(parse_module("platform"))
    # The lake buckets: storage encrypts every bucket with its kms_key_arn.
    sse = resource("storage", "aws_s3_bucket_server_side_encryption_configuration", "this")
    by_default = sse["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert by_default["kms_master_key_id"] == "${var.kms_key_arn}"
    lake = _ref(platform["storage"]["kms_key_arn"])
    # The warehouse: cluster or namespace, and so their snapshots.
    cluster = resource("redshift", "aws_redshift_cluster", "this")
    namespace = resource("redshift", "aws_redshiftserverless_namespace", "this")
    assert cluster["kms_key_id"] == namespace["kms_key_id"] == "${var.kms_key_arn}"
    warehouse = _ref(platform["redshift"]["kms_key_arn"])
    # The backup vault.
    vault = resource("security", "aws_backup_vault", "this")
    backups = _ref(platform["security"][_ref(vault["kms_key_arn"]).removeprefix("var.")])
    keys = {"lake": _kms_key_of(lake), "warehouse": _kms_key_of(warehouse)}
    keys["backups"] = _kms_key_of(backups)
    assert len(set(keys.values())) == 3, f"keys shared: {keys}"
    for key in keys.values():
        body = resource("kms", "aws_kms_key", key)
        assert body["enable_key_rotation"] is True
        assert re.fullmatch(r"\$\{data\.aws_iam_policy_document\.\w+\.json\}", body["policy"])


def test_readers_of_the_warehouse_secret_and_the_lake_keep_their_keys():
    """The warehouse secret moves to the warehouse key with the cluster: Airflow, the state
    machines and QuickSight read it; COPY and Spectrum still decrypt the lake's data key."""
    platform = module_blocks(parse_module("platform"))
    warehouse = platform["redshift"]["kms_key_arn"]
    assert platform["mwaa"]["warehouse_kms_key_arn"] == warehouse
    assert platform["orchestration"]["warehouse_kms_key_arn"] == warehouse
    assert platform["quicksight"]["kms_key_arn"] == warehouse
    for module in ("mwaa", "orchestration"):
        found = [
            st
            for where, st in _policy_statements()
            if where.startswith(f"modules/{module}/") and st.get("sid") == "DecryptWarehouseSecret"
        ]
        assert found, f"modules/{module}: no DecryptWarehouseSecret statement"
        for st in found:
            assert st["actions"] == ["kms:Decrypt"]
            (condition,) = st["condition"]
            assert condition["variable"] == "kms:ViaService"
            assert condition["values"] == ["secretsmanager.${local.region}.amazonaws.com"]
    (lake,) = [
        st
        for where, st in _policy_statements()
        if where == "modules/platform/iam.tf:redshift_copy_lake_key"
    ]
    assert lake["resources"] == [platform["storage"]["kms_key_arn"]]
    grant = resource("platform", "aws_iam_role_policy", "redshift_copy_lake_key")
    assert "module.redshift.copy_role_arn" in grant["role"]


# --- replication --------------------------------------------------------------------------------


def test_replication_never_replicates_deletions():
    rules = []
    for path in tf_files():
        for type_, name, body in blocks(parse_hcl(path), "resource"):
            if type_ == "aws_s3_bucket_replication_configuration":
                rules.extend((f"{path.relative_to(INFRA)}:{name}", r) for r in body["rule"])
    assert rules, "expected the cross-region replication rules"
    for where, rule in rules:
        assert _plain(rule.get("delete_marker_replication")) == [{"status": "Disabled"}], where
    for where, st in _policy_statements():
        assert "s3:ReplicateDelete" not in st.get("actions", []), where


# --- checkov skips ------------------------------------------------------------------------------


def _readme_skip_rows() -> list[list[str]]:
    readme = (INFRA / "README.md").read_text()
    assert "## checkov skips" in readme, "infra/README.md has no '## checkov skips' section"
    section = readme.split("## checkov skips", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and re.fullmatch(r"CKV2?_[A-Z]+_\d+", cells[0]):
            rows.append(cells)
    return rows


def _skips_in_code() -> set[tuple[str, str, str, str]]:
    """(check, file, block, reason) of every inline skip, and of every skip in the config."""
    skips = set()
    for path in tf_files():
        block = None
        for line in path.read_text().splitlines():
            header = re.match(r'(resource|data) "(\w+)" "([\w-]+)"', line)
            if header:
                kind = "data." if header.group(1) == "data" else ""
                block = f"{kind}{header.group(2)}.{header.group(3)}"
            m = re.search(r"#checkov:skip=(CKV2?_[A-Z]+_\d+):(.*)$", line.strip())
            if m:
                skips.add((m.group(1), str(path.relative_to(INFRA)), block, m.group(2).strip()))
    config = yaml.safe_load((INFRA / ".checkov.yaml").read_text())
    for check in config.get("skip-check", []) or []:
        skips.add((str(check), ".checkov.yaml", "", None))  # its reason lives in the README only
    return skips


def test_every_checkov_skip_is_listed_with_its_reason_in_the_readme():
    skips = _skips_in_code()
    assert len(skips) > 10
    listed = {tuple(cells[:4]) for cells in _readme_skip_rows() if len(cells) >= 4}
    reasons = {(c, f, b): r for c, f, b, r in listed}
    missing = sorted(
        (c, f, b, r)
        for c, f, b, r in skips
        if reasons.get((c, f, b)) is None
        or (r is not None and reasons[(c, f, b)] != r)
        or (r is None and len(reasons[(c, f, b)]) < 15)
    )
    assert not missing, "infra/README.md '## checkov skips' lacks the rows:\n" + "\n".join(
        f"| `{c}` | `{f}` | `{b}` | {r} |" for c, f, b, r in missing
    )
    stale = sorted(set(reasons) - {(c, f, b) for c, f, b, _ in skips})
    assert not stale, f"infra/README.md lists skips that are not in infra/ (any more): {stale}"
