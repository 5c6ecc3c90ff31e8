"""The diagram runtime: a pipeline graph as a Mermaid flowchart (``dwh graph``, the README)."""

from __future__ import annotations

# kind -> the Mermaid node shape (opening, closing) that draws it.
SHAPES = {
    "glue_crawler": ("[/", "/]"),
    "glue_job": ("[[", "]]"),
    "load": ("[(", ")]"),
    "sql": ("[", "]"),
    "quality": ("{{", "}}"),
    "notify": (">", "]"),
}


def mermaid(pipeline) -> str:
    lines = ["flowchart LR"]
    for n in pipeline.nodes:
        left, right = SHAPES[n.kind]
        lines.append(f'    {n.id}{left}"{n.id}<br/><small>{n.kind}</small>"{right}')
    for a, b in sorted(pipeline.edges()):
        lines.append(f"    {a} --> {b}")
    return "\n".join(lines) + "\n"
