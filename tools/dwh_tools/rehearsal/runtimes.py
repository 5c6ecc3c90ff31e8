"""The two aws runtimes of one pipeline, run for real on this machine against moto.

- :func:`run_aws_dag`: the aws target's DAG under ``airflow dags test`` (Airflow's own command,
  in this process), its provider operators and boto3 calling moto;
- :func:`run_state_machine`: the generated state machine on moto's Step Functions interpreter.

In both, what moto does not execute is executed behind its API: Glue job runs run their script on
local PySpark (:mod:`.glue`), Redshift Data API statements and the SQL checks' connection run on
DuckDB (:mod:`.redshift`), and every AWS call is recorded for the IAM check (:mod:`.iam`). Each
function is meant for a fresh process (``python -m dwh_tools.rehearsal.runtimes``): moto, Airflow's
configuration and the Spark session are process-wide.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

from dwh import kinds
from dwh_tools.rehearsal import seed

REGION, ACCOUNT = seed.REGION, seed.ACCOUNT


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def iam_inputs(env: seed.Environment, pipelines: list) -> dict[str, dict]:
    """Role label -> the Terraform inputs its policies read, for this environment's names."""
    jobs, crawlers = {}, {}
    for p in pipelines:
        for n in p.nodes:
            d = kinds.define(n)
            if n.kind == "glue_job":
                jobs[n.id] = _arn("glue", f"job/{d.resource(env.prefix)}")
            elif n.kind == "glue_crawler":
                crawlers[n.crawler] = _arn("glue", f"crawler/{d.resource(env.prefix)}")
    v = env.variables
    redshift = {
        "cluster_id": env.cluster_id,
        "workgroup_name": "",
        "data_api_resource_arn": _arn("redshift", f"cluster:{env.cluster_id}"),
        "database_name": v["dwh_redshift_database"],
        "etl_username": env.connections["redshift_default"]["login"],
        "etl_secret_arn": v["dwh_redshift_secret_arn"],
        "endpoint_address": env.connections["redshift_default"]["host"],
        "port": env.connections["redshift_default"]["port"],
        "copy_role_arn": v["dwh_redshift_copy_role_arn"],
    }
    common = {
        "account_id": ACCOUNT,
        "region": REGION,
        "var.name_prefix": env.prefix,
        "var.kms_key_arn": _arn("kms", "key/rehearsal"),
    }
    return {
        "mwaa": {
            **common,
            "var.redshift": redshift,
            "var.alert_topic_arn": env.topic_arn,
            "var.glue_database": env.glue_database,
            "var.glue_processed_database": env.glue_processed_database,
            "var.raw_uri": v["dwh_raw_uri"],
            "var.processed_uri": v["dwh_processed_uri"],
            "var.glue_job_arns": sorted(jobs.values()),
            "var.glue_crawler_arns": sorted(crawlers.values()),
        },
        "glue_job": {
            **common,
            **{f"var.{b}_bucket_arn": f"arn:aws:s3:::{name}" for b, name in env.buckets.items()},
        },
        "glue_crawler": {
            **common,
            "local.database_name": env.glue_database,
            **{f"var.{b}_bucket_arn": f"arn:aws:s3:::{name}" for b, name in env.buckets.items()},
        },
        "redshift_copy": {
            **common,
            **{f"var.{b}_bucket_arn": f"arn:aws:s3:::{name}" for b, name in env.buckets.items()},
            "var.glue_database_name": env.glue_database,
            "var.glue_database_arn": _arn("glue", f"database/{env.glue_database}"),
            "var.glue_processed_database_name": env.glue_processed_database,
            "var.glue_processed_database_arn": _arn(
                "glue", f"database/{env.glue_processed_database}"
            ),
        },
        "state_machine": {
            **common,
            "var.redshift": redshift,
            "var.state_machines": {
                p.pipeline: {
                    "glue_jobs": sorted(n.id for n in p.nodes if n.kind == "glue_job"),
                    "glue_crawlers": sorted(
                        {n.crawler for n in p.nodes if n.kind == "glue_crawler"}
                    ),
                }
                for p in pipelines
            },
            "var.glue_job_arns": jobs,
            "var.glue_crawler_arns": crawlers,
        },
    }


def _alerts(env: seed.Environment) -> list[str]:
    import boto3

    sqs = boto3.client("sqs", region_name=REGION)
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=env.queue_url, MaxNumberOfMessages=10).get("Messages")
        if not got:
            return out
        out += [json.loads(m["Body"])["Message"] for m in got]
        for m in got:
            sqs.delete_message(QueueUrl=env.queue_url, ReceiptHandle=m["ReceiptHandle"])


def _task_states(airflow_home: Path, dag_id: str) -> dict[str, str]:
    with sqlite3.connect(airflow_home / "airflow.db") as con:
        rows = con.execute(
            "select task_id, state from task_instance where dag_id = ?", (dag_id,)
        ).fetchall()
    return dict(rows)


# Who makes the calls the stand-ins make: Glue's jobs and crawls read and write S3 with their own
# roles (judged from the run records below), Redshift reads the lake for COPY with its copy role.
GLUE_SERVICE = "glue (service)"


