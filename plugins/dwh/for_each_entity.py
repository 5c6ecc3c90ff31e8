"""Per-entity nodes stated once: the ``for_each_entity`` block of a pipeline file.

A pipeline file may carry, beside ``nodes``, one block that lists the entities and the node
templates to repeat for each of them::

    for_each_entity:
      entities: [orders, customers]
      after: crawl_raw                  # optional: where the expanded nodes go (default: the end)
      nodes:
        - {id: "load_{entity}", kind: load, entity: "{entity}", table: "staging.{entity}"}
      checks:                           # optional: check templates, put first in a quality node
        check_warehouse:
          - {name: "reconciled_{entity}", type: reconciliation, entity: "{entity}"}

``{entity}`` in any string of a template becomes the entity name, and a node's ``entities``
written ``"{entities}"`` (the crawler's) becomes the entity list. In an ordinary node, a list item
with ``{entity}`` becomes one item per entity: ``depends_on: ["load_{entity}"]`` waits for every
entity's load (the gate, which reconciles each of them). Templates are expanded
template by template (every entity's first template, then every entity's second, ...), before the
file is validated, so the compilers only ever see ordinary nodes and a validation error names the
expanded node id (``load_orders``). Runs at DAG parse time: standard library only.
"""

from __future__ import annotations

import re
from typing import Any

KEY = "for_each_entity"
PLACEHOLDER = "{entity}"
LIST_PLACEHOLDER = "{entities}"
_FIELDS = ("entities", "after", "nodes", "checks")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A single-brace {word} that is not a Jinja {{ ... }}: a placeholder, known or mistyped.
_ANY_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


