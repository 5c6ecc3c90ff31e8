"""Secrets and Terraform state stay out of git and out of the Docker build context."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess

import pytest
from infra_support import REPO_ROOT

SECRETS_AND_STATE = [".env", ".env.*", "*.tfvars", "tfplan", "*.tfstate", "*.tfstate.*"]


def patterns(name: str) -> set[str]:
    lines = (REPO_ROOT / name).read_text().splitlines()
    return {line.strip().rstrip("/") for line in lines if line.strip() and line[0] != "#"}


def test_gitignore_lists_secrets_and_terraform_state():
    assert set(SECRETS_AND_STATE) <= patterns(".gitignore")


def test_the_docker_build_context_leaves_out_secrets_state_and_local_state():
    ignored = patterns(".dockerignore")
    wanted = SECRETS_AND_STATE + [".dwh", ".venv", ".git", "**/__pycache__", "infra/**/.terraform"]
    assert set(wanted) - {"*.tfstate", "*.tfstate.*"} <= ignored
    assert "*.tfstate*" in ignored or {"*.tfstate", "*.tfstate.*"} <= ignored
    # What the image build reads must still be sent.
    for needed in ("Dockerfile", "requirements.txt", "requirements-local.txt", "packages.txt"):
        assert not any(fnmatch.fnmatch(needed, p) for p in ignored), needed


@pytest.mark.parametrize("path", [".env", ".env.production", "x.tfvars", "infra/envs/dev/tfplan"])
def test_git_ignores_secret_files(path):
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    run = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", path], cwd=REPO_ROOT, timeout=30
    )
    assert run.returncode == 0, f"git does not ignore {path}"
