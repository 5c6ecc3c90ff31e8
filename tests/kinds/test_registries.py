"""Every node kind the pipeline model declares has a definition and a translation in every runtime."""

from __future__ import annotations

import importlib

import pytest

from dwh.graph import NODE_KINDS

# runtime -> (module, registry attribute); see the table in dwh.kinds.
REGISTRIES = {
    "definition": ("dwh.kinds", "KINDS"),
    "local": ("dwh_tools.local_target.operators", "OPERATORS"),
    "aws": ("dwh.operators.aws", "OPERATORS"),
    "stepfunctions": ("dwh_tools.compile_stepfunctions", "STATES"),
    "diagram": ("dwh_tools.diagram", "SHAPES"),
}


def registry(runtime: str) -> dict:
    module, name = REGISTRIES[runtime]
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("runtime", REGISTRIES)
@pytest.mark.parametrize("kind", NODE_KINDS)
def test_every_kind_has_a_translation_in_every_runtime(kind, runtime):
    module, name = REGISTRIES[runtime]
    assert kind in registry(runtime), (
        f"node kind {kind!r} has no translation in the {runtime} runtime ({module}.{name})"
    )


@pytest.mark.parametrize("runtime", REGISTRIES)
def test_no_runtime_translates_a_kind_the_model_does_not_declare(runtime):
    extra = sorted(set(registry(runtime)) - set(NODE_KINDS))
    assert extra == [], f"the {runtime} runtime translates undeclared kind(s): {extra}"
