"""The warehouse tables the pipelines publish as Airflow assets, so other DAGs can run on them.

Every table of a published schema (``mart``) is an asset, and an outlet of the task that writes
it: when that task succeeds Airflow records an asset event, and a DAG scheduled on the asset
(``schedule=[Asset("x-dwh://warehouse/mart/executive_monthly")]``) is queued.

The URI of a table is ``x-dwh://warehouse/<schema>/<table>``, the same on both targets (the local
DuckDB warehouse stands in for Redshift) and in every environment. Airflow does no semantic
validation of an ``x-`` scheme. The amazon provider's ``redshift://`` scheme was not chosen: its
URI names the cluster's endpoint, port and database (``redshift://<host>:5439/<db>/<schema>/<table>``),
which differ per environment and are known only from Variables at run time, while an outlet is
fixed when the DAG is parsed; and it normalises the URI but not the asset's name, so a consumer
spelling the port differently would declare another asset.

Which node writes which table is read from the SQL by :mod:`dwh_tools.lineage` (sqlglot, not on
MWAA) when ``dwh compile`` runs, and kept in the generated ``include/pipelines/assets.json``. A
DAG being parsed reads only that file: no SQL, no network. The file records the SQL files of
every node it was derived from, so a pipeline file edited since ``dwh compile`` fails to parse
with a message saying to run it; an edited SQL file is caught by ``dwh compile --check``.
"""

from __future__ import annotations

import json
from pathlib import Path

from dwh import config
from dwh.graph import LoadNode, PipelineError, SqlNode

SCHEME = "x-dwh"
WAREHOUSE = "warehouse"
PUBLISHED_SCHEMAS = ("mart",)
MANIFEST_NAME = "assets.json"


def uri(table: str) -> str:
    """The asset URI of a warehouse table written ``schema.table``."""
    schema, _, name = table.partition(".")
    return f"{SCHEME}://{WAREHOUSE}/{schema}/{name}"


def published(table: str) -> bool:
    return table.partition(".")[0] in PUBLISHED_SCHEMAS


def manifest_path(pipelines_dir: Path | None = None) -> Path:
    return (pipelines_dir or config.PIPELINES_DIR) / MANIFEST_NAME


def sources(node) -> list[str]:
    """What decides the tables a node writes, as the pipeline file says it: its SQL files, or
    a load's target table (other kinds write only ops tables)."""
    if isinstance(node, SqlNode):
        return list(node.sql)
    if isinstance(node, LoadNode):
        return [node.table]
    return []


def published_tables(pipeline, pipelines_dir: Path | None = None) -> dict[str, list[str]]:
    """Node id -> the published tables it writes (only nodes writing some), from the manifest.

    No manifest beside the pipeline files (a folder of test pipelines) means no outlets. A
    manifest that does not match the pipeline file (edited since ``dwh compile``) raises
    :class:`~dwh.graph.PipelineError` naming the manifest, the pipeline and the node."""
    path = manifest_path(pipelines_dir)
    if not path.is_file():
        return {}
    entry = json.loads(path.read_text(encoding="utf-8"))["pipelines"].get(pipeline.pipeline)
    rerun = "run `dwh compile`"
    if entry is None:
        raise PipelineError(path, [f"pipeline {pipeline.pipeline!r} is not in it; {rerun}"])
    current = {n.id: sources(n) for n in pipeline.nodes if sources(n)}
    recorded = {node_id: e["sources"] for node_id, e in entry.items()}
    for node_id in sorted(current.keys() | recorded.keys()):
        if current.get(node_id) != recorded.get(node_id):
            raise PipelineError(
                path,
                [
                    f"pipeline {pipeline.pipeline!r} node {node_id!r} field 'sources': derived "
                    f"from {recorded.get(node_id)}, the pipeline file now says "
                    f"{current.get(node_id)}; {rerun}"
                ],
            )
    return {node_id: e["publishes"] for node_id, e in entry.items() if e["publishes"]}


def outlets(pipeline, pipelines_dir: Path | None = None) -> dict[str, list]:
    """Node id -> the Airflow assets of the published tables it writes."""
    from airflow.sdk import Asset

    return {
        node_id: [Asset(uri(t)) for t in tables]
        for node_id, tables in published_tables(pipeline, pipelines_dir).items()
    }
