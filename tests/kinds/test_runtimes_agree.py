"""The local operators, the aws operators and the state machine carry the same definition.

One test per rule of dwh.kinds where the runtimes used to disagree: the transaction unit of a
multi-file sql node, the Glue job's arguments and name, and the channels a notify node uses.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from airflow.sdk import DAG

from dwh import config, kinds
from dwh.compile_airflow import build_dag
from dwh.graph import NotifyNode, PipelineError, load_pipeline
from dwh.sql import render
from dwh_tools.compile_stepfunctions import (
    StepFunctionsCompileError,
    _Builder,
    compile_pipeline,
    walk_states,
)

DS, RUN_ID, PREFIX = "2024-03-05", "manual__2024-03-05", "dwh-test"
VALUES = {
    "ds": DS,
    "run_id": RUN_ID,
    "raw_uri": "s3://raw-bucket",
    "processed_uri": "s3://processed-bucket",
}


@pytest.fixture(scope="module")
def pipeline():
    return load_pipeline(config.PIPELINES_DIR / "ecommerce_dwh.yaml")


@pytest.fixture(scope="module")
def machine(pipeline) -> dict:
    return dict(walk_states(compile_pipeline(pipeline)))


@pytest.fixture
def airflow_values(monkeypatch):
    """The Variables the aws DAG renders at run time, as Airflow reads them from the env."""
    for name, value in {
        "resource_prefix": PREFIX,
        "raw_uri": VALUES["raw_uri"],
        "processed_uri": VALUES["processed_uri"],
        "alert_topic_arn": "arn:aws:sns:eu-west-1:000000000000:alerts",
        "redshift_cluster_id": "c",
        "redshift_database": "dwh",
        "redshift_secret_arn": "s",
    }.items():
        monkeypatch.setenv(f"AIRFLOW_VAR_DWH_{name.upper()}", value)


def rendered(task, dag, conf: dict | None = None) -> None:
    """Render a task's template fields the way the worker does before execute, its params the
    DAG's merged with the DagRun's ``conf`` and validated, as the task runner makes them."""
    from airflow.sdk import Variable
    from airflow.sdk.definitions.param import process_params

    class Var:
        class value:  # noqa: N801 - the template reads var.value.<name>
            def __getattr__(self, key):
                return Variable.get(key)

        value = value()

    params = process_params(dag, task, conf, suppress_exception=False)
    context = {"ds": DS, "run_id": RUN_ID, "var": Var(), "params": params}
    task.render_template_fields(context, dag.get_template_env())


def jsonpath(document: dict, path: str):
    value = document
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def sfn_input() -> dict:
    return {
        "ds": DS,
        "run_id": RUN_ID,
        "config": {
            "resource_prefix": PREFIX,
            "raw_uri": VALUES["raw_uri"],
            "processed_uri": VALUES["processed_uri"],
        },
    }


def evaluate(parameters: dict, document: dict) -> dict:
    """Parameters of a state with its .$ paths (and the one States.Format used) evaluated."""
    out = {}
    for key, value in parameters.items():
        if not key.endswith(".$"):
            out[key] = value
            continue
        fmt = re.fullmatch(r"States\.Format\('(.*)', (\$[\w.]+)\)", value)
        if fmt:
            out[key[:-2]] = fmt.group(1).replace("{}", str(jsonpath(document, fmt.group(2))))
        else:
            out[key[:-2]] = jsonpath(document, value)
    return out


# --- a node is one transaction --------------------------------------------------------------


def test_a_multi_file_sql_node_is_one_transaction_on_every_runtime(
    pipeline, machine, airflow_values, monkeypatch
):
    node = pipeline.node_map["build_reference_dims"]
    definition = kinds.define(node)
    assert len(definition.files) == 2
    expected = kinds.statements(definition.templates(), lambda t: render(t, {"ds": DS}))
    assert len(expected) > 2

    # aws: Airflow reads and renders both files, the operator sends one batch of every statement.
    dag = build_dag(pipeline, "aws")
    task = dag.get_task(node.id)
    rendered(task, dag)
    sent = {}
    from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator

    monkeypatch.setattr(
        RedshiftDataOperator, "execute", lambda self, ctx: sent.update(sql=self.sql)
    )
    task.execute({})
    assert isinstance(sent["sql"], list), "the aws target sends one BatchExecuteStatement"
    assert [" ".join(s.split()) for s in sent["sql"]] == [" ".join(s.split()) for s in expected]

    # Step Functions: the node's entry state is one batchExecuteStatement of the same statements.
    state = machine[node.id]
    assert state["Resource"].endswith("redshiftdata:batchExecuteStatement")
    assert len(state["Parameters"]["Sqls"]) == len(expected)


def test_the_local_runtime_rolls_back_every_file_of_a_failed_sql_node(tmp_path, monkeypatch):
    from dwh_tools.local_target.operators import LocalSqlOperator, open_warehouse

    include = tmp_path / "include"
    (include / "sql" / "tx").mkdir(parents=True)
    (include / "sql" / "tx" / "first.sql").write_text(
        "create table tx_probe (n integer);\ninsert into tx_probe values (1);\n"
    )
    (include / "sql" / "tx" / "second.sql").write_text(
        "insert into tx_probe values ('not a number');\n"
    )
    monkeypatch.setattr(config, "INCLUDE_DIR", include)
    monkeypatch.setattr(config, "SQL_DIR", include / "sql")
    monkeypatch.setenv("DWH_HOME", str(tmp_path / "home"))
    with DAG("tx_probe", schedule=None):
        op = LocalSqlOperator(task_id="build_probe", sql=["tx/first.sql", "tx/second.sql"])
    with pytest.raises(Exception, match="not a number"):
        op.execute({"ds": DS, "run_id": RUN_ID})
    with open_warehouse() as wh:
        found = wh.con.execute(
            "select count(*) from information_schema.tables where table_name = 'tx_probe'"
        ).fetchone()[0]
    assert found == 0, "the first file's table survived: the node ran as more than one transaction"


# --- Glue job arguments and names -----------------------------------------------------------


@pytest.mark.parametrize("allow_empty", [False, True])
def test_a_glue_job_gets_the_same_arguments_and_name_on_every_runtime(
    pipeline, machine, airflow_values, monkeypatch, tmp_path, allow_empty
):
    """``allow_empty``: the run's flag, as each runtime takes it (the DagRun conf of both
    Airflow targets, the state machine's execution input, resolved by its first states)."""
    node = pipeline.node_map["clean_orders"]
    text = "true" if allow_empty else "false"
    expected = kinds.resolve(kinds.define(node).arguments(), {**VALUES, "allow_empty": text})
    assert set(expected) == {
        "--ingest_date",
        "--run_id",
        "--raw_uri",
        "--processed_uri",
        "--entity",
        "--formats",
        "--allow_empty",
    }
    assert expected["--allow_empty"] == text

    # local: the arguments the script is run with (the lake folders stand in for the buckets).
    from dwh_tools.local_target import spark
    from dwh_tools.local_target.operators import OPERATORS

    monkeypatch.setattr(config, "lake", lambda b: Path(VALUES[f"{b}_uri"]))
    seen = {}
    monkeypatch.setattr(spark, "run_glue_script", lambda script, args: seen.update(args) or {})
    with DAG("args_probe", schedule=None):
        local = OPERATORS["glue_job"](kinds.define(node), task_id=node.id)
    local.work({"ds": DS, "run_id": RUN_ID, "params": {"allow_empty": allow_empty}})
    local_args = {k: v.replace("s3:/", "s3://") for k, v in seen.items()}
    assert local_args.pop("--JOB_NAME") == "local-clean_orders"
    assert local_args == expected

    # aws: GlueJobOperator's script_args and job name, rendered as the worker renders them.
    dag = build_dag(pipeline, "aws")
    task = dag.get_task(node.id)
    rendered(task, dag, {"allow_empty": allow_empty})
    assert task.script_args == expected
    assert task.job_name == kinds.resource_name(PREFIX, node.id)

    # Step Functions: startJobRun's Arguments and JobName, evaluated against the input the
    # machine's first states make of an execution input (moto runs them: test_moto_execution).
    state_input = {**sfn_input(), "allow_empty": machine[f"AllowEmpty{allow_empty}"]["Result"]}
    params = machine[node.id]["Parameters"]
    assert evaluate(params["Arguments"], state_input) == expected
    assert evaluate(params, state_input)["JobName"] == kinds.resource_name(PREFIX, node.id)


