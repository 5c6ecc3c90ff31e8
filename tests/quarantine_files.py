"""Quarantine Parquet written as the Glue job writes it, for tests that read it through
spectrum_processed: <processed>/_quarantine/<entity>/ingest_date=<d>/part-*.parquet, the catalog's
columns in the files' order (dwh_tools.processed_catalog), one row per rejected record."""

from __future__ import annotations

from pathlib import Path

import duckdb

from dwh_tools.processed_catalog import QUARANTINE_PREFIX, tables


def write_quarantine(processed: Path, entity: str, ds: str, rules: dict[str, int]) -> Path:
    """One Parquet file of ``rules`` (rule -> rejected rows) for ``entity`` on ``ds``; its path."""
    folder = Path(processed) / "_quarantine" / entity / f"ingest_date={ds}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{len(list(folder.glob('*.parquet'))):05d}.snappy.parquet"
    columns = tables()[QUARANTINE_PREFIX + entity]["columns"]
    values = {"_source_line": "n::bigint", "_rule": "rule", "_reason": "'because ' || rule"}
    select = ", ".join(
        f'{values.get(c["name"], "null::varchar")} as "{c["name"]}"' for c in columns
    )
    rows = " union all ".join(
        [f"select '{rule}' as rule, range as n from range({n})" for rule, n in rules.items()]
        or ["select 'none' as rule, 0 as n where false"]  # an empty partition keeps its schema
    )
    con = duckdb.connect()
    try:
        con.execute(f"copy (select {select} from ({rows})) to '{path}' (format parquet)")
    finally:
        con.close()
    return path
