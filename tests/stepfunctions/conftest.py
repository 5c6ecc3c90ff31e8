"""Pipelines under test for the compilers: the repository's own and the fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from dwh import config
from dwh.graph import load_pipeline, pipeline_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "include"


def all_pipelines() -> list[tuple[str, Path, Path]]:
    """(id, pipeline file, include dir) for every repository and fixture pipeline."""
    items = [(p.stem, p, config.INCLUDE_DIR) for p in pipeline_files()]
    items += [(p.stem, p, FIXTURES) for p in sorted((FIXTURES / "pipelines").glob("*.yaml"))]
    return items


PIPELINES = all_pipelines()


@pytest.fixture
def pipeline_and_include(request):
    """(pipeline, include dir): one of :data:`PIPELINES` (see :func:`pytest_generate_tests`)."""
    _, path, include = request.param
    return load_pipeline(path, include), include


@pytest.fixture
def pipeline_without_retries(pipeline_and_include):
    """The same pipeline with no retries anywhere (``retries: {count: 0}``), as a pipeline file
    may say, and as the moto tests use it (moto would replay every failing call)."""
    pipeline, include = pipeline_and_include
    no_retry = pipeline.defaults.retries.model_copy(update={"count": 0})
    return pipeline.model_copy(
        update={
            "defaults": pipeline.defaults.model_copy(update={"retries": no_retry}),
            "nodes": [n.model_copy(update={"retries": None}) for n in pipeline.nodes],
        }
    ), include


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "with_node_kind(kind): run only on the pipelines that have a node of that kind"
    )


def pytest_generate_tests(metafunc):
    """A test using ``pipeline_and_include`` runs on every pipeline; one marked
    ``with_node_kind(kind)`` on those with a node of that kind (a failure path of a kind exists
    only where the kind does)."""
    if "pipeline_and_include" not in metafunc.fixturenames:
        return
    having = PIPELINES
    marker = metafunc.definition.get_closest_marker("with_node_kind")
    if marker is not None:
        (kind,) = marker.args
        having = [
            item
            for item in PIPELINES
            if any(n.kind == kind for n in load_pipeline(item[1], item[2]).nodes)
        ]
        assert having, f"no pipeline has a {kind} node"
    metafunc.parametrize("pipeline_and_include", having, ids=[p[0] for p in having], indirect=True)