def test_the_crawler_is_named_the_same_on_aws_and_in_step_functions(
    pipeline, machine, airflow_values
):
    node = pipeline.node_map["crawl_raw"]
    dag = build_dag(pipeline, "aws")
    task = dag.get_task(node.id)
    rendered(task, dag)
    name = kinds.resource_name(PREFIX, node.crawler)
    assert task.crawler_name == name
    assert evaluate(machine[node.id]["Parameters"], sfn_input())["Name"] == name


# --- notify channels ------------------------------------------------------------------------


def notify_node(channels: list[str]) -> NotifyNode:
    # Built directly, as a runtime would receive it: the loader refuses undeliverable channels.
    return NotifyNode(id="notify_probe", kind="notify", message="done {{ ds }}", channels=channels)


def local_channels(node, tmp_path, monkeypatch) -> set[str]:
    from dwh_tools.local_target import alerts
    from dwh_tools.local_target.operators import OPERATORS

    used = set()
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    monkeypatch.setattr(alerts, "slack_configured", lambda: True)
    monkeypatch.setattr(alerts, "post_slack", lambda text: used.add("slack"))
    with DAG("notify_probe", schedule=None):
        op = OPERATORS["notify"](kinds.define(node), task_id=node.id)
    op.execute({"ds": DS, "run_id": RUN_ID})
    outbox = config.outbox_path()
    (record,) = [json.loads(x) for x in outbox.read_text().splitlines()]
    assert record["event"] == "notify" and record["channels"] == node.channels
    outbox.unlink()
    # The outbox records every message; for sns it is the delivery (the topic's local stand-in).
    return used | ({"sns"} & set(record["channels"]))


