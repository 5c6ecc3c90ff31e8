"""Static checks of infra/: formatting, parsing, no account-specific literal, versions and names
shared with the Python side, MWAA configuration, QuickSight datasets against the mart SQL, and
checkov (offline, in its own virtualenv)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from infra_support import (
    INFRA,
    REPO_ROOT,
    locals_of,
    module_blocks,
    parse_hcl,
    parse_module,
    resource,
    tf_files,
    variable_default,
)

from dwh import versions
from dwh_tools import deploy

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
# Offline checkov: no platform mapping download, no SCA scan, no PyPI update check.
CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
}


def test_terraform_fmt_check(terraform):
    done = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", "infra"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "CHECKPOINT_DISABLE": "1"},
    )
    assert done.returncode == 0, f"run `terraform fmt -recursive infra`:\n{done.stdout}"


def test_every_tf_file_parses():
    files = tf_files()
    assert len(files) > 40
    for path in files:
        parse_hcl(path)  # raises with the file's syntax error


def test_no_account_id_arn_partition_or_bucket_name_literal():
    problems = []
    for path in tf_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            where = f"{path.relative_to(INFRA)}:{number}"
            if re.search(r"(?<![\w.])\d{12}(?![\w.])", code):
                problems.append(f"{where}: account id literal")
            if re.search(r"arn:aws(-[a-z-]+)?:", code):
                problems.append(f"{where}: ARN literal (use data.aws_partition and variables)")
            if re.search(r"s3://[a-z0-9]", code):
                problems.append(f"{where}: bucket name literal in an s3:// URI")
    for path in tf_files():
        for type_, name, body in _resources(path):
            if type_ == "aws_s3_bucket" and "${" not in body.get("bucket", "${"):
                problems.append(f"{path.relative_to(INFRA)}: bucket {name} has a literal name")
    assert not problems, "\n".join(problems)


def _resources(path):
    from infra_support import blocks

    return blocks(parse_hcl(path), "resource")


def test_platform_versions_match_versions_py():
    assert variable_default("mwaa", "airflow_version") == versions.AIRFLOW
    assert variable_default("glue", "glue_version") == versions.GLUE_VERSION


def test_mwaa_object_keys_are_the_deploy_commands():
    local = locals_of("mwaa")
    assert local["dags_prefix"] == deploy.DAGS_PREFIX
    assert local["plugins_key"] == deploy.PLUGINS_KEY
    assert local["requirements_key"] == deploy.REQUIREMENTS_KEY
    assert local["startup_key"] == deploy.STARTUP_KEY
    for name in ("plugins", "requirements", "startup"):
        obj = resource("mwaa", "aws_s3_object", name)
        assert obj["metadata"] == {deploy.HASH_METADATA: obj["metadata"][deploy.HASH_METADATA]}, (
            "metadata key must be the deploy command's HASH_METADATA"
        )
    assert variable_default("glue", "scripts_prefix") == deploy.GLUE_PREFIX
    platform = {k: v for e in parse_module("platform")["module"] for k, v in e.items()}
    assert platform["mwaa"]["startup_script_file"] == (
        "${local.repo_root}/" + deploy.STARTUP_SCRIPT.as_posix()
    )


def test_deploy_owns_object_versions_after_bootstrap():
    env = resource("mwaa", "aws_mwaa_environment", "this")
    ignored = env["lifecycle"][0]["ignore_changes"]
    assert sorted(ignored) == sorted(
        [
            "${plugins_s3_object_version}",
            "${requirements_s3_object_version}",
            "${startup_script_s3_object_version}",
        ]
    ) or sorted(ignored) == sorted(
        [
            "plugins_s3_object_version",
            "requirements_s3_object_version",
            "startup_script_s3_object_version",
        ]
    )


def test_mwaa_environment_reads_connections_and_variables_from_secrets_manager():
    env = resource("mwaa", "aws_mwaa_environment", "this")
    options = env["airflow_configuration_options"]
    assert options["secrets.backend"] == (
        "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    )
    assert options["dwh.target"] == "aws"
    assert variable_default("mwaa", "variables_prefix") == "airflow/variables"
    assert variable_default("mwaa", "connections_prefix") == "airflow/connections"

    variables = locals_of("mwaa")["variables"]
    for name in (
        "dwh_resource_prefix",
        "dwh_raw_uri",
        "dwh_processed_uri",
        "dwh_glue_database",
        "dwh_glue_processed_database",
        "dwh_redshift_copy_role_arn",
        "dwh_redshift_cluster_id",
        "dwh_redshift_database",
        "dwh_redshift_secret_arn",
        "dwh_alert_topic_arn",
    ):
        assert name in variables, name
    connections = locals_of("mwaa")["connections"]
    assert set(connections) >= {"aws_default", "redshift_default"}
    assert connections["redshift_default"]["conn_type"] == "redshift"
    slack = resource("mwaa", "aws_secretsmanager_secret", "slack")
    assert slack["name"] == "${var.connections_prefix}/slack_alerts"


def test_every_module_in_use_has_its_folder():
    for path in tf_files():
        doc = parse_hcl(path)
        for entry in doc.get("module", []):
            for name, body in entry.items():
                target = (path.parent / body["source"]).resolve()
                assert (target / "main.tf").is_file(), f"{path}: module {name} -> {target}"


# QuickSight input type of each Redshift column type (sqlglot's DataType names).
QUICKSIGHT_TYPES = {
    "VARCHAR": "STRING",
    "CHAR": "STRING",
    "TEXT": "STRING",
    "SMALLINT": "INTEGER",
    "INT": "INTEGER",
    "BIGINT": "INTEGER",
    "DECIMAL": "DECIMAL",
    "DOUBLE": "DECIMAL",
    "FLOAT": "DECIMAL",
    "DATE": "DATETIME",
    "TIMESTAMP": "DATETIME",
    "BOOLEAN": "BOOLEAN",
}
TABLE_TYPES: dict[str, dict] = {}


def _mart_relations() -> dict[str, list[str]]:
    """Columns of every mart.* relation the SQL defines: views (their select list), tables
    (their definition) and tables filled by insert (their column list)."""
    import sqlglot
    from sqlglot import exp

    created: dict[str, list[str]] = {}
    inserted: dict[str, list[str]] = {}
    from dwh.sql import SAMPLE_CONTEXT, render, split_statements

    for path in sorted((REPO_ROOT / "include" / "sql").rglob("*.sql")):
        text = path.read_text()
        if "mart." not in text:
            continue
        for sql in split_statements(render(text, SAMPLE_CONTEXT)):
            if not re.search(r"\b(create|insert)\b[^;]*\bmart\.", sql, re.I | re.S):
                continue
            statement = sqlglot.parse_one(sql, read="redshift")
            if isinstance(statement, exp.Create) and statement.kind in ("VIEW", "TABLE"):
                target = statement.this
                table = target if isinstance(target, exp.Table) else target.find(exp.Table)
                if table is None or table.db != "mart":
                    continue
                if statement.kind == "VIEW":
                    created[table.name] = statement.expression.named_selects
                elif isinstance(target, exp.Schema):
                    defs = [c for c in target.expressions if isinstance(c, exp.ColumnDef)]
                    created[table.name] = [c.name for c in defs]
                    TABLE_TYPES[table.name] = {c.name: c.args["kind"].this for c in defs}
            elif isinstance(statement, exp.Insert):
                target = statement.this
                table = target if isinstance(target, exp.Table) else target.find(exp.Table)
                if table is not None and table.db == "mart" and isinstance(target, exp.Schema):
                    inserted[table.name] = [c.name for c in target.expressions]
    return {**inserted, **created}


def test_quicksight_datasets_cover_the_four_dashboards_with_existing_mart_views():
    datasets = variable_default("quicksight", "datasets")
    views = _mart_relations()
    assert views, "include/sql defines no mart.* relation"
    for prefix in ("executive_", "customer_", "product_", "operational_"):
        assert any(d["view"].startswith(prefix) for d in datasets.values()), prefix
    for key, dataset in datasets.items():
        assert dataset["view"] in views, f"dataset {key}: no relation mart.{dataset['view']}"
        columns = [c["name"] for c in dataset["columns"]]
        assert columns == views[dataset["view"]], (
            f"dataset {key}: columns differ from mart.{dataset['view']} "
            "(update infra/modules/quicksight/variables.tf)"
        )
        for column in dataset["columns"]:
            sql_type = TABLE_TYPES.get(dataset["view"], {}).get(column["name"])
            if sql_type is not None:
                assert QUICKSIGHT_TYPES[sql_type.name] == column["type"], (key, column)


def test_environments_differ_only_in_settings():
    dev = parse_hcl(INFRA / "envs" / "dev" / "main.tf")["module"][0]["platform"]
    prod = parse_hcl(INFRA / "envs" / "prod" / "main.tf")["module"][0]["platform"]
    assert dev["source"] == prod["source"] == "../../modules/platform"
    assert dev["force_destroy"] is True and prod["force_destroy"] is False
    assert prod["enable_backup"] is True and prod["enable_replication"] is True
    for env in ("dev", "prod"):
        backend = parse_hcl(INFRA / "envs" / env / "versions.tf")["terraform"][0]["backend"][0]
        assert backend["s3"]["key"] == f"dwh/{env}/terraform.tfstate"
        assert backend["s3"]["use_lockfile"] is True


@pytest.mark.slow
def test_checkov_passes_offline_with_every_skip_explained():
    if not CHECKOV.exists():
        pytest.skip(
            "checkov is not installed: python3 -m venv .venv-checkov && "
            ".venv-checkov/bin/pip install -r requirements-checkov.txt"
        )
    env = {**os.environ, **CHECKOV_ENV}
    done = subprocess.run(
        [str(CHECKOV), "--config-file", "infra/.checkov.yaml", "--compact", "-o", "cli"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = re.search(r"Passed checks: (\d+), Failed checks: (\d+)", done.stdout)
    assert summary and int(summary.group(2)) == 0, done.stdout[-2000:]


def test_every_checkov_skip_carries_a_reason():
    skips = []
    for path in tf_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "checkov:skip" in line:
                m = re.search(r"#checkov:skip=(CKV2?_[A-Z]+_\d+):(.{15,})$", line.strip())
                assert m, f"{path.relative_to(INFRA)}:{number}: skip without a reason: {line}"
                skips.append(m.group(1))
    assert skips, "expected explained skips"


def test_startup_script_is_valid_bash_and_derives_paths_from_airflow_home():
    script = REPO_ROOT / deploy.STARTUP_SCRIPT
    bash = shutil.which("bash")
    assert subprocess.run([bash, "-n", str(script)]).returncode == 0
    text = script.read_text()
    assert 'DWH_INCLUDE_DIR="${AIRFLOW_HOME}/dags/include"' in text
    assert "/usr/local/airflow" not in text
    env = {"AIRFLOW_HOME": "/opt/af", "PATH": os.environ["PATH"]}
    done = subprocess.run(
        [bash, "-c", f'source "{script}" && echo "$DWH_INCLUDE_DIR|$PYTHONPATH"'],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == "/opt/af/dags/include|/opt/af/dags/include/glue"


def test_one_orchestrator_is_scheduled_by_default():
    """Airflow runs every pipeline on its schedule; the Step Functions twin must not as well."""

    found = {}
    for path in sorted(INFRA.rglob("variables.tf")):
        for entry in parse_hcl(path).get("variable", []):
            for name, body in entry.items():
                if name in ("stepfunctions_schedule_state", "schedule_state"):
                    found[f"{path.relative_to(INFRA)}:{name}"] = body.get("default")
    assert len(found) >= 3, found
    assert set(found.values()) == {"DISABLED"}, found


def test_quicksight_can_decrypt_the_warehouse_secret():
    """The BI user's secret is encrypted with the environment's key: QuickSight's Secrets Manager
    role must be allowed kms:Decrypt on that key (through Secrets Manager, for that secret only),
    before the data source that reads the secret is created."""
    grant = resource("quicksight", "aws_iam_role_policy", "secrets_key")
    assert grant["role"] == "${var.secrets_role_name}"
    assert grant["policy"] == "${data.aws_iam_policy_document.secrets_key.json}"
    statements = resource("quicksight", "aws_iam_policy_document", "secrets_key", "data")[
        "statement"
    ]
    (statement,) = [s for s in statements if s["actions"] == ["kms:Decrypt"]]
    assert statement["resources"] == ["${var.kms_key_arn}"]
    conditions = {c["variable"]: c["values"] for c in statement["condition"]}
    assert conditions == {
        "kms:ViaService": ["secretsmanager.${local.region}.amazonaws.com"],
        "kms:EncryptionContext:SecretARN": ["${var.redshift_secret_arn}"],
    }
    source = resource("quicksight", "aws_quicksight_data_source", "redshift")
    assert "${aws_iam_role_policy.secrets_key}" in str(source.get("depends_on"))
    platform = module_blocks(parse_module("platform"))
    assert platform["quicksight"]["kms_key_arn"] == platform["redshift"]["kms_key_arn"]


def test_the_airflow_version_is_one_variable_refusing_unsupported_values():
    """The environment's Airflow version is one variable whose validation admits only the
    versions infra/README.md supports, the first of which is the one the code is built for."""
    (variable,) = [
        e["airflow_version"] for e in parse_module("mwaa")["variable"] if "airflow_version" in e
    ]
    (validation,) = variable["validation"]
    supported = re.findall(r'"([\d.]+)"', validation["condition"])
    assert supported == [versions.AIRFLOW] and variable["default"] == versions.AIRFLOW
    readme = (INFRA / "README.md").read_text()
    section = readme.split("## Airflow versions", 1)[1].split("\n## ", 1)[0]
    assert all(f"Airflow {v}" in section for v in supported)
