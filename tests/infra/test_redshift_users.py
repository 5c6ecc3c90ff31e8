"""The workloads log in to Redshift as their own users, never as the admin.

Read from the Terraform of infra/modules (HCL parsed as in test_terraform_static.py) and from the
admin SQL Terraform runs (infra/modules/redshift/sql/users_and_grants.sql), split into steps by
Terraform itself: Airflow's connection and Data API secret and Step Functions' secret are the ETL
user's, QuickSight's is the BI user's; IAM lets MWAA ask for credentials of the ETL user only;
the ETL user owns the four schemas it loads; the BI user gets select on mart and nothing else;
no password is ever in SQL text.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from infra_support import MODULES, blocks, locals_of, module_blocks, parse_hcl, parse_module

from dwh_tools.rehearsal import infra_values

USERS_TF = MODULES / "redshift" / "users.tf"
ADMIN_SQL = MODULES / "redshift" / "sql" / "users_and_grants.sql"
NAMES = {"etl_user": "dwh_etl", "bi_user": "dwh_bi", "database": "dwh"}
SCHEMAS = ("staging", "dw", "ops", "mart")
STEPS = ["users", "password", "schemas", "owners", "database", "grants", "lockdown"]


def variable(module: str, name: str) -> dict:
    for entry in parse_module(module).get("variable", []):
        if name in entry:
            return entry[name]
    raise AssertionError(f"variable {name} not found in infra/modules/{module}")


def outputs(module: str) -> dict[str, str]:
    return {n: b["value"] for e in parse_module(module).get("output", []) for n, b in e.items()}


def platform() -> tuple[dict, dict]:
    doc = parse_hcl(MODULES / "platform" / "main.tf")
    merged = {}
    for entry in doc.get("locals", []):
        merged.update(entry)
    return module_blocks(doc), merged


# --- who logs in as whom ----------------------------------------------------------------


def test_the_three_users_are_different():
    defaults = {
        n: variable("redshift", n)["default"]
        for n in ("admin_username", "etl_username", "bi_username")
    }
    assert len(set(defaults.values())) == 3, defaults
    out = outputs("redshift")
    assert 'aws_secretsmanager_secret.user["etl"].arn' in out["etl_secret_arn"]
    assert 'aws_secretsmanager_secret.user["bi"].arn' in out["bi_secret_arn"]
    assert "master_password_secret_arn" not in out["etl_secret_arn"] + out["bi_secret_arn"]


def test_airflow_and_step_functions_get_the_etl_user_and_quicksight_the_bi_user():
    modules, locals_ = platform()
    redshift = locals_["redshift"]
    assert "admin_username" not in redshift and "secret_arn" not in redshift
    assert redshift["etl_username"] == "${module.redshift.etl_username}"
    assert redshift["etl_secret_arn"] == "${module.redshift.etl_secret_arn}"
    assert modules["mwaa"]["redshift"] == "${local.redshift}"
    assert modules["orchestration"]["redshift"] == "${local.redshift}"
    assert modules["quicksight"]["redshift_secret_arn"] == "${module.redshift.bi_secret_arn}"


def test_the_mwaa_connection_and_variable_name_the_etl_user_and_its_secret():
    mwaa = locals_of("mwaa")
    extra = mwaa["redshift_extra"]
    # One db_user per branch (serverless, provisioned), both the ETL user.
    assert re.findall(r"db_user = ([\w.]+)", extra) == ["var.redshift.etl_username"] * 2
    assert "admin" not in extra
    assert mwaa["connections"]["redshift_default"]["login"] == "${var.redshift.etl_username}"
    variables = mwaa["variables"]
    assert "dwh_redshift_secret_arn = var.redshift.etl_secret_arn" in variables


def test_the_state_machines_read_the_etl_secret():
    config = locals_of("orchestration")["execution_config"]
    assert config["redshift_secret_arn"] == "${var.redshift.etl_secret_arn}"


def _statement(module: str, document: str, sid: str) -> dict:
    for type_, name, body in blocks(parse_module(module), "data"):
        if (type_, name) == ("aws_iam_policy_document", document):
            found = list(body.get("statement", []))
            for dynamic in body.get("dynamic", []):
                if "statement" in dynamic:
                    found += dynamic["statement"].get("content", [])
            for st in found:
                if st.get("sid") == sid:
                    return st
    raise AssertionError(f"{module}: {document} has no statement {sid}")


def test_iam_gives_cluster_credentials_of_the_etl_user_only():
    st = _statement("mwaa", "execution", "ConnectToClusterWithIam")
    users = [r for r in st["resources"] if ":dbuser:" in r]
    assert users == [
        "arn:${local.partition}:redshift:${local.region}:${local.account_id}:dbuser:"
        "${var.redshift.cluster_id}/${var.redshift.etl_username}"
    ]
    secrets = _statement("mwaa", "execution", "ReadBackendSecrets")["resources"]
    assert "var.redshift.etl_secret_arn" in secrets and "admin" not in secrets
    machine = _statement("orchestration", "state_machine", "ReadWarehouseSecret")
    assert machine["resources"] == ["${var.redshift.etl_secret_arn}"]


def test_quicksight_reads_and_decrypts_the_bi_secret_only():
    read = _statement("quicksight", "secrets_key", "ReadTheBiSecret")
    assert read["resources"] == ["${var.redshift_secret_arn}"]
    decrypt = _statement("quicksight", "secrets_key", "DecryptTheBiSecret")
    contexts = {c["variable"]: c["values"] for c in decrypt["condition"]}
    assert contexts["kms:EncryptionContext:SecretARN"] == ["${var.redshift_secret_arn}"]


# --- the admin SQL ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def steps(terraform) -> dict[str, list[str]]:
    """The statements per step, as Terraform's own expression in users.tf splits the file."""
    text = ADMIN_SQL.read_text()
    for name, value in NAMES.items():
        text = text.replace("${" + name + "}", value)
    assert "${" not in text, "users_and_grants.sql reads a template variable the test does not know"
    got = infra_values.evaluate(
        {"admin_steps": (USERS_TF, "admin_steps")}, {}, {"admin_sql": text}
    )["admin_steps"]
    return {step: [" ".join(s.lower().split()) for s in sql] for step, sql in got.items()}


