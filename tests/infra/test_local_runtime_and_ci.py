"""docker-compose.yaml, the Dockerfiles and the GitHub workflows, checked as files (Docker and
GitHub do not run here): pinned versions, the folders mounted where MWAA has them, the
environment the dwh package reads, a UI on loopback behind a login with no AWS identity, OIDC
deploys per environment."""

from __future__ import annotations

import re

import pytest
import yaml
from infra_support import REPO_ROOT

from dwh import versions
from dwh_tools import deploy

OFFICIAL_IMAGE = f"apache/airflow:{versions.AIRFLOW}-python{versions.MWAA_PYTHON}"
# Astro Runtime 3.3-7 is the release carrying Apache Airflow 3.3.1.
ASTRO_RUNTIME = {"3.3.1": "3.3-7"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yaml").read_text())


def airflow_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if name.startswith("airflow-")}


def test_compose_builds_on_the_pinned_official_image(compose):
    services = airflow_services(compose)
    assert set(services) == {
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    }
    for name, service in services.items():
        assert service["build"]["args"]["AIRFLOW_IMAGE"] == OFFICIAL_IMAGE, name
        assert service["image"] == f"dwh-airflow-local:{versions.AIRFLOW}", name
        dockerfile = REPO_ROOT / service["build"]["dockerfile"]
        text = dockerfile.read_text()
        assert f"ARG AIRFLOW_IMAGE={OFFICIAL_IMAGE}" in text
        assert "openjdk-17-jre-headless" in text  # local PySpark
        assert "requirements-local.txt" in text
    assert compose["services"]["postgres"]["image"].startswith("postgres:")


def test_compose_mounts_the_folders_where_mwaa_has_them(compose):
    for name, service in airflow_services(compose).items():
        volumes = service["volumes"]
        assert "./dags:/opt/airflow/dags" in volumes, name
        assert "./include:/opt/airflow/dags/include" in volumes, name  # dags/include/ on MWAA
        assert "./plugins:/opt/airflow/plugins" in volumes, name
        assert "./tools:/opt/airflow/tools:ro" in volumes, name  # the local target and tooling
        env = service["environment"]
        assert env["DWH_INCLUDE_DIR"] == "/opt/airflow/dags/include"
        assert env["PYTHONPATH"] == "/opt/airflow/tools:/opt/airflow/dags/include/glue"


def test_compose_runs_the_local_target_only(compose):
    for service in airflow_services(compose).values():
        env = service["environment"]
        assert env["DWH_TARGET"] == "local"
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        # One signing key for every component, read from the volume airflow-init fills.
        assert env["AIRFLOW__API_AUTH__JWT_SECRET_CMD"] == "cat /opt/airflow/secrets/jwt_secret"


def _published_ports(service: dict) -> list[tuple[str, str]]:
    """(host address, port spec) of each published port, short or long syntax."""
    ports = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.append((str(port.get("host_ip", "")), str(port.get("published", ""))))
        else:
            parts = str(port).rsplit(":", 2)
            ports.append((parts[0] if len(parts) == 3 else "", str(port)))
    return ports


def test_compose_publishes_the_ui_on_loopback_only(compose):
    published = {name: _published_ports(service) for name, service in compose["services"].items()}
    assert published["airflow-apiserver"] == [("127.0.0.1", "127.0.0.1:8080:8080")]
    for name, ports in published.items():
        for host, spec in ports:
            assert host == "127.0.0.1", f"{name} publishes {spec} on every interface"


def test_compose_ui_needs_a_login_with_a_generated_password(compose):
    for name, service in airflow_services(compose).items():
        env = service["environment"]
        assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS" not in env, name
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".SimpleAuthManager"), name
        assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin", name
        # Generated into the mounted $DWH_HOME (.dwh/ on the host), where the user can read it.
        passwords = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
        assert passwords.startswith(env["DWH_HOME"] + "/"), name
    init = "\n".join(compose["services"]["airflow-init"]["command"])
    assert f"chmod 600 {passwords}" in init  # owner-only before Airflow writes into it


