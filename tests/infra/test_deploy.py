"""The deploy command end to end against moto's S3 (versioned buckets).

moto 5.2.5 does not implement MWAA (GetEnvironment and UpdateEnvironment answer 404 "Not yet
implemented"), so the MWAA client is a real botocore client under botocore.stub.Stubber: every
call must be one the test expects, with the parameters it expects, and an unexpected call (a
second UpdateEnvironment, say) fails the test.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.stub import ANY, Stubber
from infra_support import REPO_ROOT
from moto import mock_aws

from dwh_tools import deploy

REGION = "eu-west-1"
MWAA_BUCKET = "airflow-dwh-test-bucket"
SCRIPTS_BUCKET = "dwh-test-scripts"
ENVIRONMENT = "dwh-test-airflow"
ENV_ARN = f"arn:aws:airflow:{REGION}:123456789012:environment/{ENVIRONMENT}"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        for bucket in (MWAA_BUCKET, SCRIPTS_BUCKET):
            client.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
            client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        yield client


@pytest.fixture
def mwaa():
    client = botocore.session.get_session().create_client("mwaa", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    write(root / "dags" / "ecommerce_dwh.py", "from dwh.compile_airflow import dag_for_file\n")
    write(root / "dags" / ".airflowignore", "include/\n")
    write(root / "include" / "pipelines" / "ecommerce_dwh.yaml", "pipeline: ecommerce_dwh\n")
    write(root / "include" / "sql" / "dw" / "dim_customer.sql", "select 1;\n")
    write(root / "include" / "sql" / "dw" / "dim_product.sql", "select 2;\n")
    write(root / "include" / "glue" / "clean_entity.py", "ENTITY = 'orders'\n")
    write(root / "include" / "glue" / "olist_contract.py", "ENTITIES = {}\n")
    write(root / "plugins" / ".airflowignore", "dwh/\n")
    write(root / "plugins" / "dwh" / "__init__.py", "")
    write(root / "plugins" / "dwh" / "config.py", "TARGET = 'aws'\n")
    (root / "plugins" / "dwh" / "__pycache__").mkdir()
    (root / "plugins" / "dwh" / "__pycache__" / "config.cpython-312.pyc").write_bytes(b"\0")
    write(root / "requirements.txt", "apache-airflow-providers-slack==9.11.1\n")
    write(root / "infra" / "mwaa" / "startup.sh", "#!/usr/bin/env bash\nexport A=1\n")
    return root


def environment(status="AVAILABLE", versions: dict | None = None) -> dict:
    env = {"Name": ENVIRONMENT, "Arn": ENV_ARN, "Status": status}
    for parameter, (key, version) in (versions or {}).items():
        env[f"{parameter}S3Path"] = key
        env[f"{parameter}S3ObjectVersion"] = version
    return {"Environment": env}


def expect_get(stubber, status="AVAILABLE", versions=None):
    stubber.add_response("get_environment", environment(status, versions), {"Name": ENVIRONMENT})


def expect_update(stubber):
    params = {"Name": ENVIRONMENT}
    for parameter in ("Plugins", "Requirements", "StartupScript"):
        params[f"{parameter}S3Path"] = ANY
        params[f"{parameter}S3ObjectVersion"] = ANY
    stubber.add_response("update_environment", {"Arn": ENV_ARN}, params)


def run(repo, s3, mwaa_client, lines=None, **kwargs):
    return deploy.deploy(
        mwaa_bucket=MWAA_BUCKET,
        scripts_bucket=SCRIPTS_BUCKET,
        environment=ENVIRONMENT,
        repo_root=repo,
        s3=s3,
        mwaa=mwaa_client,
        out=(lines.append if lines is not None else lambda line: None),
        **kwargs,
    )


def keys(s3, bucket) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def running_versions(report) -> dict:
    """The (key, version) per artifact an environment runs after the update in ``report``."""
    update = report.environment_update
    return {
        p: (update[f"{p}S3Path"], update[f"{p}S3ObjectVersion"])
        for p in ("Plugins", "Requirements", "StartupScript")
    }


def first_deploy(repo, s3, mwaa):
    client, stubber = mwaa
    expect_get(stubber)
    expect_update(stubber)
    return run(repo, s3, client)


def test_first_deploy_uploads_everything_and_updates_the_environment_once(repo, s3, mwaa):
    report = first_deploy(repo, s3, mwaa)

    assert keys(s3, MWAA_BUCKET) == {
        "dags/ecommerce_dwh.py",
        "dags/.airflowignore",
        "dags/include/pipelines/ecommerce_dwh.yaml",
        "dags/include/sql/dw/dim_customer.sql",
        "dags/include/sql/dw/dim_product.sql",
        "dags/include/glue/clean_entity.py",
        "dags/include/glue/olist_contract.py",
        "plugins.zip",
        "requirements.txt",
        "startup.sh",
    }
    assert keys(s3, SCRIPTS_BUCKET) == {"glue/clean_entity.py", "glue/olist_contract.py"}

    plugins = s3.get_object(Bucket=MWAA_BUCKET, Key="plugins.zip")["Body"].read()
    assert sorted(zipfile.ZipFile(io.BytesIO(plugins)).namelist()) == [
        ".airflowignore",
        "dwh/__init__.py",
        "dwh/config.py",
    ]
    running = running_versions(report)
    for parameter, key in (
        ("Plugins", "plugins.zip"),
        ("Requirements", "requirements.txt"),
        ("StartupScript", "startup.sh"),
    ):
        head = s3.head_object(Bucket=MWAA_BUCKET, Key=key)
        assert running[parameter] == (key, head["VersionId"])
        assert head["Metadata"][deploy.HASH_METADATA]
    req = s3.head_object(Bucket=MWAA_BUCKET, Key="requirements.txt")
    assert req["Metadata"][deploy.HASH_METADATA] == deploy.sha256(
        (repo / "requirements.txt").read_bytes()
    )


def test_a_dag_only_change_syncs_the_dags_folder_without_an_environment_update(repo, s3, mwaa):
    client, stubber = mwaa
    running = running_versions(first_deploy(repo, s3, mwaa))

    write(repo / "dags" / "ecommerce_dwh.py", "# changed\n")
    (repo / "include" / "sql" / "dw" / "dim_product.sql").unlink()
    expect_get(stubber, versions=running)  # no update_environment stubbed: a call would fail
    lines: list[str] = []
    report = run(repo, s3, client, lines)

    assert report.environment_update is None
    assert report.uploaded == [f"s3://{MWAA_BUCKET}/dags/ecommerce_dwh.py"]
    assert report.deleted == [f"s3://{MWAA_BUCKET}/dags/include/sql/dw/dim_product.sql"]
    assert "dags/include/sql/dw/dim_product.sql" not in keys(s3, MWAA_BUCKET)
    body = s3.get_object(Bucket=MWAA_BUCKET, Key="dags/ecommerce_dwh.py")["Body"].read()
    assert body == b"# changed\n"
    assert any("plugins.zip, requirements.txt and startup.sh unchanged" in x for x in lines)


def test_a_requirements_change_updates_the_environment_once_with_the_new_version(repo, s3, mwaa):
    client, stubber = mwaa
    before = running_versions(first_deploy(repo, s3, mwaa))

    write(repo / "requirements.txt", "apache-airflow-providers-slack==9.11.1\nrequests==2.32.5\n")
    expect_get(stubber, versions=before)
    expect_update(stubber)
    report = run(repo, s3, client)

    after = running_versions(report)
    new_version = s3.head_object(Bucket=MWAA_BUCKET, Key="requirements.txt")["VersionId"]
    assert after["Requirements"] == ("requirements.txt", new_version)
    assert new_version != before["Requirements"][1]
    assert after["Plugins"] == before["Plugins"]
    assert after["StartupScript"] == before["StartupScript"]
    assert report.uploaded == [f"s3://{MWAA_BUCKET}/requirements.txt"]
    versions = s3.list_object_versions(Bucket=MWAA_BUCKET, Prefix="requirements.txt")
    assert len(versions["Versions"]) == 2


def test_an_environment_left_on_old_versions_is_brought_up_to_date(repo, s3, mwaa):
    """A previous update failed after the upload: the bucket is current, the environment is not."""
    client, stubber = mwaa
    running = running_versions(first_deploy(repo, s3, mwaa))
    stale = {**running, "Requirements": ("requirements.txt", "an-older-version")}
    expect_get(stubber, status="UPDATE_FAILED", versions=stale)
    expect_update(stubber)
    report = run(repo, s3, client)
    assert report.uploaded == []
    assert running_versions(report) == running


def make_zip(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in entries.items():
            zf.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            {".airflowignore": "dwh/", "plugins/dwh/__init__.py": "", "plugins/dwh/config.py": ""},
            "dwh/__init__.py is not at the zip root (found under plugins/): zip the contents "
            "of plugins/, not the plugins folder itself",
        ),
        (
            {
                ".airflowignore": "dwh/",
                "dwh/__init__.py": "",
                "dwh/__pycache__/config.cpython-312.pyc": "",
            },
            "it holds bytecode caches (dwh/__pycache__/config.cpython-312.pyc)",
        ),
        (
            {
                ".airflowignore": "dwh/",
                "dwh/__init__.py": "",
                "dwh/tests/test_config.py": "",
                "dwh/conftest.py": "",
            },
            "it holds tests (dwh/tests/test_config.py, dwh/conftest.py); tests stay out of plugins/",
        ),
        (
            {"dwh/__init__.py": "", "dwh/config.py": ""},
            "its .airflowignore does not list dwh/: Airflow's plugin manager would import every "
            "module of the package as a top-level plugin (config, graph, ...)",
        ),
    ],
    ids=["nested", "pycache", "tests", "no-airflowignore"],
)
def test_a_plugins_zip_with_a_wrong_layout_is_refused_before_anything_is_written(
    repo, s3, mwaa, tmp_path, entries, message
):
    client, _ = mwaa  # no MWAA call is expected either
    bad = tmp_path / "plugins.zip"
    bad.write_bytes(make_zip(entries))
    with pytest.raises(deploy.DeployError) as error:
        run(repo, s3, client, plugins_zip=bad)
    assert str(error.value) == f"{bad} refused: {message}"
    assert keys(s3, MWAA_BUCKET) == set() and keys(s3, SCRIPTS_BUCKET) == set()


def test_tests_inside_plugins_are_refused_when_building(repo, s3, mwaa):
    client, _ = mwaa
    write(repo / "plugins" / "dwh" / "tests" / "test_x.py", "")
    with pytest.raises(deploy.DeployError, match=r"it holds tests \(dwh/tests/test_x.py\)"):
        run(repo, s3, client)


def test_a_busy_environment_is_refused_before_anything_is_written(repo, s3, mwaa):
    client, stubber = mwaa
    expect_get(stubber, status="UPDATING")
    with pytest.raises(deploy.DeployError, match="dwh-test-airflow is UPDATING; deploy again"):
        run(repo, s3, client)
    assert keys(s3, MWAA_BUCKET) == set()


def test_dry_run_prints_the_plan_and_writes_nothing(repo, s3, mwaa):
    client, stubber = mwaa
    expect_get(stubber)
    lines: list[str] = []
    report = run(repo, s3, client, lines, dry_run=True)
    assert keys(s3, MWAA_BUCKET) == set() and keys(s3, SCRIPTS_BUCKET) == set()
    assert f"would upload s3://{MWAA_BUCKET}/plugins.zip (new)" in lines
    assert f"would upload s3://{SCRIPTS_BUCKET}/glue/clean_entity.py (new)" in lines
    assert f"would upload s3://{MWAA_BUCKET}/dags/include/sql/dw/dim_customer.sql (new)" in lines
    assert lines[-1] == (
        f"would update MWAA environment {ENVIRONMENT} (plugins.zip, requirements.txt, startup.sh)"
    )
    assert report.dry_run and report.environment_update["Name"] == ENVIRONMENT


def test_wait_follows_the_update_until_the_environment_is_available(repo, s3, mwaa):
    client, stubber = mwaa
    expect_get(stubber)
    expect_update(stubber)
    expect_get(stubber, status="UPDATING")
    expect_get(stubber, status="AVAILABLE")
    lines: list[str] = []
    sleeps: list[float] = []
    run(repo, s3, client, lines, wait=True, sleep=sleeps.append)
    assert sleeps == [30]
    assert lines[-2:] == [
        f"environment {ENVIRONMENT} is UPDATING; waiting",
        f"environment {ENVIRONMENT} is AVAILABLE",
    ]


def test_main_takes_names_from_the_environment_and_dry_runs(repo, s3, mwaa, monkeypatch, capsys):
    client, stubber = mwaa
    expect_get(stubber)

    class Session:
        def __init__(self, region_name=None):
            self.region_name = region_name

        def client(self, name):
            return {"s3": s3, "mwaa": client}[name]

    monkeypatch.setattr(boto3, "Session", Session)
    monkeypatch.setenv("DWH_MWAA_BUCKET", MWAA_BUCKET)
    monkeypatch.setenv("DWH_SCRIPTS_BUCKET", SCRIPTS_BUCKET)
    monkeypatch.setenv("DWH_MWAA_ENVIRONMENT", ENVIRONMENT)
    assert deploy.main(["--dry-run", "--repo-root", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "plan: 12 to upload, 0 to delete, 0 unchanged, environment update planned" in out
    assert keys(s3, MWAA_BUCKET) == set()


def test_main_names_what_is_missing(monkeypatch, capsys):
    for name in deploy.ENVIRONMENT_VARIABLES.values():
        monkeypatch.delenv(name, raising=False)
    assert deploy.main(["--mwaa-bucket", MWAA_BUCKET]) == 2
    err = capsys.readouterr().err
    assert "--scripts-bucket (or $DWH_SCRIPTS_BUCKET)" in err
    assert "--environment (or $DWH_MWAA_ENVIRONMENT)" in err


def test_the_repositorys_plugins_build_into_a_valid_plugins_zip():
    data = deploy.build_plugins_zip(REPO_ROOT / "plugins")
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "dwh/__init__.py" in names and "dwh/compile_airflow.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    deploy.check_plugins_zip(data, "plugins.zip")
    assert deploy.build_plugins_zip(REPO_ROOT / "plugins") == data  # same files, same bytes


def test_terraform_bootstraps_the_hashes_the_deploy_command_records(apply_module, repo):
    """Right after `terraform apply`, a deploy finds plugins, requirements and startup unchanged."""
    (repo / "plugins" / ".hidden").write_text("editor state")
    out = apply_module(
        "mwaa_artifacts",
        {
            "plugins_dir": repo / "plugins",
            "requirements_file": repo / "requirements.txt",
            "startup_script_file": repo / "infra" / "mwaa" / "startup.sh",
        },
    )
    built = {a.key: a for a in deploy.artifacts(repo)}
    assert out["plugin_files"] == deploy.plugin_files(repo / "plugins")
    assert out["plugin_files"] == [".airflowignore", "dwh/__init__.py", "dwh/config.py"]
    assert out["plugins_content_sha256"] == built["plugins.zip"].sha256
    assert out["requirements_sha256"] == built["requirements.txt"].sha256
    assert out["startup_script_sha256"] == built["startup.sh"].sha256


def test_terraform_bootstrap_refuses_tests_in_plugins(apply_module, repo):
    from infra_support import TerraformError

    write(repo / "plugins" / "dwh" / "tests" / "test_x.py", "")
    with pytest.raises(TerraformError, match="Tests do not belong in plugins.zip"):
        apply_module(
            "mwaa_artifacts",
            {
                "plugins_dir": repo / "plugins",
                "requirements_file": repo / "requirements.txt",
                "startup_script_file": repo / "infra" / "mwaa" / "startup.sh",
            },
        )