class TemplateError(ValueError):
    """The for_each_entity block is malformed; each problem names the node and the field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _substitute(value: Any, entity: str | None, entities: list[str]) -> Any:
    if isinstance(value, str):
        if value == LIST_PLACEHOLDER:
            return list(entities)
        return value.replace(PLACEHOLDER, entity) if entity is not None else value
    if isinstance(value, list):
        if entity is None:  # outside the templates, "load_{entity}" in a list is one per entity
            return [
                _substitute(v.replace(PLACEHOLDER, e) if e else v, e, entities)
                for v in value
                for e in (entities if isinstance(v, str) and PLACEHOLDER in v else [None])
            ]
        return [_substitute(v, entity, entities) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, entity, entities) for k, v in value.items()}
    return value


def _unknown_placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return {m for m in _ANY_PLACEHOLDER.findall(value) if m not in ("entity", "entities")}
    if isinstance(value, list):
        return set().union(*(_unknown_placeholders(v) for v in value))
    if isinstance(value, dict):
        return set().union(*(_unknown_placeholders(v) for v in value.values()))
    return set()


def _template_problems(template: Any, where: str, key: str) -> list[str]:
    """Problems of one node (key 'id') or check (key 'name') template."""
    if not isinstance(template, dict):
        return [f"{where}: a template must be a mapping"]
    ident = template.get(key)
    label = f"{'node' if key == 'id' else 'check'} {ident!r}"
    problems = []
    if not isinstance(ident, str) or PLACEHOLDER not in ident:
        problems.append(
            f"{where} {label} field {key!r}: a for_each_entity template's {key} must contain "
            f"{PLACEHOLDER}, or every entity gets the same {key}"
        )
    unknown = _unknown_placeholders(template)
    if unknown:
        names = ", ".join(f"{{{u}}}" for u in sorted(unknown))
        problems.append(
            f"{where} {label}: unknown placeholder(s) {names} (a template knows {PLACEHOLDER})"
        )
    return problems


def expand(raw: dict) -> dict:
    """The pipeline document with its for_each_entity block expanded into ordinary nodes.

    A document without the block comes back unchanged. Raises :class:`TemplateError`."""
    if KEY not in raw:
        return raw
    block = raw[KEY]
    where = f"field {KEY!r}"
    if not isinstance(block, dict):
        raise TemplateError([f"{where}: expected a mapping with entities and nodes"])
    allowed = ", ".join(_FIELDS)
    problems = [
        f"{where}: unknown key {k!r} (allowed: {allowed})" for k in block if k not in _FIELDS
    ]
    entities = block.get("entities")
    if (
        not isinstance(entities, list)
        or not entities
        or not all(isinstance(e, str) and _NAME.match(e) for e in entities)
    ):
        problems.append(f"{where} field 'entities': expected a non-empty list of entity names")
        entities = []
    elif len(set(entities)) != len(entities):
        dupes = sorted({e for e in entities if entities.count(e) > 1})
        problems.append(f"{where} field 'entities': listed twice: {', '.join(dupes)}")
    templates = block.get("nodes", [])
    if not isinstance(templates, list):
        problems.append(f"{where} field 'nodes': expected a list of node templates")
        templates = []
    for t in templates:
        problems += _template_problems(t, where, "id")
    checks = block.get("checks", {})
    if not isinstance(checks, dict):
        problems.append(f"{where} field 'checks': expected quality node id -> check templates")
        checks = {}
    if not templates and not checks:
        problems.append(f"{where}: has neither node nor check templates")

    nodes = raw.get("nodes")
    nodes = list(nodes) if isinstance(nodes, list) else []
    ids = [n.get("id") if isinstance(n, dict) else None for n in nodes]
    for node_id, check_templates in checks.items():
        if node_id not in ids:
            problems.append(
                f"node {node_id!r} field 'checks': for_each_entity checks for a node that is "
                "not in nodes"
            )
        if not isinstance(check_templates, list):
            problems.append(f"node {node_id!r} field 'checks': expected a list of check templates")
            continue
        for c in check_templates:
            problems += _template_problems(c, f"node {node_id!r} field 'checks':", "name")
    after = block.get("after")
    if after is not None and after not in ids:
        problems.append(f"{where} field 'after': {after!r} is not a node of nodes")
    if problems:
        raise TemplateError(problems)

    expanded = [_substitute(t, e, entities) for t in templates for e in entities]
    out_nodes = []
    for node in nodes:
        node = _substitute(node, None, entities)
        if isinstance(node, dict) and node.get("id") in checks:
            per_entity = [_substitute(c, e, entities) for c in checks[node["id"]] for e in entities]
            node = {**node, "checks": per_entity + list(node.get("checks") or [])}
        out_nodes.append(node)
    at = ids.index(after) + 1 if after is not None else len(out_nodes)
    out_nodes[at:at] = expanded
    return {**{k: v for k, v in raw.items() if k != KEY}, "nodes": out_nodes}


def publish(schema: dict, node_kinds: tuple[str, ...]) -> dict:
    """The pipeline JSON Schema (of the file as written) with the for_each_entity block, and
    "{entities}" allowed for a node's list of entities (the crawler's)."""
    schema["properties"][KEY] = json_schema(node_kinds)
    for definition in schema.get("$defs", {}).values():
        field = definition.get("properties", {}).get("entities")
        if field and field.get("type") == "array":
            definition["properties"]["entities"] = {
                "anyOf": [field, {"const": LIST_PLACEHOLDER}],
                "title": field.pop("title", "Entities"),
            }
    return schema


def json_schema(node_kinds: tuple[str, ...]) -> dict:
    """The JSON Schema of the for_each_entity block itself."""
    template_id = {"type": "string", "pattern": r"\{entity\}"}
    return {
        "title": "For Each Entity",
        "description": (
            "Node and check templates repeated for each listed entity before validation; "
            "{entity} in a string becomes the entity name, a value of exactly {entities} the "
            "entity list."
        ),
        "type": "object",
        "additionalProperties": False,
        "required": ["entities"],
        "properties": {
            "entities": {
                "type": "array",
                "items": {"type": "string", "pattern": _NAME.pattern},
                "minItems": 1,
                "uniqueItems": True,
            },
            "after": {
                "type": "string",
                "description": "The expanded nodes follow this node (default: the end).",
            },
            "nodes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "kind"],
                    "properties": {"id": template_id, "kind": {"enum": list(node_kinds)}},
                },
            },
            "checks": {
                "type": "object",
                "description": "Quality node id -> check templates, put first in its checks.",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "type"],
                        "properties": {"name": template_id},
                    },
                },
            },
        },
    }
