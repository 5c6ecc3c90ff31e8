"""Bring your own data: land a folder of Olist-shaped CSVs into the raw area for a logical date.

A file named as Olist names it is that entity's file. Any other ``.csv`` is the entity whose
contract columns its header holds, when exactly one entity's do; it lands under the Olist file
name, since the crawler and the Glue job find an entity's file by that name.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from olist_contract import ENTITIES, FILE_STEMS, Entity, InvalidRunDate, check_run_date
from olist_formats import read_header

from dwh_tools.errors import UserError

# The header is the first line; this is far more than any real header needs.
HEADER_BYTES = 64 * 1024


@dataclass(frozen=True)
class LandedFile:
    """One file of the folder and what it was landed as."""

    source: str  # its name in the folder
    entity: str
    rows: int
    by_header: bool  # False: its name is the entity's Olist file name

    def describe(self) -> str:
        how = " (matched by header)" if self.by_header else ""
        return f"{self.source} -> {self.entity}{how}"

    def as_record(self) -> dict:
        """The run report's entry: file, entity, rows and how it was matched."""
        return {
            "file": self.source,
            "entity": self.entity,
            "rows": self.rows,
            "matched_by": "header" if self.by_header else "name",
        }


class Landing(dict[str, int]):
    """Rows landed per entity, with ``files``: what each file of the folder was taken as."""

    def __init__(self, files: list[LandedFile]):
        super().__init__((f.entity, f.rows) for f in files)
        self.files = tuple(files)

    def lines(self) -> list[str]:
        return file_lines(self.files)


def file_lines(files: tuple[LandedFile, ...] | list[LandedFile]) -> list[str]:
    """One line per file: ``name -> entity (matched by header)`` and its rows."""
    width = max((len(f.describe()) for f in files), default=0)
    return [f"  {f.describe():<{width}}  {f.rows:>10} rows" for f in files]


# A file that cannot be matched by header must be named as Olist does; its error says so and
# the folder's error lists the names once.
RENAME = "name it as Olist does"


def identify(path: Path) -> tuple[Entity, bool]:
    """The entity a file holds and whether its header (rather than its name) told.

    Raises :class:`UserError` naming the file when the header matches no entity or several, or
    when there is no header to match.
    """
    if path.stem in FILE_STEMS:
        return ENTITIES[FILE_STEMS[path.stem]], False
    with path.open("rb") as fh:
        header, delimiter, _ = read_header(fh.read(HEADER_BYTES))
    if not header:
        raise UserError(
            f"{path.name}: {'empty file' if path.stat().st_size == 0 else 'no header line'}, "
            f"so its entity cannot be told; {RENAME}"
        )
    held = set(header)
    matches = [e for e in ENTITIES.values() if set(e.column_names) <= held]
    if len(matches) == 1:
        return matches[0], True
    if matches:
        raise UserError(
            f"{path.name}: its header holds the columns of {len(matches)} entities "
            f"({', '.join(e.name for e in matches)}); {RENAME} "
            f"({' or '.join(e.file_name for e in matches)})"
        )

    def holds(e: Entity) -> int:
        return len(held & set(e.column_names))

    # The entity it holds most columns of, the larger share of its columns breaking a tie.
    closest = max(ENTITIES.values(), key=lambda e: (holds(e), holds(e) / len(e.columns)))
    missing = [c for c in closest.column_names if c not in held]
    if len(missing) == len(closest.columns):
        raise UserError(
            f"{path.name}: its header ({', '.join(header)}; delimiter {delimiter!r}) holds no "
            f"contract column of any entity; {RENAME}"
        )
    raise UserError(
        f"{path.name}: its header matches no entity; closest is {closest.name} "
        f"({len(closest.columns) - len(missing)} of {len(closest.columns)} columns), "
        f"missing {', '.join(missing)}"
    )


def check_ds(ds: str) -> str:
    """The logical date, refused unless a real calendar date written YYYY-MM-DD
    (:func:`olist_contract.check_run_date`, as a user error)."""
    try:
        return check_run_date(ds)
    except InvalidRunDate as exc:
        raise UserError(str(exc)) from None


def _target(raw_root: Path, entity: Entity, ds: str) -> Path:
    """raw/<entity>/ingest_date=<ds>, refused when it resolves outside the raw area (a link)."""
    target = Path(raw_root) / entity.name / f"ingest_date={ds}"
    root = Path(raw_root).resolve()
    resolved = target.resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise UserError(
            f"{target}: resolves to {resolved}, outside the raw area {root}; nothing landed"
        )
    return target


def _rows(path: Path) -> int:
    with path.open("rb") as fh:
        # Physical lines minus the header: quoted line breaks make this an upper bound;
        # the Glue job's metrics give the exact record count.
        return max(sum(1 for _ in fh) - 1, 0)


def land(src: Path, raw_root: Path, ds: str) -> Landing:
    """Copy every CSV of ``src`` to raw/<entity>/ingest_date=<ds>/<Olist file name>.

    Every file is identified (by name, else by header) before anything is copied: one file that
    cannot be, or two files of one entity, and nothing lands. Re-landing a date replaces that
    date's files of the entities landed.
    """
    check_ds(ds)
    src = Path(src)
    if not src.exists():
        raise UserError(f"{src}: no such folder")
    if not src.is_dir():
        raise UserError(f"{src}: not a folder (give the folder that holds the CSV files)")
    entries = sorted(p for p in src.iterdir() if p.suffix.lower() == ".csv")
    # A link would copy whatever it points at (any file the user can read) into the lake.
    links = [p.name for p in entries if p.is_symlink()]
    if links:
        raise UserError(
            f"{src}: nothing landed: {', '.join(links)}: a symbolic link; "
            "copy the file itself into the folder"
        )
    files = [p for p in entries if p.is_file()]
    if not files:
        raise UserError(f"{src}: no .csv files to land")
    problems: list[str] = []
    taken: dict[str, list[tuple[Path, Entity, bool]]] = defaultdict(list)
    for path in files:
        try:
            entity, by_header = identify(path)
        except UserError as exc:
            problems.append(str(exc))
            continue
        taken[entity.name].append((path, entity, by_header))
    for name, group in taken.items():
        if len(group) > 1:
            how = ", ".join(f"{p.name} (by {'header' if h else 'name'})" for p, _, h in group)
            problems.append(f"{len(group)} files for {name}: {how}; keep one")
    if problems:
        if any(p.endswith(RENAME) for p in problems):
            names = ", ".join(sorted(e.file_name for e in ENTITIES.values()))
            problems.append(f"Olist's file names: {names}")
        raise UserError(f"{src}: nothing landed: " + "; ".join(problems))
    chosen = sorted((group[0] for group in taken.values()), key=lambda t: t[0].name)
    # Every target is checked before the first one is removed: refused means untouched.
    targets = [_target(raw_root, entity, ds) for _, entity, _ in chosen]
    landed = []
    for (path, entity, by_header), target in zip(chosen, targets, strict=True):
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copyfile(path, target / entity.file_name)
        landed.append(LandedFile(path.name, entity.name, _rows(path), by_header))
    return Landing(landed)
