"""How a raw extract is written, detected from its first bytes: encoding, delimiter, quoting,
header and each timestamp column's format.

Real extracts rarely look like the Olist originals: a spreadsheet saves ``10/2/2017 10:56``
(month/day/year, no seconds), a European locale uses ``;`` and ``d/M/yyyy``, Windows tools write
Windows-1252 or a UTF-8 byte-order mark. :func:`detect` reads what the values prove and returns
:class:`Formats`, which the Glue job reads the file with and which the crawler records in the
catalog. When the values cannot decide (every date of the sample has day and month <= 12) it
raises :class:`~olist_contract.ContractError` asking for the format, which the pipeline file can
set per entity (``ingest.entities.<entity>``), passed to the job as ``--formats``.

Standard library only: the Glue job, the local crawler and the landing all import it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import asdict, dataclass, field

from olist_contract import DECIMAL, DOUBLE, ENTITIES, INT, TIMESTAMP, ContractError, Entity

HEAD_BYTES = 4 * 1024 * 1024  # what detection reads of a file
SAMPLE_ROWS = 2000
DELIMITERS = (",", ";", "\t", "|")
# Spark's names of the encodings detection tells apart.
UTF8, UTF16, WINDOWS_1252, LATIN1 = "UTF-8", "UTF-16", "windows-1252", "ISO-8859-1"
_PYTHON_CODEC = {UTF8: "utf-8", UTF16: "utf-16", WINDOWS_1252: "cp1252", LATIN1: "latin-1"}

# Timestamp layouts, as Spark datetime patterns (optional sections in brackets): a value of a
# column may omit the seconds, or the time altogether, and still parse.
ISO = "yyyy-MM-dd[ HH:mm[:ss]]"
ISO_T = "yyyy-MM-dd'T'HH:mm[:ss]"
MONTH_FIRST = "M/d/yyyy[ H:mm[:ss]]"
DAY_FIRST = "d/M/yyyy[ H:mm[:ss]]"
_TIME = r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})" + _TIME + "$")
_SLASH_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})" + _TIME + "$")
# A column parses under a layout when at least this share of its sampled values do; the rest are
# the Glue job's to quarantine as bad_timestamp, row by row.
MIN_PARSED_SHARE = 0.5


@dataclass
class Formats:
    """How one file is written; ``header`` is the file's own columns in order, normalised."""

    encoding: str = UTF8
    delimiter: str = ","
    quote: str = '"'
    header: list[str] = field(default_factory=list)
    timestamp_formats: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self, max_length: int | None = None) -> str:
        """As JSON; without the header when it would not fit ``max_length`` characters."""
        text = json.dumps(asdict(self), sort_keys=True)
        if max_length and len(text) > max_length:
            text = json.dumps({**asdict(self), "header": None}, sort_keys=True)[:max_length]
        return text


def normalise(name: str) -> str:
    """A header name as the contract spells it: no BOM, quotes or surrounding blanks, lower case."""
    return name.replace("\ufeff", "").strip().strip('"').strip("'").strip().lower()


def decode(head: bytes) -> tuple[str, str]:
    """(text, Spark encoding name) of a file's first bytes."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore"), UTF16
    try:
        return head.decode("utf-8").lstrip("\ufeff"), UTF8
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut by the read window
            return head[: exc.start].decode("utf-8").lstrip("\ufeff"), UTF8
    try:
        return head.decode("cp1252"), WINDOWS_1252
    except UnicodeDecodeError:
        return head.decode("latin-1"), LATIN1


def _split(line: str, delimiter: str, quote: str = '"') -> list[str]:
    return next(csv.reader([line], delimiter=delimiter, quotechar=quote), [])


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text.strip() else ""


def _delimiter(header_line: str, known: set[str]) -> str:
    """The delimiter that splits the header into the most known column names."""

    def score(d: str) -> tuple[int, int]:
        names = [normalise(n) for n in _split(header_line, d)]
        return (sum(n in known for n in names), len(names))

    return max(DELIMITERS, key=score)


def _quote(text: str, delimiter: str) -> str:
    """``'`` only when fields are quoted with it and never with ``"``."""
    d = re.escape(delimiter)
    double = len(re.findall(rf'(?:^|{d})"', text[:65536], re.M))
    single = len(re.findall(rf"(?:^|{d})'", text[:65536], re.M))
    return "'" if single > 0 and double == 0 and single >= 10 else '"'


