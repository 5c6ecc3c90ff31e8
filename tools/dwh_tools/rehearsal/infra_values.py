"""What Terraform would write, computed by Terraform itself from the files in infra/.

The rehearsal seeds moto the way Terraform names and configures the AWS side: bucket names, the
Glue database, the Airflow Variables and connections in Secrets Manager, the secrets backend's
settings. Those values are expressions in infra/modules/*.tf; re-typing them here would let the
two drift. Instead the expressions are copied out of the .tf files into a provider-less module,
which ``terraform apply`` evaluates offline with the rehearsal's inputs (no provider, no network).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from dwh import config

MODULES = config.REPO_ROOT / "infra" / "modules"


class InfraValueError(Exception):
    """An expression could not be found or evaluated; the message names the file and the name."""


def _balanced(text: str, start: int) -> int:
    """Index just past the expression starting at ``start``, where brackets close again."""
    depth, i, quote = 0, start, False
    while i < len(text):
        ch = text[i]
        if ch == '"' and text[i - 1] != "\\":
            quote = not quote
        elif not quote and ch in "([{":
            depth += 1
        elif not quote and ch in ")]}":
            depth -= 1
        elif ch == "\n" and depth == 0 and not quote:
            return i
        i += 1
    return i


def expression(path: Path, name: str) -> str:
    """The right-hand side of ``name = ...`` (a local or a quoted attribute key) in a .tf file."""
    text = path.read_text(encoding="utf-8")
    key = re.escape(name) if re.fullmatch(r"\w+", name) else re.escape(f'"{name}"')
    found = re.search(rf"^\s*{key}\s*=\s*", text, re.M)
    if not found:
        raise InfraValueError(f"{path.relative_to(config.REPO_ROOT)}: no {name} = ...")
    return text[found.end() : _balanced(text, found.end())].strip()


def evaluate(
    expressions: dict[str, tuple[Path, str]],
    variables: dict[str, object],
    local_values: dict[str, object] | None = None,
    helper_locals: dict[str, tuple[Path, str]] | None = None,
) -> dict[str, object]:
    """Evaluate named expressions of infra/ offline.

    ``expressions``: output name -> (file, local or attribute name). ``helper_locals``: other locals
    those expressions read, copied the same way. ``variables``: the module variables they read
    (``var.x``), ``local_values``: locals given as values (account id, region, partition).
    """
    terraform = shutil.which("terraform")
    if terraform is None:
        raise InfraValueError("terraform is not installed: it evaluates the values of infra/")
    locals_ = {k: json.dumps(v) for k, v in (local_values or {}).items()}
    for name, (path, source) in {**(helper_locals or {}), **expressions}.items():
        locals_[name] = expression(path, source)
    lines = [f'variable "{v}" {{\n  type = any\n}}' for v in variables]
    lines.append("locals {")
    lines += [f"  {k} = {v}" for k, v in locals_.items()]
    lines.append("}")
    lines += [f'output "{k}" {{\n  value = local.{k}\n}}' for k in expressions]
    with tempfile.TemporaryDirectory(prefix="dwh-tf-") as work:
        Path(work, "main.tf").write_text("\n".join(lines) + "\n")
        Path(work, "terraform.tfvars.json").write_text(json.dumps(variables))
        env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
        for command in (["init", "-backend=false"], ["apply", "-auto-approve"]):
            done = subprocess.run(
                [terraform, *command, "-no-color"],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise InfraValueError(f"terraform {command[0]}: {done.stderr or done.stdout}")
        out = subprocess.run(
            [terraform, "output", "-json"], cwd=work, env=env, capture_output=True, text=True
        )
    return {k: v["value"] for k, v in json.loads(out.stdout).items()}


def environment(prefix: str, account_id: str, region: str, redshift: dict) -> dict:
    """The names and settings Terraform gives one environment, for the rehearsal to seed.

    Returns the bucket names, the Glue databases (raw, processed), the MWAA Variables and connections it writes to
    Secrets Manager, and the secrets backend's prefixes and lookup patterns.
    """
    storage, glue, mwaa = MODULES / "storage", MODULES / "glue", MODULES / "mwaa"
    names = evaluate(
        {
            "bucket_names": (storage / "main.tf", "bucket_names"),
            "database_name": (glue / "main.tf", "database_name"),
            "processed_database_name": (glue / "processed.tf", "processed_database_name"),
        },
        {"name_prefix": prefix},
        {"account_id": account_id, "region": region, "partition": "aws"},
        helper_locals={"buckets": (storage / "main.tf", "buckets")},
    )
    buckets = names["bucket_names"]
    mwaa_vars = {
        "name_prefix": prefix,
        "raw_uri": f"s3://{buckets['raw']}",
        "processed_uri": f"s3://{buckets['processed']}",
        "glue_database": names["database_name"],
        "glue_processed_database": names["processed_database_name"],
        "alert_topic_arn": redshift["alert_topic_arn"],
        "redshift": {k: v for k, v in redshift.items() if k != "alert_topic_arn"},
        "connections_prefix": _default(mwaa / "variables.tf", "connections_prefix"),
        "variables_prefix": _default(mwaa / "variables.tf", "variables_prefix"),
    }
    secrets = evaluate(
        {
            "variables": (mwaa / "secrets.tf", "variables"),
            "connections": (mwaa / "secrets.tf", "connections"),
            "backend_kwargs": (mwaa / "main.tf", "secrets.backend_kwargs"),
        },
        mwaa_vars,
        {"account_id": account_id, "region": region, "partition": "aws"},
        helper_locals={"redshift_extra": (mwaa / "secrets.tf", "redshift_extra")},
    )
    return {
        "buckets": buckets,
        "glue_database": names["database_name"],
        "glue_processed_database": names["processed_database_name"],
        "variables": secrets["variables"],
        "connections": secrets["connections"],
        "backend_kwargs": json.loads(secrets["backend_kwargs"]),
    }


def _default(path: Path, variable: str) -> str:
    text = path.read_text(encoding="utf-8")
    found = re.search(rf'variable "{variable}" \{{.*?default\s*=\s*"([^"]*)"', text, re.S)
    if not found:
        raise InfraValueError(f"{path}: variable {variable} has no string default")
    return found.group(1)
