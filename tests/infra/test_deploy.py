"""The deploy command end to end against moto's S3 (versioned buckets), on a git repository
built in tmp_path: only what git tracks ships.

moto 5.2.5 does not implement MWAA (GetEnvironment and UpdateEnvironment answer 404 "Not yet
implemented"), so the MWAA client is a real botocore client under botocore.stub.Stubber: every
call must be one the test expects, with the parameters it expects, and an unexpected call (a
second UpdateEnvironment, say) fails the test.
"""

from __future__ import annotations

import io
import os
import subprocess
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


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


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
    git(root, "init", "--quiet")
    git(root, "add", "--all")  # the index is what `git ls-files` lists: no commit needed
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
    git(repo, "add", "plugins")
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
    assert "would ship 14 files tracked by git:\n  plugins/.airflowignore -> s3://" in out
    assert f"  dags/ecommerce_dwh.py -> s3://{MWAA_BUCKET}/dags/ecommerce_dwh.py\n" in out
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


# --- only what git tracks ships ------------------------------------------------------------------


def shipped(s3) -> set[str]:
    return keys(s3, MWAA_BUCKET) | keys(s3, SCRIPTS_BUCKET)


def test_untracked_files_do_not_ship_and_are_named(repo, s3, mwaa):
    client, stubber = mwaa
    write(repo / "dags" / "scratch_dag.py", "# not committed\n")
    write(repo / "include" / "sql" / "dw" / "draft.sql", "select 3;\n")
    write(repo / "include" / "glue" / "wip_job.py", "# not committed\n")
    write(repo / "dags" / ".env", "AWS_SECRET_ACCESS_KEY=do-not-ship\n")  # untracked dotfile
    expect_get(stubber)
    expect_update(stubber)
    lines: list[str] = []
    run(repo, s3, client, lines)

    assert "dags/scratch_dag.py" not in keys(s3, MWAA_BUCKET)
    assert "dags/include/sql/dw/draft.sql" not in keys(s3, MWAA_BUCKET)
    assert "dags/include/glue/wip_job.py" not in keys(s3, MWAA_BUCKET)
    assert "glue/wip_job.py" not in keys(s3, SCRIPTS_BUCKET)
    assert "dags/.env" not in keys(s3, MWAA_BUCKET)
    assert "dags/ecommerce_dwh.py" in keys(s3, MWAA_BUCKET)  # tracked files still ship
    for name in ("dags/.env", "dags/scratch_dag.py", "include/sql/dw/draft.sql"):
        assert f"not shipped, not tracked by git: {name}" in lines


def test_a_tracked_dotfile_is_refused_by_name_before_anything_is_written(repo, s3, mwaa):
    client, _ = mwaa  # no MWAA call either
    write(repo / "dags" / ".env", "AWS_SECRET_ACCESS_KEY=do-not-ship\n")
    write(repo / "include" / "sql" / ".cache" / "notes.sql", "select 4;\n")
    git(repo, "add", "--force", "dags/.env", "include/sql/.cache/notes.sql")
    with pytest.raises(deploy.DeployError) as error:
        run(repo, s3, client)
    message = str(error.value)
    assert message.startswith("refusing to deploy: dags/.env is a dotfile")
    assert "include/sql/.cache/notes.sql is a dotfile" in message
    assert "git rm --cached" in message
    assert shipped(s3) == set()


@pytest.mark.parametrize(
    ("make_link", "named"),
    [
        (
            lambda root: os.symlink("../../secret.txt", root / "dags" / "linked.py"),
            "dags/linked.py",
        ),
        (lambda root: os.symlink("/etc", root / "include" / "sql" / "etc"), "include/sql/etc"),
    ],
    ids=["file", "folder"],
)
def test_a_tracked_symlink_is_refused_by_name(repo, s3, mwaa, tmp_path, make_link, named):
    client, _ = mwaa
    write(tmp_path / "secret.txt", "outside the repository\n")
    make_link(repo)
    git(repo, "add", named)
    with pytest.raises(deploy.DeployError) as error:
        run(repo, s3, client)
    assert str(error.value) == (
        f"refusing to deploy: {named} is a symbolic link; replace it by the file it points to"
    )
    assert shipped(s3) == set()


def test_a_shipped_folder_replaced_by_a_symlink_is_refused(repo, s3, mwaa, tmp_path):
    client, _ = mwaa
    outside = tmp_path / "elsewhere"
    (repo / "include" / "pipelines").rename(outside)
    os.symlink(outside, repo / "include" / "pipelines")
    with pytest.raises(deploy.DeployError, match="include/pipelines is a symbolic link"):
        run(repo, s3, client)
    assert shipped(s3) == set()