def aws_channels(node, monkeypatch) -> set[str]:
    from airflow.providers.amazon.aws.hooks.sns import SnsHook
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    from dwh.operators.aws import OPERATORS

    used = set()
    monkeypatch.setattr(SnsHook, "publish_to_target", lambda self, **kw: used.add("sns"))
    monkeypatch.setattr(SlackWebhookHook, "send", lambda self, **kw: used.add("slack"))
    with DAG("notify_probe", schedule=None):
        op = OPERATORS["notify"](kinds.define(node), task_id=node.id)
    op.execute({})
    return used


def sfn_channels(pipeline, node) -> set[str]:
    states = _Builder(pipeline, config.INCLUDE_DIR).node_states(node, "next")
    return {"sns" for s in states.values() if s.get("Resource", "").endswith("sns:publish")}


@pytest.mark.parametrize("channels", [["sns"], ["sns", "slack"], ["slack"]])
def test_local_and_aws_use_exactly_the_listed_channels(channels, tmp_path, monkeypatch):
    node = notify_node(channels)
    assert local_channels(node, tmp_path, monkeypatch) == set(channels)
    assert aws_channels(node, monkeypatch) == set(channels)


def test_step_functions_publishes_an_sns_notify_and_refuses_slack(pipeline):
    assert sfn_channels(pipeline, notify_node(["sns"])) == {"sns"}
    with pytest.raises(StepFunctionsCompileError, match="'notify_probe' field 'channels'.*slack"):
        sfn_channels(pipeline, notify_node(["sns", "slack"]))


def test_the_model_refuses_a_channel_a_runtime_cannot_deliver(tmp_path):
    text = (config.PIPELINES_DIR / "warehouse_maintenance.yaml").read_text()
    assert "channels: [sns]" in text
    path = tmp_path / "warehouse_maintenance.yaml"
    path.write_text(text.replace("channels: [sns]", "channels: [sns, slack]"))
    with pytest.raises(PipelineError) as err:
        load_pipeline(path)
    assert str(err.value).startswith(str(path))
    assert (
        "node 'notify_maintenance_done' field 'channels': slack cannot be delivered by the "
        "stepfunctions runtime (it delivers sns)"
    ) in str(err.value)


def test_outbox_is_not_a_channel(tmp_path):
    text = (config.PIPELINES_DIR / "warehouse_maintenance.yaml").read_text()
    path = tmp_path / "warehouse_maintenance.yaml"
    path.write_text(text.replace("channels: [sns]", "channels: [outbox]"))
    with pytest.raises(
        PipelineError,
        match="node 'notify_maintenance_done' field 'channels': .*'outbox' is not a channel",
    ):
        load_pipeline(path)


def test_a_node_cannot_override_the_reserved_glue_arguments(tmp_path):
    text = (config.PIPELINES_DIR / "ecommerce_dwh.yaml").read_text()
    path = tmp_path / "ecommerce_dwh.yaml"
    template = 'arguments: {entity: "{entity}"}'
    assert template in text
    path.write_text(text.replace(template, 'arguments: {entity: "{entity}", ingest_date: x}'))
    with pytest.raises(
        PipelineError, match="node 'clean_orders' field 'arguments.ingest_date': .*reserved"
    ):
        load_pipeline(path)


def test_a_node_cannot_allow_empty_extracts_for_every_run(tmp_path):
    """allow_empty is the run's to say (a backfill must never get it by default)."""
    text = (config.PIPELINES_DIR / "ecommerce_dwh.yaml").read_text()
    path = tmp_path / "ecommerce_dwh.yaml"
    template = 'arguments: {entity: "{entity}"}'
    path.write_text(text.replace(template, 'arguments: {entity: "{entity}", allow_empty: "true"}'))
    with pytest.raises(PipelineError) as err:
        load_pipeline(path)
    assert str(err.value).startswith(str(path))
    assert re.search(
        r"node 'clean_orders' field 'arguments\.allow_empty': .*'allow_empty': reserved Glue "
        r"argument, set by the run itself",
        str(err.value),
    )