def test_compose_hands_no_aws_identity_to_the_containers(compose):
    text = (REPO_ROOT / "docker-compose.yaml").read_text()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.get("source", "") if isinstance(volume, dict) else volume.split(":")[0]
            assert ".aws" not in source, f"{name} mounts {source}"
        env = service.get("environment", {})
        aws = [k for k in env if k.startswith("AWS_") or k.startswith("AIRFLOW__SECRETS__")]
        assert aws == [], f"{name} passes {aws} through"
    assert "DWH_TARGET=aws" not in text  # no instructions to run the aws target from compose
    assert "~/.aws" not in text


def test_compose_paths_match_what_the_startup_script_sets_on_mwaa(compose):
    """Same relative layout: include/ inside the DAGs folder, glue scripts on the path."""
    startup = (REPO_ROOT / deploy.STARTUP_SCRIPT).read_text()
    assert 'DWH_INCLUDE_DIR="${AIRFLOW_HOME}/dags/include"' in startup
    env = compose["services"]["airflow-scheduler"]["environment"]
    assert env["DWH_INCLUDE_DIR"] == "/opt/airflow/dags/include"  # AIRFLOW_HOME=/opt/airflow


def test_astro_dockerfile_uses_the_runtime_carrying_the_pinned_airflow():
    text = (REPO_ROOT / "Dockerfile").read_text()
    tag = f"{ASTRO_RUNTIME[versions.AIRFLOW]}-python-{versions.MWAA_PYTHON}"
    assert re.search(rf"^FROM astrocrpublic\.azurecr\.io/runtime:{re.escape(tag)}$", text, re.M)
    assert "requirements-local.txt" in text
    packages = (REPO_ROOT / "packages.txt").read_text().split()
    assert "openjdk-17-jre-headless" in packages
    astro = yaml.safe_load((REPO_ROOT / ".astro" / "config.yaml").read_text())
    assert astro["project"]["name"]


def workflow(name: str) -> dict:
    doc = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc


def test_ci_runs_the_repository_entry_point_on_pull_requests():
    ci = workflow("ci.yml")
    assert "pull_request" in ci["on"]
    steps = ci["jobs"]["checks"]["steps"]
    assert any(s.get("run") == "bash .ci/run" for s in steps)
    assert ci["permissions"] == {"contents": "read"}
    infra = "\n".join(s.get("run", "") for s in ci["jobs"]["infrastructure"]["steps"])
    assert "terraform fmt -check -recursive infra" in infra
    assert "checkov --config-file infra/.checkov.yaml" in infra


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_each_environment_deploys_with_oidc_terraform_then_the_deploy_command(environment):
    caller = workflow(f"deploy-{environment}.yml")
    job = next(iter(caller["jobs"].values()))
    assert job["uses"] == "./.github/workflows/deploy.yml"
    assert job["with"]["environment"] == environment
    assert job["permissions"]["id-token"] == "write"

    deploy_wf = workflow("deploy.yml")
    assert "workflow_call" in deploy_wf["on"]
    body = deploy_wf["jobs"]["deploy"]
    assert body["environment"] == "${{ inputs.environment }}"
    assert body["env"]["TF_DIR"] == "infra/envs/${{ inputs.environment }}"
    steps = body["steps"]
    creds = next(s for s in steps if str(s.get("uses", "")).startswith("aws-actions/"))
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    runs = [s.get("run", "") for s in steps]
    order = [
        next(i for i, r in enumerate(runs) if "plan -out=tfplan" in r),
        next(i for i, r in enumerate(runs) if "apply tfplan" in r),
        next(i for i, r in enumerate(runs) if "python -m dwh_tools.deploy" in r),
    ]
    assert order == sorted(order)
    outputs = next(r for r in runs if "DWH_MWAA_BUCKET" in r)
    for variable in deploy.ENVIRONMENT_VARIABLES.values():
        assert variable in outputs
    assert (REPO_ROOT / "infra" / "envs" / environment / "main.tf").is_file()


WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
RELEASE_COMMENT = re.compile(r"uses:\s*(\S+)\s+#\s*v\d+\.\d+\.\d+\s*$", re.M)


def all_uses(doc: dict) -> list[str]:
    found = []
    for job in doc["jobs"].values():
        found += [job["uses"]] if "uses" in job else []
        found += [step["uses"] for step in job.get("steps", []) if "uses" in step]
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha_with_its_release(path):
    doc = workflow(path.name)
    remote = [u for u in all_uses(doc) if not u.startswith("./")]
    unpinned = [u for u in remote if not PINNED.match(u)]
    assert unpinned == [], f"{path.name}: actions on movable refs {unpinned}"
    commented = set(RELEASE_COMMENT.findall(path.read_text()))
    assert [u for u in remote if u not in commented] == [], f"{path.name}: no # vX.Y.Z comment"


def test_the_actions_are_pinned_alike_in_every_workflow():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for uses in all_uses(workflow(path.name)):
            if not uses.startswith("./"):
                name, sha = uses.split("@")
                pins.setdefault(name, set()).add(sha)
    assert {name for name, shas in pins.items() if len(shas) > 1} == set()
    assert "aws-actions/configure-aws-credentials" in pins  # the job holding the OIDC token


def test_dev_deploys_only_after_ci_succeeded_on_a_push_to_main():
    ci, dev = workflow("ci.yml"), workflow("deploy-dev.yml")
    assert dev["on"] == {
        "workflow_run": {"workflows": [ci["name"]], "types": ["completed"], "branches": ["main"]}
    }  # no push, no manual run: nothing reaches dev without CI
    assert set(ci["on"]) == {"pull_request", "push"} and ci["on"]["push"]["branches"] == ["main"]
    job = dev["jobs"]["dev"]
    conditions = {c.strip() for c in job["if"].split("&&")}
    assert conditions == {
        "github.event.workflow_run.conclusion == 'success'",
        "github.event.workflow_run.event == 'push'",
        "github.event.workflow_run.head_branch == 'main'",
    }
    # The commit CI tested, not whatever main points at when the deploy starts.
    assert job["with"]["ref"] == "${{ github.event.workflow_run.head_sha }}"
    checkout = next(
        s
        for s in workflow("deploy.yml")["jobs"]["deploy"]["steps"]
        if s.get("uses", "").startswith("actions/checkout@")
    )
    assert checkout["with"]["ref"] == "${{ inputs.ref || github.sha }}"
    assert checkout["with"]["persist-credentials"] is False


def test_prod_deploys_only_from_tags_or_main_in_the_prod_environment():
    prod = workflow("deploy-prod.yml")
    assert set(prod["on"]) == {"release", "workflow_dispatch"}
    assert prod["on"]["release"] == {"types": ["published"]}
    job = prod["jobs"]["prod"]
    assert job["if"] == "startsWith(github.ref, 'refs/tags/') || github.ref == 'refs/heads/main'"
    assert job["with"] == {"environment": "prod"}
    assert workflow("deploy.yml")["jobs"]["deploy"]["environment"] == "${{ inputs.environment }}"
    text = (REPO_ROOT / ".github" / "workflows" / "deploy-prod.yml").read_text()
    assert "required reviewers" in text  # the protection lives on the environment


def test_only_the_deploy_jobs_can_get_an_oidc_token():
    holders = []
    for path in WORKFLOWS:
        doc = workflow(path.name)
        assert doc["permissions"] == {"contents": "read"}, path.name
        for name, job in doc["jobs"].items():
            permissions = job.get("permissions", {})
            if permissions.get("id-token") == "write":
                holders.append(f"{path.name}:{name}")
                assert permissions == {"contents": "read", "id-token": "write"}
    assert sorted(holders) == ["deploy-dev.yml:dev", "deploy-prod.yml:prod", "deploy.yml:deploy"]


def test_checkov_pin_is_its_own_requirements_file():
    lines = (REPO_ROOT / "requirements-checkov.txt").read_text().split()
    assert [x for x in lines if x.startswith("checkov==")] == ["checkov==3.3.30"]
