"""The local stand-in for the Glue crawler: infer landed schemas into a versioned local catalog.

For each entity landed on the logical date it reads the header and a sample of rows, infers a type
per column, and compares with the contract and with the catalog's latest version:
- an added column is recorded as drift and tolerated (the Glue job ignores it);
- a missing contract column, or a typed column whose sampled values are mostly not of its type,
  raises :class:`SchemaDriftError` naming the entity, the file and the column.
A new catalog version (catalog/<entity>/v<N>.json) is written only when the schema changed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from olist_contract import DECIMAL, DOUBLE, ENTITIES, INT, TIMESTAMP, ContractError

SAMPLE_ROWS = 1000


class SchemaDriftError(ContractError):
    """An incompatible schema change; the message names the entity, the file and the column."""


def _read_sample(path: Path) -> tuple[list[str], list[list[str]], str]:
    data = path.read_bytes()[: 4 * 1024 * 1024]
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 4:  # a multi-byte character cut by the sample window
            text, encoding = data[: exc.start].decode("utf-8"), "utf-8"
        else:
            text, encoding = data.decode("latin-1"), "latin-1"
    text = text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return [], [], encoding
    # The last sampled row may be cut by the sample window.
    return rows[0], rows[1 : SAMPLE_ROWS + 1], encoding


def _parses(value: str, type_: str) -> bool:
    try:
        if type_ == INT:
            int(value)
        elif type_ in (DOUBLE, DECIMAL):
            float(value)
        elif type_ == TIMESTAMP:
            dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
        return True
    except ValueError:
        return False


def _infer(values: list[str]) -> str:
    values = [v for v in values if v.strip()]
    if not values:
        return "string"
    for type_ in (INT, DOUBLE, TIMESTAMP):
        if all(_parses(v.strip(), type_) for v in values):
            return "double" if type_ == DOUBLE else type_
    return "string"


def crawl_entity(entity_name: str, path: Path, catalog_root: Path, ds: str) -> dict:
    entity = ENTITIES[entity_name]
    header, rows, encoding = _read_sample(path)
    if not header:
        return {"file": str(path), "rows_sampled": 0, "note": "empty file", "drift": []}
    header = [h.strip() for h in header]
    missing = [c for c in entity.column_names if c not in header]
    if missing:
        raise SchemaDriftError(
            f"entity {entity_name}, file {path}: missing column(s) {', '.join(missing)}"
        )
    columns = {}
    for i, name in enumerate(header):
        sample = [r[i] for r in rows if len(r) == len(header)]
        columns[name] = _infer(sample)
        if name in entity.column_names:
            want = entity.column(name).type
            if want in (INT, DOUBLE, DECIMAL, TIMESTAMP):
                filled = [v.strip() for v in sample if v.strip()]
                bad = [v for v in filled if not _parses(v, want)]
                # A few bad values are the Glue job's to quarantine; mostly bad means a new type.
                if filled and len(bad) > len(filled) / 2:
                    raise SchemaDriftError(
                        f"entity {entity_name}, file {path}: column {name} is {want} in the "
                        f"contract but {len(bad)} of {len(filled)} sampled values are not "
                        f"(e.g. {bad[0]!r})"
                    )
    added = [c for c in header if c not in entity.column_names]
    schema = {"columns": columns, "encoding": encoding}
    entity_dir = catalog_root / entity_name
    entity_dir.mkdir(parents=True, exist_ok=True)
    versions = sorted(entity_dir.glob("v*.json"), key=lambda p: int(p.stem[1:]))
    latest = json.loads(versions[-1].read_text()) if versions else None
    drift = [f"added column {c} (tolerated)" for c in added]
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
    return {"file": str(path), "version": version, "rows_sampled": len(rows), "drift": drift}


def crawl(raw_root: Path, catalog_root: Path, ds: str, entities: list[str] | None = None) -> dict:
    report = {}
    for name in entities or list(ENTITIES):
        path = Path(raw_root) / name / f"ingest_date={ds}" / ENTITIES[name].file_name
        if not path.exists():
            report[name] = {"absent": True}
            continue
        report[name] = crawl_entity(name, path, Path(catalog_root), ds)
    return report
