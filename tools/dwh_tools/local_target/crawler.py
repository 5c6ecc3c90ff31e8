"""The local stand-in for the Glue crawler: detect and infer landed schemas into a local catalog.

For each entity landed on the logical date it reads the file's first bytes and, with the same
detection as the Glue job (:func:`olist_formats.detect`), records how the file is written (encoding,
delimiter, quoting, each timestamp column's layout) and the type of every column, then compares
with the catalog's latest version:
- an added column, or columns in another order, is recorded as drift and tolerated (the Glue job
  reads by header name);
- a missing contract column, a timestamp layout that is unknown or undecidable, or a typed column
  whose sampled values are mostly not of its type raises :class:`SchemaDriftError` (a
  :class:`~olist_contract.ContractError`) naming the entity, the file and the column.
A new catalog version (catalog/<entity>/v<N>.json) is written only when the schema changed.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from olist_contract import ENTITIES, ContractError
from olist_formats import HEAD_BYTES, SAMPLE_ROWS, decode, detect


class SchemaDriftError(ContractError):
    """An incompatible schema change; the message names the entity, the file and the column."""


def _is(value: str, type_: type) -> bool:
    try:
        type_(value)
    except ValueError:
        return False
    return True


def _infer(values: list[str]) -> str:
    """The type of a column that is not in the contract, from its sampled values."""
    values = [v.strip() for v in values if v.strip()]
    if values and all(_is(v, int) for v in values):
        return "int"
    if values and all(_is(v, float) for v in values):
        return "double"
    return "string"


def crawl_entity(
    entity_name: str, path: Path, catalog_root: Path, ds: str, declared: dict | None = None
) -> dict:
    entity = ENTITIES[entity_name]
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)  # what detection reads; never the whole file
    if not head.strip():
        return {"file": str(path), "rows_sampled": 0, "note": "empty file", "drift": []}
    try:
        formats = detect(entity, head, str(path), declared)
    except ContractError as exc:
        raise SchemaDriftError(str(exc).split(": ", 1)[1]) from None
    text, _ = decode(head)
    reader = csv.reader(io.StringIO(text), delimiter=formats.delimiter, quotechar=formats.quote)
    next(reader, None)
    rows = [r for _, r in zip(range(SAMPLE_ROWS), reader, strict=False)]
    columns = {}
    for i, name in enumerate(formats.header):
        if name in entity.column_names:
            columns[name] = entity.column(name).type
        else:
            columns[name] = _infer([r[i] for r in rows if len(r) == len(formats.header)])
    schema = {
        "columns": columns,
        "encoding": formats.encoding,
        "delimiter": formats.delimiter,
        "quote": formats.quote,
        "timestamp_formats": formats.timestamp_formats,
    }
    entity_dir = catalog_root / entity_name
    entity_dir.mkdir(parents=True, exist_ok=True)
    versions = sorted(entity_dir.glob("v*.json"), key=lambda p: int(p.stem[1:]))
    latest = json.loads(versions[-1].read_text()) if versions else None
    drift = list(formats.notes)
    if latest and latest["schema"]["columns"] != columns:
        drift.append(f"schema changed since v{latest['version']}")
    version = latest["version"] if latest else 0
    if latest is None or latest["schema"] != schema:
        version += 1
        (entity_dir / f"v{version}.json").write_text(
            json.dumps(
                {"version": version, "first_seen": ds, "file": str(path), "schema": schema},
                indent=2,
            )
        )
    return {
        "file": str(path),
        "version": version,
        "rows_sampled": len(rows),
        "formats": formats.to_json(),
        "drift": drift,
    }


def crawl(
    raw_root: Path,
    catalog_root: Path,
    ds: str,
    entities: list[str] | None = None,
    declared: dict[str, dict] | None = None,
) -> dict:
    """Crawl the date's files of ``entities``; ``declared``: entity -> formats the pipeline
    file declares for it (see olist_formats.detect).

    Every entity is crawled before failing, so one error names every file that broke the
    contract, one per line."""
    report, problems = {}, []
    for name in entities or list(ENTITIES):
        path = Path(raw_root) / name / f"ingest_date={ds}" / ENTITIES[name].file_name
        if not path.exists():
            report[name] = {"absent": True}
            continue
        try:
            report[name] = crawl_entity(
                name, path, Path(catalog_root), ds, (declared or {}).get(name)
            )
        except SchemaDriftError as exc:
            problems.append(str(exc).split(": ", 1)[1])
    if problems:
        raise SchemaDriftError("\n".join(problems))
    return report