def test_an_untracked_symlink_does_not_ship(repo, s3, mwaa, tmp_path):
    client, stubber = mwaa
    write(tmp_path / "secret.txt", "outside the repository\n")
    os.symlink(tmp_path / "secret.txt", repo / "dags" / "linked.py")
    expect_get(stubber)
    expect_update(stubber)
    run(repo, s3, client)
    assert "dags/linked.py" not in keys(s3, MWAA_BUCKET)


def test_plugins_zip_holds_only_tracked_files(repo, s3, mwaa):
    write(repo / "plugins" / "dwh" / "scratch.py", "DEBUG = True\n")
    write(repo / "plugins" / "notes.txt", "untracked\n")
    names = zipfile.ZipFile(io.BytesIO(deploy.build_plugins_zip(repo / "plugins"))).namelist()
    assert sorted(names) == [".airflowignore", "dwh/__init__.py", "dwh/config.py"]
    assert deploy.plugin_files(repo / "plugins") == sorted(names)


def test_an_untracked_requirements_file_is_refused(repo, s3, mwaa):
    client, _ = mwaa
    git(repo, "rm", "--cached", "--quiet", "requirements.txt")
    with pytest.raises(deploy.DeployError) as error:
        run(repo, s3, client)
    assert str(error.value) == (
        "refusing to deploy: requirements.txt is not tracked by git; commit it "
        "(git add requirements.txt)"
    )


def test_outside_a_git_checkout_the_deploy_refuses(repo, s3, mwaa, tmp_path):
    client, _ = mwaa
    copy = tmp_path / "export"
    subprocess.run(["cp", "-r", str(repo), str(copy)], check=True)
    subprocess.run(["rm", "-rf", str(copy / ".git")], check=True)
    with pytest.raises(deploy.DeployError) as error:
        run(copy, s3, client)
    message = str(error.value)
    assert message.startswith(f"{copy} is not a git checkout (fatal: not a git repository")
    assert "dwh deploy ships only the files git tracks" in message
    assert shipped(s3) == set()


def test_a_folder_inside_another_checkout_is_refused(repo, s3, mwaa):
    client, _ = mwaa
    inner = repo / "vendor" / "copy"
    write(inner / "dags" / "x.py", "")
    with pytest.raises(deploy.DeployError, match=r"is not the top folder of a git checkout"):
        run(inner, s3, client)


def test_dry_run_lists_every_file_that_would_ship_and_where(repo, s3, mwaa):
    client, stubber = mwaa
    running = running_versions(first_deploy(repo, s3, mwaa))
    write(repo / "dags" / "scratch_dag.py", "# not committed\n")
    expect_get(stubber, versions=running)
    lines: list[str] = []
    run(repo, s3, client, lines, dry_run=True)

    mwaa_bucket, scripts = f"s3://{MWAA_BUCKET}", f"s3://{SCRIPTS_BUCKET}"
    listing = [
        f"  plugins/.airflowignore -> {mwaa_bucket}/plugins.zip (.airflowignore)",
        f"  plugins/dwh/__init__.py -> {mwaa_bucket}/plugins.zip (dwh/__init__.py)",
        f"  plugins/dwh/config.py -> {mwaa_bucket}/plugins.zip (dwh/config.py)",
        f"  requirements.txt -> {mwaa_bucket}/requirements.txt",
        f"  infra/mwaa/startup.sh -> {mwaa_bucket}/startup.sh",
        f"  include/glue/clean_entity.py -> {scripts}/glue/clean_entity.py",
        f"  include/glue/olist_contract.py -> {scripts}/glue/olist_contract.py",
        f"  dags/.airflowignore -> {mwaa_bucket}/dags/.airflowignore",
        f"  dags/ecommerce_dwh.py -> {mwaa_bucket}/dags/ecommerce_dwh.py",
        f"  include/glue/clean_entity.py -> {mwaa_bucket}/dags/include/glue/clean_entity.py",
        f"  include/glue/olist_contract.py -> {mwaa_bucket}/dags/include/glue/olist_contract.py",
        f"  include/pipelines/ecommerce_dwh.yaml -> "
        f"{mwaa_bucket}/dags/include/pipelines/ecommerce_dwh.yaml",
        f"  include/sql/dw/dim_customer.sql -> {mwaa_bucket}/dags/include/sql/dw/dim_customer.sql",
        f"  include/sql/dw/dim_product.sql -> {mwaa_bucket}/dags/include/sql/dw/dim_product.sql",
    ]
    # Every file is listed, unchanged ones too, and nothing untracked.
    assert lines[: len(listing) + 1] == ["would ship 14 files tracked by git:", *listing]
    assert "not shipped, not tracked by git: dags/scratch_dag.py" in lines
    assert not any("scratch_dag.py ->" in line for line in lines)