def read_header(head: bytes, entity: Entity | None = None) -> tuple[list[str], str, str]:
    """(normalised column names, delimiter, encoding) of a file from its first bytes."""
    text, encoding = decode(head)
    line = _first_line(text)
    if not line:
        return [], ",", encoding
    known = (
        set(entity.column_names)
        if entity
        else {c for e in ENTITIES.values() for c in e.column_names}
    )
    delimiter = _delimiter(line, known)
    return [normalise(n) for n in _split(line, delimiter)], delimiter, encoding


def _layout_of(values: list[str]) -> tuple[str | None, dict[str, int]]:
    """The layout most values of one column fit, and the day/month evidence of slash dates."""
    iso = iso_t = slash = 0
    proof = {"day_first": 0, "month_first": 0}
    for v in values:
        if m := _ISO_RE.match(v):
            if _valid(int(m[1]), int(m[2]), int(m[3]), m):
                iso_t += "T" in v
                iso += "T" not in v
        elif m := _SLASH_RE.match(v):
            a, b, year = int(m[1]), int(m[2]), int(m[3])
            month_first = _valid(year, a, b, m)
            day_first = _valid(year, b, a, m)
            if month_first or day_first:
                slash += 1
            if day_first and not month_first:
                proof["day_first"] += 1
            elif month_first and not day_first:
                proof["month_first"] += 1
    counts = {ISO: iso, ISO_T: iso_t, "slash": slash}
    best = max(counts, key=counts.get)
    if not values or counts[best] < MIN_PARSED_SHARE * len(values):
        return None, proof
    return best, proof


def _valid(year: int, month: int, day: int, m: re.Match) -> bool:
    try:
        dt.datetime(year, month, day, int(m[4] or 0), int(m[5] or 0), int(m[6] or 0))
    except ValueError:
        return False
    return True


def _sample_rows(text: str, formats: Formats, cut: bool) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=formats.delimiter, quotechar=formats.quote)
    next(reader, None)
    rows = []
    for row in reader:
        if len(rows) >= SAMPLE_ROWS:
            break
        if len(row) == len(formats.header) and any(v.strip() for v in row):
            rows.append(row)
    return rows[:-1] if cut and len(rows) > 1 else rows  # the read window may cut the last one


