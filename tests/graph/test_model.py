"""The pipeline model: what loads, and how every kind of mistake is reported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from dwh.graph import PipelineError, json_schema, load_all, load_pipeline

GOOD = """
pipeline: {name}
description: d
doc_md: triage notes
owner: data-platform
tags: [fixture]
schedule: "0 2 * * *"
start_date: 2024-01-01
nodes:
  - id: crawl_raw
    kind: glue_crawler
    crawler: raw
    entities: [orders]
  - id: clean_orders
    kind: glue_job
    script: clean_entity.py
    arguments: {{entity: orders}}
    depends_on: [crawl_raw]
  - id: load_orders
    kind: load
    entity: orders
    table: staging.orders
    depends_on: [clean_orders]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def mutate(name: str, fn) -> str:
    doc = yaml.safe_load(GOOD.format(name=name))
    fn(doc)
    return yaml.safe_dump(doc, sort_keys=False)


def error_of(tmp_path, name, fn, include) -> str:
    path = write(tmp_path, name, mutate(name, fn))
    with pytest.raises(PipelineError) as exc:
        load_pipeline(path, include)
    return str(exc.value)


def test_good_pipeline_loads_with_defaults(tmp_path, fixture_include):
    p = load_pipeline(write(tmp_path, "good", GOOD.format(name="good")), fixture_include)
    assert [n.id for n in p.nodes] == ["crawl_raw", "clean_orders", "load_orders"]
    assert p.topological_order() == ["crawl_raw", "clean_orders", "load_orders"]
    node = p.nodes[1]
    assert p.retries_for(node).count == 2 and p.retries_for(node).exponential_backoff
    assert p.timeout_for(node) == 60
    assert "sns" in p.alerts_for(node).on_failure


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (
            lambda d: d["nodes"][2].update(depends_on=["clean_order"]),
            "node 'load_orders' field 'depends_on': unknown dependency 'clean_order'",
        ),
        (
            lambda d: d["nodes"][0].update(depends_on=["load_orders"]),
            "field 'depends_on': cycle",
        ),
        (
            lambda d: d["nodes"][2].update(id="clean_orders"),
            "node 'clean_orders' field 'id': duplicate node id",
        ),
        (
            lambda d: d["nodes"].append(
                {"id": "build_x", "kind": "sql", "sql": "dw/nope.sql", "depends_on": []}
            ),
            "node 'build_x' field 'sql': missing SQL file include/sql/dw/nope.sql",
        ),
        (
            lambda d: d["nodes"][1].update(script="nope.py"),
            "node 'clean_orders' field 'script': missing Glue script include/glue/nope.py",
        ),
        (
            lambda d: d["nodes"][1].update(kind="lambda"),
            "node 'clean_orders' field 'kind'",
        ),
        (lambda d: d.update(schedule="every day at two"), "field 'schedule'"),
        (lambda d: d.update(schedule="61 2 * * *"), "field 'schedule'"),
        (lambda d: d.update(tags=["misc"]), "unknown tag(s) misc"),
        (
            lambda d: d["nodes"][1].update(
                retries={"count": 2, "delay_seconds": 60, "max_delay_seconds": 5}
            ),
            "node 'clean_orders' field 'retries'",
        ),
        (
            lambda d: d["nodes"][2].update(tabel="staging.orders"),
            "node 'load_orders' field 'tabel': Extra inputs are not permitted",
        ),
    ],
    ids=[
        "unknown-dependency",
        "cycle",
        "duplicate-id",
        "missing-sql",
        "missing-script",
        "unknown-kind",
        "bad-schedule",
        "bad-cron-value",
        "unknown-tag",
        "bad-retries",
        "misspelt-field",
    ],
)
def test_errors_name_file_node_and_field(tmp_path, fixture_include, fn, expected):
    message = error_of(tmp_path, "broken", fn, fixture_include)
    assert "broken.yaml" in message
    assert expected in message


def test_check_type_requires_its_fields(tmp_path, fixture_include):
    def add_check(d):
        d["nodes"].append(
            {
                "id": "check_orders",
                "kind": "quality",
                "checks": [{"name": "grain", "type": "unique", "table": "staging.orders"}],
            }
        )

    message = error_of(tmp_path, "badcheck", add_check, fixture_include)
    assert "node 'check_orders' field 'checks.0'" in message
    assert "needs columns" in message


def test_pipeline_name_must_match_file(tmp_path, fixture_include):
    path = write(tmp_path, "other", GOOD.format(name="good"))
    with pytest.raises(PipelineError, match="must equal the file stem 'other'"):
        load_pipeline(path, fixture_include)


def test_one_broken_file_does_not_stop_the_others(tmp_path, fixture_include):
    good = write(tmp_path, "good", GOOD.format(name="good"))
    bad = write(tmp_path, "bad", "pipeline: bad\nnodes: [")
    result = load_all([good, bad], fixture_include)
    assert list(result.pipelines) == ["good"]
    assert list(result.errors) == [bad]
    assert "not valid YAML" in str(result.errors[bad])


def test_committed_json_schema_matches_the_model():
    import json

    from dwh_tools.cli import SCHEMA_PATH

    assert json.loads(SCHEMA_PATH.read_text()) == json.loads(
        json.dumps(json_schema(), sort_keys=True)
    ), "include/pipelines/pipeline.schema.json drifted: run `dwh compile`"


def test_every_pipeline_file_validates_against_the_json_schema():
    import jsonschema

    from dwh.graph import pipeline_files

    schema = json_schema()
    files = pipeline_files() + sorted(
        (Path(__file__).parents[1] / "fixtures/include/pipelines").glob("*.yaml")
    )
    assert files
    for path in files:
        doc = yaml.safe_load(path.read_text())
        # YAML parses start_date as a date; the schema expects its JSON form.
        doc["start_date"] = str(doc["start_date"])
        jsonschema.validate(doc, schema)