def test_every_step_of_the_file_runs_in_order(steps):
    in_file = re.findall(r"(?m)^-- step: (\w+)$", ADMIN_SQL.read_text())
    assert in_file == [s for s in STEPS if s != "password"] and sorted(steps) == sorted(in_file)
    resources = {n: b for t, n, b in blocks(parse_module("redshift"), "resource")
                 if t == "aws_redshiftdata_statement"}  # fmt: skip
    assert sorted(resources) == sorted(STEPS)
    for before, step in zip(STEPS, STEPS[1:], strict=False):
        assert resources[step]["depends_on"] == [f"${{aws_redshiftdata_statement.{before}}}"], step
    for step in steps:
        assert f'local.admin_steps["{step}"]' in resources[step]["for_each"], step
    for body in resources.values():
        assert body["secret_arn"] == "${local.admin_secret_arn}"


def test_the_etl_user_owns_the_four_schemas(steps):
    for schema in SCHEMAS:
        assert f"create schema if not exists {schema} authorization dwh_etl" in steps["schemas"]
        assert f"alter schema {schema} owner to dwh_etl" in steps["owners"]


def test_the_bi_user_gets_select_on_mart_and_nothing_else(steps):
    statements = [s for sql in steps.values() for s in sql]
    bi = [s for s in statements if re.search(r"\bdwh_bi\b", s)]
    grants = [s for s in bi if s.startswith(("grant", "alter default privileges"))]
    assert sorted(grants) == sorted(
        [
            "grant usage on schema mart to dwh_bi",
            "grant select on all tables in schema mart to dwh_bi",
            "alter default privileges for user dwh_etl in schema mart grant select on tables to dwh_bi",
        ]
    )
    others = sorted(set(bi) - set(grants))
    assert others == [
        "create user dwh_bi password disable",
        "revoke all on database dwh from dwh_bi",
        "revoke all on schema public from dwh_bi",
    ]
    # What PUBLIC (and so the BI user) had by default is taken away; the ETL user keeps its own.
    assert "revoke create on schema public from public" in statements
    assert "revoke temp on database dwh from public" in statements
    assert "grant create, temp on database dwh to dwh_etl" in statements
    assert not [s for s in statements if re.search(r"\bto public\b", s)]


def test_no_password_is_in_the_sql(steps):
    text = ADMIN_SQL.read_text()
    for statement in (s for sql in steps.values() for s in sql):
        for found in re.finditer(r"\bpassword\b\s*(\S*)", statement):
            assert found[1] == "disable", statement
    assert not re.search(r"'[^']*'", re.sub(r"(?m)--.*$", "", text)), "a literal in the admin SQL"


def test_terraform_sets_the_password_in_md5_form_only(terraform):
    users_tf = USERS_TF.read_text()
    password = re.search(
        r'resource "aws_redshiftdata_statement" "password" \{.*?\n\}', users_tf, re.S
    )
    sql = re.search(r"^\s*sql\s*=\s*(.*)$", password[0], re.M)[1]
    assert sql == "\"alter user ${each.value} password '${local.password_md5[each.key]}'\""
    expression = infra_values.expression(USERS_TF, "password_md5")
    assert "random_password.user[k].result" in expression
    # Terraform evaluates the same expression with a known password in random_password's place.
    clear = {"etl": "Clear-Text-1", "bi": "Clear-Text-2"}
    users = {"etl": "dwh_etl", "bi": "dwh_bi"}
    swapped = expression.replace("random_password.user[k].result", "local.clear[k]")
    done = _evaluate_text({"password_md5": swapped}, {"clear": clear, "users": users})
    for k, user in users.items():
        expected = "md5" + hashlib.md5(f"{clear[k]}{user}".encode()).hexdigest()
        assert done["password_md5"][k] == expected


def _evaluate_text(expressions: dict[str, str], local_values: dict) -> dict:
    """infra_values.evaluate for expression text (here: one with its input swapped)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, text in expressions.items():
            path = Path(tmp) / f"{name}.tf"
            path.write_text(f"{name} = {text}\n")
            files[name] = (path, name)
        return infra_values.evaluate(files, {}, local_values)
