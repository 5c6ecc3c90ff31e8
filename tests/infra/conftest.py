"""Fixtures of the infrastructure tests: the terraform binary and offline runs of the
provider-less Terraform modules (pipelines, mwaa_artifacts), so tests see what Terraform itself
computes from the same files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from infra_support import MODULES, TerraformError


@pytest.fixture(scope="session")
def terraform() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip(
            "terraform is not installed (https://developer.hashicorp.com/terraform/install)"
        )
    return binary


@pytest.fixture
def apply_module(terraform, tmp_path):
    """Apply a provider-less module offline and return its outputs (name -> value)."""

    def run(module: str, variables: dict[str, str]) -> dict:
        work = tmp_path / f"tf-{module}"
        shutil.copytree(MODULES / module, work)
        env = {
            **os.environ,
            "CHECKPOINT_DISABLE": "1",  # no version check against HashiCorp's servers
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "TF_DATA_DIR": str(work / ".terraform"),
        }
        args = [f"-var={k}={v}" for k, v in variables.items()]
        for command in (
            ["init", "-backend=false", "-no-color"],
            ["apply", "-auto-approve", "-no-color", *args],
        ):
            done = subprocess.run(
                [terraform, *command], cwd=work, env=env, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise TerraformError(done.stderr + done.stdout)
        out = subprocess.run(
            [terraform, "output", "-json"], cwd=work, env=env, capture_output=True, text=True
        )
        if out.returncode != 0:
            raise TerraformError(out.stderr)
        return {k: v["value"] for k, v in json.loads(out.stdout).items()}

    return run
