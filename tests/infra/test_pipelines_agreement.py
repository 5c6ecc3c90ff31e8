"""Terraform and the pipeline files agree: what Terraform derives from the YAML (the pipelines
module, applied offline) equals what the pipeline model says, for the fixtures here and for every
include/pipelines/*.yaml; and the modules deploy exactly those derived sets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from infra_support import (
    FIXTURES,
    REPO_ROOT,
    TerraformError,
    locals_of,
    module_blocks,
    parse_module,
    resource,
)

from dwh.for_each_entity import expand
from dwh.graph import GlueCrawlerNode, GlueJobNode, Pipeline, pipeline_files

PIPELINE_DIRS = {
    "fixtures": FIXTURES / "pipelines",
    "include": REPO_ROOT / "include" / "pipelines",
}


def models(directory: Path) -> dict[str, Pipeline]:
    """The typed pipelines of a folder. Only the model is validated: whether the SQL files they
    name exist is `dwh validate`'s business, not Terraform's."""
    return {
        p.stem: Pipeline.model_validate(expand(yaml.safe_load(p.read_text())))
        for p in pipeline_files(directory)
    }


def expected_from_model(directory: Path) -> dict:
    """Glue jobs, crawlers and state machines as the pipeline model (dwh.graph) defines them."""
    jobs, crawlers, machines = {}, {}, {}
    for name, p in sorted(models(directory).items()):
        for n in p.nodes:
            if isinstance(n, GlueJobNode):
                job = jobs.setdefault(
                    n.id,
                    {
                        "script": n.script,
                        "arguments": dict(n.arguments),
                        "worker_type": n.worker_type,
                        "number_of_workers": n.number_of_workers,
                        "timeout_minutes": p.timeout_for(n),
                        "pipelines": [],
                    },
                )
                job["pipelines"].append(name)
            elif isinstance(n, GlueCrawlerNode):
                c = crawlers.setdefault(n.crawler, {"entities": set(), "pipelines": set()})
                c["entities"].update(n.entities)
                c["pipelines"].add(name)
        machines[name] = {
            "stepfunctions_schedule": p.stepfunctions_schedule,
            "airflow_schedule": p.schedule,
            "redshift_api_target": p.redshift_api_target,
            "glue_jobs": sorted({n.id for n in p.nodes if isinstance(n, GlueJobNode)}),
            "glue_crawlers": sorted({n.crawler for n in p.nodes if isinstance(n, GlueCrawlerNode)}),
        }
    crawlers = {
        c: {"entities": sorted(v["entities"]), "pipelines": sorted(v["pipelines"])}
        for c, v in crawlers.items()
    }
    return {"glue_jobs": jobs, "glue_crawlers": crawlers, "state_machines": machines}


def stepfunctions_dir_for(directory: Path, tmp_path: Path) -> Path:
    """The real infra/stepfunctions for include/, stand-in files for the fixtures."""
    if directory == PIPELINE_DIRS["include"]:
        return REPO_ROOT / "infra" / "stepfunctions"
    out = tmp_path / "stepfunctions"
    out.mkdir()
    for path in pipeline_files(directory):
        (out / f"{path.stem}.asl.json").write_text("{}")
    return out


@pytest.fixture(params=sorted(PIPELINE_DIRS), ids=str)
def pipelines_dir(request) -> Path:
    directory = PIPELINE_DIRS[request.param]
    if not pipeline_files(directory):
        pytest.skip(f"no pipeline file in {directory} yet")
    return directory


def test_terraform_derives_the_models_glue_jobs_crawlers_and_state_machines(
    apply_module, pipelines_dir, tmp_path
):
    sf_dir = stepfunctions_dir_for(pipelines_dir, tmp_path)
    out = apply_module("pipelines", {"pipelines_dir": pipelines_dir, "stepfunctions_dir": sf_dir})
    expected = expected_from_model(pipelines_dir)

    assert sorted(out["pipelines"]) == sorted(expected["state_machines"])
    assert out["glue_jobs"] == expected["glue_jobs"]
    assert out["glue_crawlers"] == expected["glue_crawlers"]
    for name, machine in expected["state_machines"].items():
        got = out["state_machines"][name]
        assert got["definition_file"] == f"{sf_dir}/{name}.asl.json"
        for key, value in machine.items():
            assert got[key] == value, (name, key)


def test_fixture_exercises_defaults_overrides_and_shared_crawlers(apply_module, tmp_path):
    directory = PIPELINE_DIRS["fixtures"]
    out = apply_module(
        "pipelines",
        {
            "pipelines_dir": directory,
            "stepfunctions_dir": stepfunctions_dir_for(directory, tmp_path),
        },
    )
    jobs = out["glue_jobs"]
    assert set(jobs) == {"clean_orders", "clean_customers", "clean_order_payments"}
    assert jobs["clean_orders"]["worker_type"] == "G.2X"
    assert jobs["clean_orders"]["number_of_workers"] == 5
    assert jobs["clean_orders"]["arguments"] == {"entity": "orders", "mode": "strict"}
    assert jobs["clean_customers"]["worker_type"] == "G.1X"  # the model's default
    assert jobs["clean_customers"]["timeout_minutes"] == 15  # node overrides pipeline default
    assert jobs["clean_orders"]["timeout_minutes"] == 45  # pipeline default
    assert jobs["clean_order_payments"]["timeout_minutes"] == 60  # model default
    assert out["glue_crawlers"] == {
        "landing": {
            "entities": ["customers", "order_payments", "orders"],
            "pipelines": ["infra_fixture_daily", "infra_fixture_weekly"],
        }
    }
    machines = out["state_machines"]
    assert machines["infra_fixture_daily"]["stepfunctions_schedule"] == "cron(30 4 * * ? *)"
    assert machines["infra_fixture_weekly"]["stepfunctions_schedule"] is None


def test_a_pipeline_without_its_generated_state_machine_is_refused(apply_module, tmp_path):
    empty = tmp_path / "no-state-machines"
    empty.mkdir()
    with pytest.raises(
        TerraformError,
        match=r"state machine\(s\) for: infra_fixture_daily, infra_fixture_weekly; run `dwh compile`",
    ):
        apply_module(
            "pipelines", {"pipelines_dir": PIPELINE_DIRS["fixtures"], "stepfunctions_dir": empty}
        )


def test_a_glue_job_id_defined_differently_in_two_pipelines_is_refused(apply_module, tmp_path):
    pipelines = tmp_path / "pipelines"
    pipelines.mkdir()
    sf = tmp_path / "sf"
    sf.mkdir()
    daily = (PIPELINE_DIRS["fixtures"] / "infra_fixture_daily.yaml").read_text()
    (pipelines / "infra_fixture_daily.yaml").write_text(daily)
    other = daily.replace("pipeline: infra_fixture_daily", "pipeline: other").replace(
        "number_of_workers: 5", "number_of_workers: 7"
    )
    (pipelines / "other.yaml").write_text(other)
    for name in ("infra_fixture_daily", "other"):
        (sf / f"{name}.asl.json").write_text("{}")
    with pytest.raises(TerraformError, match="must define it identically: clean_orders"):
        apply_module("pipelines", {"pipelines_dir": pipelines, "stepfunctions_dir": sf})


def test_every_pipeline_has_its_generated_state_machine_to_deploy():
    names = [p.stem for p in pipeline_files(PIPELINE_DIRS["include"])]
    assert names, "include/pipelines holds no pipeline file"
    missing = [
        n for n in names if not (REPO_ROOT / "infra" / "stepfunctions" / f"{n}.asl.json").is_file()
    ]
    assert not missing, f"run `dwh compile`: no infra/stepfunctions/<name>.asl.json for {missing}"


# --- the modules deploy exactly what the pipelines module derives ----------------------------


def test_platform_feeds_the_derived_sets_to_glue_and_orchestration():
    mods = {}
    for entry in parse_module("platform").get("module", []):
        mods.update(entry)
    assert mods["pipelines"]["source"] == "../pipelines"
    assert mods["pipelines"]["pipelines_dir"] == "${local.repo_root}/include/pipelines"
    assert mods["pipelines"]["stepfunctions_dir"] == "${local.repo_root}/infra/stepfunctions"
    assert mods["glue"]["jobs"] == "${module.pipelines.glue_jobs}"
    assert mods["glue"]["crawlers"] == "${module.pipelines.glue_crawlers}"
    assert mods["orchestration"]["state_machines"] == "${module.pipelines.state_machines}"


def test_pipelines_module_reads_every_yaml_file_with_yamldecode():
    local = locals_of("pipelines")
    assert 'fileset(var.pipelines_dir, "*.yaml")' in local["files"]
    assert "yamldecode(file(" in local["pipelines"]
    assert 'n.kind == "glue_job"' in local["glue_job_nodes"]
    assert 'n.kind == "glue_crawler"' in local["crawler_nodes"]


def test_one_glue_job_per_node_named_prefix_dash_node_id():
    job = resource("glue", "aws_glue_job", "this")
    assert job["for_each"] == "${var.jobs}"
    assert job["name"] == "${local.job_names[each.key]}"
    assert locals_of("glue")["job_names"] == (
        '${{for id, j in var.jobs : id => "${var.name_prefix}-${id}"}}'
    )
    assert job["glue_version"] == "${var.glue_version}"
    assert job["command"][0]["script_location"] == "${local.scripts_uri}/${each.value.script}"
    args = job["default_arguments"]
    for fragment in (
        '"--job-bookmark-option" = "job-bookmark-enable"',
        '"--extra-py-files" = local.extra_py_files',
        '"--raw_uri" = local.raw_uri',
        '"--processed_uri" = local.processed_uri',
        '"--${k}" => v',
    ):
        assert fragment in re.sub(r"\s+", " ", args), fragment


def test_one_crawler_per_crawler_name_over_its_raw_entities():
    crawler = resource("glue", "aws_glue_crawler", "this")
    assert crawler["for_each"] == "${var.crawlers}"
    assert locals_of("glue")["crawler_names"] == (
        '${{for c, _ in var.crawlers : c => "${var.name_prefix}-${c}"}}'
    )
    target = crawler["dynamic"][0]["s3_target"]
    assert target["for_each"] == "${each.value.entities}"
    assert target["content"][0]["path"] == "${local.raw_uri}/${s3_target.value}/"


def test_one_state_machine_per_pipeline_from_its_generated_file():
    machine = resource("orchestration", "aws_sfn_state_machine", "this")
    assert machine["for_each"] == "${var.state_machines}"
    assert machine["definition"] == "${file(each.value.definition_file)}"
    names = locals_of("orchestration")["state_machine_names"]
    assert '"${var.name_prefix}-${p}"' in names


def test_schedules_run_the_pipelines_stepfunctions_schedule_in_utc():
    schedule = resource("orchestration", "aws_scheduler_schedule", "pipeline")
    assert schedule["for_each"] == "${local.scheduled}"
    assert schedule["schedule_expression"] == "${each.value.stepfunctions_schedule}"
    assert schedule["schedule_expression_timezone"] == "UTC"
    assert schedule["target"][0]["arn"] == "${aws_sfn_state_machine.this[each.key].arn}"
    assert "sm.stepfunctions_schedule != null" in locals_of("orchestration")["scheduled"]


def test_execution_input_carries_every_config_key_the_state_machines_read():
    from dwh_tools.compile_stepfunctions import INPUT_EXAMPLE

    config_keys = set(json.loads(json.dumps(INPUT_EXAMPLE))["config"])
    config = locals_of("orchestration")["execution_config"]
    assert config_keys <= set(config), config_keys - set(config)
    schedule = resource("orchestration", "aws_scheduler_schedule", "pipeline")
    assert schedule["target"][0]["input"] == "${jsonencode({config = local.execution_config})}"


def test_real_pipelines_state_machines_start_the_jobs_terraform_names():
    """The generated state machines start <resource_prefix>-<node id>, the Terraform job name."""
    for name, p in models(PIPELINE_DIRS["include"]).items():
        path = REPO_ROOT / "infra" / "stepfunctions" / f"{name}.asl.json"
        if not path.is_file():
            continue
        text = path.read_text()
        for n in p.nodes:
            if isinstance(n, GlueJobNode):
                assert f"States.Format('{{}}-{n.id}', $.config.resource_prefix)" in text, n.id
            if isinstance(n, GlueCrawlerNode):
                assert f"States.Format('{{}}-{n.crawler}', $.config.resource_prefix)" in text


def test_environments_deploy_the_platform_from_the_repository_root():
    for env in ("dev", "prod"):
        from infra_support import INFRA, parse_hcl

        mods = module_blocks(parse_hcl(INFRA / "envs" / env / "main.tf"))
        assert mods["platform"]["source"] == "../../modules/platform"
        assert mods["platform"]["repo_root"] == '${abspath("${path.root}/../../..")}'
        assert (INFRA / "envs" / env / "../../..").resolve() == REPO_ROOT