def detect(entity: Entity, head: bytes, source: str, declared: dict | None = None) -> Formats:
    """The formats of one file of ``entity`` from its first bytes (:data:`HEAD_BYTES`).

    ``declared`` holds what the pipeline file sets for the entity (``timestamp_format``,
    ``delimiter``, ``encoding``, ``quote``), which wins over detection. Raises
    :class:`~olist_contract.ContractError` naming entity, file and column when a contract column
    is missing, a timestamp column fits no known layout, or day and month cannot be told apart.
    """
    declared = declared or {}
    text, encoding = decode(head)
    if declared.get("encoding"):
        encoding = declared["encoding"]
        text = head.decode(_PYTHON_CODEC.get(encoding, encoding), errors="replace").lstrip("\ufeff")
    line = _first_line(text)
    formats = Formats(encoding=encoding)
    if not line:
        return formats
    formats.delimiter = declared.get("delimiter") or _delimiter(line, set(entity.column_names))
    formats.quote = declared.get("quote") or _quote(text, formats.delimiter)
    header = [normalise(n) for n in _split(line, formats.delimiter, formats.quote)]
    # Names Spark can hold: an unnamed or repeated column of the file becomes _column_<n>.
    seen: set[str] = set()
    for i, name in enumerate(header):
        if not name or name in seen:
            header[i] = f"_column_{i + 1}"
        seen.add(header[i])
    formats.header = header
    missing = [c for c in entity.column_names if c not in header]
    if missing:
        raise ContractError(
            f"entity {entity.name}, file {source}: missing column(s) {', '.join(missing)} "
            f"required by the contract (header has: {', '.join(header)})"
        )
    extra = [c for c in header if c not in entity.column_names]
    if extra:
        formats.notes.append(f"added column(s) {', '.join(extra)}: not in the contract, ignored")
    if [c for c in header if c in entity.column_names] != entity.column_names:
        formats.notes.append("columns in another order than the contract's: read by name")

    rows = _sample_rows(text, formats, cut=len(head) >= HEAD_BYTES)
    _check_numbers(entity, rows, header, source)
    timestamp_columns = [c.name for c in entity.columns if c.type == TIMESTAMP]
    if declared.get("timestamp_format"):
        formats.timestamp_formats = dict.fromkeys(timestamp_columns, declared["timestamp_format"])
        return formats
    proof = {"day_first": 0, "month_first": 0}
    layouts = {}
    for name in timestamp_columns:
        i = header.index(name)
        values = [r[i].strip() for r in rows if r[i].strip()]
        if not values:
            layouts[name] = ISO
            continue
        layout, evidence = _layout_of(values)
        if layout is None:
            raise ContractError(
                f"entity {entity.name}, file {source}: column {name} is a timestamp in the "
                f"contract but its sampled values fit no known layout (e.g. {values[0]!r}); "
                "set ingest.entities."
                f"{entity.name}.timestamp_format in the pipeline file (a Spark datetime pattern)"
            )
        layouts[name] = layout
        for k in proof:
            proof[k] += evidence[k]
    if "slash" in layouts.values():
        if proof["day_first"] and proof["month_first"]:
            raise ContractError(
                f"entity {entity.name}, file {source}: dates are written both day-first and "
                f"month-first ({proof['day_first']} values prove day/month, "
                f"{proof['month_first']} month/day); set ingest.entities.{entity.name}."
                "timestamp_format in the pipeline file"
            )
        if not (proof["day_first"] or proof["month_first"]):
            columns = ", ".join(n for n, lay in layouts.items() if lay == "slash")
            raise ContractError(
                f"entity {entity.name}, file {source}: column(s) {columns}: day/month order "
                "cannot be decided from the sampled values (every day and month is <= 12); set "
                f"ingest.entities.{entity.name}.timestamp_format in the pipeline file to "
                f"'{MONTH_FIRST}' or '{DAY_FIRST}'"
            )
        slash = DAY_FIRST if proof["day_first"] else MONTH_FIRST
        layouts = {n: slash if lay == "slash" else lay for n, lay in layouts.items()}
    formats.timestamp_formats = layouts
    return formats


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _check_numbers(entity: Entity, rows: list[list[str]], header: list[str], source: str) -> None:
    """A numeric column whose sampled values are mostly not numbers changed type: a few bad
    values are the Glue job's to quarantine, mostly bad means the extract is not the contract's."""
    for c in entity.columns:
        if c.type not in (INT, DOUBLE, DECIMAL):
            continue
        i = header.index(c.name)
        filled = [r[i].strip() for r in rows if r[i].strip()]
        bad = [v for v in filled if not _is_number(v)]
        if filled and len(bad) > (1 - MIN_PARSED_SHARE) * len(filled):
            raise ContractError(
                f"entity {entity.name}, file {source}: column {c.name} is {c.type} in the "
                f"contract but {len(bad)} of {len(filled)} sampled values are not numbers "
                f"(e.g. {bad[0]!r})"
            )


def from_json(text: str | None) -> dict:
    """The declared formats of a ``--formats`` job argument ('' or '{}' when none)."""
    return json.loads(text) if text and text.strip() else {}
