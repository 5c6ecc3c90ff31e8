"""A spreadsheet-style export of Olist files, as a user's extracts often arrive.

What a spreadsheet does to a CSV it saves: US timestamps without seconds (``10/2/2017 10:56``), a
UTF-8 byte-order mark, CRLF line ends, blank padding rows (``,,,,``) for every formatted empty line,
a file renamed by hand, and an empty file for an entity that had no rows. :func:`export` writes that
from a folder of Olist files and returns what a correct load must find.

    python tests/glue/spreadsheet.py ../shared/datasets/olist_sample /tmp/export
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from pathlib import Path

from olist_contract import TIMESTAMP, entity_for_file

RENAMED = {"customers": "olistcustomerdataset.csv"}
EMPTIED = ("order_payments",)
PADDING_SHARE = 0.9  # of each file's lines


def us_timestamp(value: str) -> str:
    """2017-10-02 10:56:33 -> 10/2/2017 10:56 (a spreadsheet's default date-time display)."""
    try:
        t = dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value  # empty or already broken: left as it is
    return f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}"


def export(src: Path, out: Path, padding_share: float = PADDING_SHARE) -> dict[str, dict]:
    """Write the export of every Olist file of ``src`` into ``out``; entity -> what it holds:
    ``file`` (its name), ``records`` (data records, blank ones excluded), ``blank`` (padding)."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for path in sorted(Path(src).glob("*.csv")):
        entity = entity_for_file(path.name)
        name = RENAMED.get(entity.name, path.name)
        if entity.name in EMPTIED:
            (out / name).write_bytes(b"")
            written[entity.name] = {"file": name, "records": 0, "blank": 0}
            continue
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header, *rows = list(csv.reader(fh))
        stamps = [i for i, c in enumerate(header) if entity.column(c).type == TIMESTAMP]
        for row in rows:
            for i in stamps:
                if i < len(row):
                    row[i] = us_timestamp(row[i])
        blank = round(len(rows) * padding_share / (1 - padding_share))
        padding = [[""] * len(header)] * blank
        middle = len(rows) // 2  # a few formatted empty lines inside the data, the rest after it
        body = [*rows[:middle], *padding[:10], *rows[middle:], *padding[10:]]
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows([header, *body])
        (out / name).write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
        written[entity.name] = {"file": name, "records": len(rows), "blank": blank}
    return written


if __name__ == "__main__":
    for entity_name, facts in export(Path(sys.argv[1]), Path(sys.argv[2])).items():
        print(f"{facts['file']:<44}{entity_name:<36}{facts['records']:>8} + {facts['blank']} blank")
