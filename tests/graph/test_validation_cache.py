"""A pipeline file is validated once per content: the result is reused, in the process and from
the on-disk cache, until the file changes; an edited file is validated again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dwh import graph
from dwh.graph import PipelineError, load_pipeline

GOOD = """
pipeline: p
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
  - id: build_x
    kind: sql
    sql: [x.sql]
    depends_on: [crawl_raw]
"""


@pytest.fixture
def setup(tmp_path, monkeypatch):
    """A pipeline file, its include folder, a private cache folder, and a count of validations."""
    include = tmp_path / "include"
    (include / "sql").mkdir(parents=True)
    (include / "sql" / "x.sql").write_text("select 1")
    path = tmp_path / "pipelines" / "p.yaml"
    path.parent.mkdir()
    path.write_text(GOOD)
    monkeypatch.setenv(graph.CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(graph, "_VALIDATED", {})
    calls = []
    validate = graph._validate

    def counted(*args):
        calls.append(args[0])
        return validate(*args)

    monkeypatch.setattr(graph, "_validate", counted)
    return path, include, calls


def new_process(monkeypatch) -> None:
    """What a fresh DAG-parsing process has: the on-disk cache, nothing in memory."""
    monkeypatch.setattr(graph, "_VALIDATED", {})


def test_the_same_content_is_validated_once_then_read_from_the_cache(setup, monkeypatch):
    path, include, calls = setup
    first = load_pipeline(path, include)
    assert load_pipeline(path, include) is first  # same process: kept in memory
    new_process(monkeypatch)
    again = load_pipeline(path, include)
    assert len(calls) == 1
    assert [n.id for n in again.nodes] == ["crawl_raw", "build_x"]
    assert again.source_dir == path.parent


def test_an_edited_file_is_validated_again_and_an_invalid_edit_still_fails(setup, monkeypatch):
    path, include, calls = setup
    load_pipeline(path, include)
    path.write_text(GOOD.replace("description: d", "description: edited"))
    assert load_pipeline(path, include).description == "edited"
    assert len(calls) == 2
    path.write_text(GOOD.replace("crawler: raw", "crawler: raw\n    retries: {count: -1}"))
    for _ in range(2):  # a failure is never cached: it fails on every parse
        new_process(monkeypatch)
        with pytest.raises(PipelineError, match="node 'crawl_raw' field 'retries.count'"):
            load_pipeline(path, include)
    assert len(calls) == 4
    path.write_text(GOOD)
    new_process(monkeypatch)
    assert load_pipeline(path, include).description == "d"
    assert len(calls) == 4  # the first content is still in the on-disk cache


def test_a_named_sql_file_removed_after_caching_is_still_reported(setup, monkeypatch):
    path, include, _ = setup
    load_pipeline(path, include)
    (include / "sql" / "x.sql").unlink()
    new_process(monkeypatch)
    with pytest.raises(PipelineError, match="missing SQL file include/sql/x.sql"):
        load_pipeline(path, include)


def test_a_cache_folder_others_may_write_is_not_read(setup, monkeypatch):
    path, include, calls = setup
    load_pipeline(path, include)
    folder = Path(os.environ[graph.CACHE_DIR_ENV]) / "pipelines"
    assert list(folder.glob("*.pickle"))
    folder.chmod(0o777)
    new_process(monkeypatch)
    load_pipeline(path, include)
    assert len(calls) == 2


def test_an_empty_cache_setting_keeps_nothing_on_disk(setup, monkeypatch, tmp_path):
    path, include, calls = setup
    monkeypatch.setenv(graph.CACHE_DIR_ENV, "")
    load_pipeline(path, include)
    new_process(monkeypatch)
    load_pipeline(path, include)
    assert len(calls) == 2
    assert not (tmp_path / "cache").exists()