def attribute_services(recorder) -> None:
    recorder.clients_created_by("dwh_tools.rehearsal.glue", GLUE_SERVICE)
    recorder.clients_created_by("dwh_tools.rehearsal.redshift", "redshift_copy")


def _glue_calls(glue_module) -> list:
    """The S3 access of every Glue job run and crawl, as calls of the job's or crawler's role."""
    from dwh_tools.rehearsal.iam import Call

    def obj(uri: str) -> str:
        return "arn:aws:s3:::" + uri.removeprefix("s3://")

    calls = []
    for role, records in (("glue_job", glue_module.runs()), ("glue_crawler", glue_module.crawls())):
        for r in records:
            calls += [Call(role, "s3:GetObject", obj(u), "s3.GetObject") for u in r.reads]
            calls += [
                Call(role, "s3:PutObject", obj(u), "s3.PutObject") for u in getattr(r, "writes", [])
            ]
            calls += [
                Call(role, "s3:DeleteObject", obj(u), "s3.DeleteObject")
                for u in getattr(r, "deletes", [])
            ]
            calls += [
                Call(
                    role,
                    "s3:ListBucket",
                    obj(u.split("/", 3)[2] if u.startswith("s3://") else u),
                    "s3.ListObjectsV2",
                )
                for u in r.listed
            ]
    return calls


def _denials(recorder, env, pipelines, roles: list[str], glue_module) -> list[dict]:
    from dwh_tools.rehearsal import iam

    inputs = iam_inputs(env, pipelines)
    roles = [*roles, "glue_job", "glue_crawler", "redshift_copy"]
    policies = {role: iam.role_policy(role, inputs[role.split("[", 1)[0]]) for role in roles}
    calls = [c for c in recorder.calls if c.role != GLUE_SERVICE] + _glue_calls(glue_module)
    return [d.__dict__ for d in iam.evaluate(calls, policies)]


def run_aws_dag(pipeline_name: str, ds: str, raw_dir: Path, work: Path) -> dict:
    """The aws DAG under ``airflow dags test`` against moto; its warehouse, tasks, alerts, IAM."""
    from moto import mock_aws

    from dwh.graph import load_all
    from dwh_tools.rehearsal import glue, iam
    from dwh_tools.rehearsal.redshift import DuckRedshift

    pipelines = list(load_all().pipelines.values())
    with mock_aws():
        env = seed.create(pipelines, raw_dir)
        os.environ.update(env.airflow_env())
        recorder = iam.Recorder(account_id=ACCOUNT).install()
        attribute_services(recorder)
        glue_runs = glue.install(work / "mirror")
        redshift = DuckRedshift(work / "redshift.duckdb")
        patcher = _Patcher()
        redshift.install(patcher)
        from airflow.cli import cli_parser

        args = cli_parser.get_parser().parse_args(["dags", "test", pipeline_name, ds])
        t0 = time.monotonic()
        with recorder.acting_as("mwaa"):
            try:
                args.func(args)
            except SystemExit as exc:  # the command exits non-zero when the run failed
                print(f"airflow dags test exited {exc.code}", file=sys.stderr)
        seconds = round(time.monotonic() - t0, 1)
        states = _task_states(Path(os.environ["AIRFLOW_HOME"]), pipeline_name)
        result = {
            "runtime": "aws DAG",
            "seconds": seconds,
            "tasks": states,
            "checksums": redshift.checksums(),
            "logins": sorted(set(redshift.logins)),
            "glue_runs": len(glue_runs.runs()),
            "denied": _denials(recorder, env, pipelines, ["mwaa"], glue),
        }
        with recorder.paused():
            result["alerts"] = _alerts(env)
        glue.uninstall()
        patcher.undo()
    return result


class _Patcher:
    """monkeypatch's setattr/setitem/undo for code that runs outside pytest."""

    _MISSING = object()

    def __init__(self):
        self._undo = []

    def setattr(self, target, name, value, raising=True):
        before = vars(target).get(name, self._MISSING)  # its own attribute, not an inherited one
        self._undo.append(lambda: self._restore(target, name, before))
        setattr(target, name, value)

    def setitem(self, mapping, key, value):
        before = mapping.get(key, self._MISSING)
        self._undo.append(
            lambda: (
                mapping.pop(key, None) if before is self._MISSING else mapping.update({key: before})
            )
        )
        mapping[key] = value

    def _restore(self, target, name, before):
        if before is self._MISSING:
            delattr(target, name)
        else:
            setattr(target, name, before)

    def undo(self):
        for restore in reversed(self._undo):
            restore()
        self._undo.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runtime", choices=["aws-dag", "state-machine"])
    parser.add_argument("--pipeline", default="ecommerce_dwh")
    parser.add_argument("--ds", required=True)
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    a = parser.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    if a.runtime == "aws-dag":
        result = run_aws_dag(a.pipeline, a.ds, a.raw, a.work)
    else:
        from dwh_tools.rehearsal.state_machine import run_state_machine

        result = run_state_machine(a.pipeline, a.ds, a.raw, a.work)
    a.out.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
