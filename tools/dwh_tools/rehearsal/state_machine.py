"""The generated state machine, run with data on moto's Step Functions interpreter.

moto interprets the ASL itself and makes the service calls with boto3; what it cannot do is
filled in here, and only that:

- Wait states and Retry intervals really sleep in moto: both are made instant (the states still
  run, the retries still happen).
- moto does not map the Step Functions SDK name ``redshiftdata`` to boto's ``redshift-data``.
- moto hands SDK responses to the interpreter with Python datetimes, which its own history cannot
  serialise: responses pass through JSON first, as AWS returns timestamps as text.
- moto 5.2.5 cannot finish a ``glue:startJobRun.sync`` state (its callback endpoint is None for
  .sync, and the finished run's datetimes reach its history); moto's own poll of the run (which
  :mod:`.glue` executes on local PySpark) is called in a loop instead, so a run that did not
  succeed fails the state as moto and Step Functions fail it: States.TaskFailed, the JobRun as
  JSON in the Cause.
- moto evaluates a state's ``TimeoutSeconds`` only while its branch is running. When a Parallel
  branch fails just as a sibling enters a Task, the stopped sibling takes its own input as its
  timeout and the execution history can no longer be read (a TypeError in moto's serialiser).
  The timeout, a constant, is always evaluated.
- moto puts the execution's start time in the context object as a Python datetime, where AWS
  puts ISO 8601 text (``$$.Execution.StartTime``, which the machine splits to get the default
  logical date): it is put there as AWS writes it.

The Redshift statements run on DuckDB (:mod:`.redshift`), every call is recorded for the IAM check.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import types
from pathlib import Path

from dwh_tools.rehearsal import seed

REGION = seed.REGION
# The statement the state machine's run sees fail once (see DuckRedshift.abort_once).
TRANSIENT_FAILURE = r"^\s*copy staging\.orders\b"
GLUE_SYNC_POLLS = 20  # GetJobRun reads of a .sync wait; a rehearsed run ends within two


class JsonSafeClient:
    """A boto3 client whose responses are plain JSON, as AWS hands them to Step Functions."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            return json.loads(json.dumps(attr(*args, **kwargs), default=str))

        return call


def _glue_sync(self, env, resource_runtime_part, normalised_parameters, state_credentials):
    # moto's own wait: GetJobRun until the run ends, and a run that did not succeed fails the
    # state as on AWS (States.TaskFailed, the JobRun as JSON in the Cause). Only the loop around
    # it and the JSON of a run that succeeded are this stand-in's.
    resolve = self._sync_to_start_job_run(
        env, resource_runtime_part, normalised_parameters, state_credentials
    )
    for _ in range(GLUE_SYNC_POLLS):
        run = resolve()
        if run is not None:
            env.stack.append(json.loads(json.dumps(run, default=str)))
            return
    raise TimeoutError(f"Glue job {normalised_parameters['JobName']} still running")


