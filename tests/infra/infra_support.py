"""Shared helpers of the infrastructure tests: paths, HCL parsing, Terraform errors."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
MODULES = INFRA / "modules"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def tf_files() -> list[Path]:
    return sorted(p for p in INFRA.rglob("*.tf") if ".terraform" not in p.parts)


def parse_hcl(path: Path) -> dict:
    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=True)
    return hcl2.loads(path.read_text(), serialization_options=options)


def blocks(doc: dict, kind: str) -> list[tuple[str, str, dict]]:
    """(type, name, body) of every `resource`/`data` block in a parsed file."""
    found = []
    for entry in doc.get(kind, []):
        for type_, named in entry.items():
            for name, body in named.items():
                found.append((type_, name, body))
    return found


def module_blocks(doc: dict) -> dict[str, dict]:
    return {name: body for entry in doc.get("module", []) for name, body in entry.items()}


def parse_module(name: str) -> dict[str, list]:
    """Every top-level block kind of a module, merged over its files."""
    merged: dict[str, list] = {}
    for path in sorted((MODULES / name).glob("*.tf")):
        for kind, items in parse_hcl(path).items():
            if isinstance(items, list):
                merged.setdefault(kind, []).extend(items)
    return merged


def resource(module: str, type_: str, name: str, kind: str = "resource") -> dict:
    for t, n, body in blocks(parse_module(module), kind):
        if (t, n) == (type_, name):
            return body
    raise AssertionError(f"{kind} {type_}.{name} not found in infra/modules/{module}")


def locals_of(module: str) -> dict:
    merged = {}
    for entry in parse_module(module).get("locals", []):
        merged.update(entry)
    return merged


def variable_default(module: str, name: str):
    for entry in parse_module(module).get("variable", []):
        if name in entry:
            return entry[name].get("default")
    raise AssertionError(f"variable {name} not found in infra/modules/{module}")


class TerraformError(Exception):
    """Terraform failed; the message is its output with the box drawing and line wraps removed."""

    def __init__(self, output: str):
        super().__init__(re.sub(r"[\s\u2502\u2577\u2575]+", " ", output))
