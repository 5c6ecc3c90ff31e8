"""Bring your own data: land a folder of Olist-shaped CSVs into the raw area for a logical date."""

from __future__ import annotations

import shutil
from pathlib import Path

from olist_contract import FILE_STEMS, entity_for_file


def land(src: Path, raw_root: Path, ds: str) -> dict[str, int]:
    """Copy every Olist file of ``src`` to raw/<entity>/ingest_date=<ds>/; rows per entity.

    Files are matched by their Olist stem; anything else is refused before anything is copied.
    Re-landing a date replaces that date's files.
    """
    src = Path(src)
    files = sorted(p for p in src.glob("*.csv"))
    if not files:
        raise FileNotFoundError(f"{src}: no .csv files to land")
    unknown = [p.name for p in files if p.stem not in FILE_STEMS]
    if unknown:
        raise ValueError(
            f"{src}: not Olist file names: {', '.join(unknown)}; expected any of "
            + ", ".join(f"{s}.csv" for s in sorted(FILE_STEMS))
        )
    counts = {}
    for path in files:
        entity = entity_for_file(path.name)
        target = Path(raw_root) / entity.name / f"ingest_date={ds}"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copyfile(path, target / entity.file_name)
        with path.open("rb") as fh:
            # Physical lines minus the header: quoted line breaks make this an upper bound;
            # the Glue job's metrics give the exact record count.
            counts[entity.name] = max(sum(1 for _ in fh) - 1, 0)
    return counts