def aws_timestamp(moment: dt.datetime) -> str:
    """A time as AWS writes it in a context object: UTC, milliseconds, ``Z`` (moto's are naive
    UTC)."""
    utc = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def patch_interpreter(patcher, glue_sync=_glue_sync) -> None:
    """Fill moto's interpreter gaps (module docstring). ``patcher`` has pytest's monkeypatch
    ``setattr``/``setitem``; ``glue_sync`` ends a ``glue:startJobRun.sync`` state, given the
    StartJobRun response on the stack."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service,
        state_task_service_glue,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    real_environment = ExecutionWorker._get_evaluation_environment

    def environment(self):
        env = real_environment(self)
        execution = env.states.context_object.context_object_data["Execution"]
        if isinstance(execution["StartTime"], dt.datetime):
            execution["StartTime"] = aws_timestamp(execution["StartTime"])
        return env

    patcher.setattr(ExecutionWorker, "_get_evaluation_environment", environment)
    patcher.setattr(
        wait_function.WaitFunction, "_wait_interval", lambda self, env, wait_seconds: None
    )
    patcher.setattr(retrier_decl, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    patcher.setattr(TimeoutSeconds, "eval", TimeoutSeconds._eval_body)
    overrides = state_task_service.StateTaskService._SERVICE_NAME_SFN_TO_BOTO_OVERRIDES
    patcher.setitem(overrides, "redshiftdata", "redshift-data")
    real = aws_sdk.boto_client_for
    patcher.setattr(aws_sdk, "boto_client_for", lambda *a, **k: JsonSafeClient(real(*a, **k)))
    patcher.setattr(
        state_task_service_glue.StateTaskServiceGlue, "_eval_integration_pattern", glue_sync
    )


def run_state_machine(pipeline_name: str, ds: str, raw_dir: Path, work: Path) -> dict:
    import boto3
    from moto import mock_aws

    from dwh.graph import load_all
    from dwh_tools.compile_stepfunctions import output_path
    from dwh_tools.rehearsal import glue, iam
    from dwh_tools.rehearsal.redshift import DuckRedshift
    from dwh_tools.rehearsal.runtimes import _alerts, _denials, _Patcher, attribute_services

    result_pipelines = load_all().pipelines
    pipelines = list(result_pipelines.values())
    pipeline = result_pipelines[pipeline_name]
    patcher = _Patcher()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        env = seed.create(pipelines, raw_dir)
        recorder = iam.Recorder(account_id=seed.ACCOUNT).install()
        role = f"state_machine[{pipeline_name}]"
        attribute_services(recorder)  # first: the stand-ins' own clients are theirs
        recorder.clients_created_by("moto.stepfunctions", role)
        glue_runs = glue.install(work / "mirror")
        redshift = DuckRedshift(work / "redshift.duckdb")
        redshift.install(patcher)
        # One load fails as a concurrent writer makes it fail: the machine must submit it again
        # (Step Functions' Retry covers only the API call, not a statement that ends FAILED).
        redshift.abort_once(TRANSIENT_FAILURE)
        patch_interpreter(patcher)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        # The committed, generated definition is what Terraform deploys.
        definition = output_path(pipeline).read_text()
        with recorder.paused():  # Terraform's part
            arn = sfn.create_state_machine(
                name=f"{env.prefix}-{pipeline_name}",
                definition=definition,
                roleArn=env.roles["stepfunctions"],
            )["stateMachineArn"]
        t0 = time.monotonic()
        with recorder.paused():  # the harness starting and watching it, as EventBridge would
            execution = sfn.start_execution(
                stateMachineArn=arn,
                # AWS names an execution when the caller does not; moto leaves it None.
                name=f"rehearsal-{ds}-{int(time.time())}",
                input=json.dumps(env.execution_input(ds)),
            )["executionArn"]
            while True:
                desc = sfn.describe_execution(executionArn=execution)
                if desc["status"] != "RUNNING" or time.monotonic() - t0 > 3600:
                    break
                time.sleep(0.2)
            history = sfn.get_execution_history(executionArn=execution, maxResults=1000)
        history = history["events"]
        entered = [
            e["stateEnteredEventDetails"]["name"]
            for e in history
            if "stateEnteredEventDetails" in e
        ]
        result = {
            "runtime": "state machine",
            "seconds": round(time.monotonic() - t0, 1),
            "status": desc["status"],
            "error": desc.get("error"),
            "cause": desc.get("cause"),
            "last_states": entered[-8:],
            "glue_runs": len(glue_runs.runs()),
            "logins": sorted(set(redshift.logins)),
            "transient_failures": len(redshift.aborted),
            "retried": [name for name in entered if name.endswith("_backoff")],
            "denied": _denials(recorder, env, pipelines, [role], glue),
        }
        with recorder.paused():
            result["alerts"] = _alerts(env)
        glue.uninstall()
        patcher.undo()
    return result
