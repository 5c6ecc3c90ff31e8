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


@pytest.fixture(params=PIPELINES, ids=[p[0] for p in PIPELINES])
def pipeline_and_include(request):
    _, path, include = request.param
    return load_pipeline(path, include), include
