"""What a failed task says: its error's first lines and what to do about it.

The failure alert (the outbox record, the Slack text) and the end-of-run summary of ``dwh run``
show the same text: the alert computes it, the summary reads it back from the outbox. No Airflow
import, so the summary stays quick.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from olist_contract import CONTRACT_VIOLATION

ERROR_LINES = 5  # of the exception's message; the traceback stays in the log
# The local runner points the alerts at the run's whole log, since `airflow dags test` writes no
# per-task log files.
RUN_LOG_ENV = "DWH_RUN_LOG"
QUALITY_GATE = "blocking quality check"  # in the quality task's failure message
MISSING_RAW_FILE = "MissingRawFile"  # clean_entity.py: no raw file, processed rows kept


def error_text(exc: BaseException) -> str:
    """The exception's type and the first :data:`ERROR_LINES` lines of its message."""
    lines = [line.rstrip() for line in str(exc).strip().splitlines() if line.strip()]
    return _head(f"{type(exc).__name__}: " + "\n".join(lines))


def _head(text: str) -> str:
    lines = text.splitlines()
    if len(lines) <= ERROR_LINES:
        return text
    return "\n".join([*lines[:ERROR_LINES], f"... ({len(lines) - ERROR_LINES} more in the log)"])


def what_to_do(error: str | None, log: str | Path | None) -> str:
    """One line of advice for a failed task's error."""
    if error and CONTRACT_VIOLATION in error:
        found = re.search(r"\bentity (\w+)", error)
        entity = found.group(1) if found else "<entity>"
        return (
            "fix the file named above (or declare its format in the pipeline file under "
            f"ingest.entities.{entity}) and run again"
        )
    if error and MISSING_RAW_FILE in error:
        return (
            "land that date's raw file again (dwh land FOLDER --ds DATE); if its extract is empty "
            "on purpose, run again with dwh run --allow-empty (Airflow: the allow_empty param)"
        )
    if error and QUALITY_GATE in error:
        return "see ops.quality_results for the run; the marts were not refreshed"
    return f"see the task's log: {log}"


def run_failures(outbox: Path, dag_id: str, ds: str, since: dt.datetime) -> dict[str, dict]:
    """The last failure alert of each task of the run of ``dag_id`` for ``ds`` started at
    ``since``: the outbox keeps every run's alerts, and a re-run of a date has the same dag and
    logical date, hence the start time."""
    if not outbox.exists():
        return {}
    since = since.astimezone(dt.UTC).replace(microsecond=0)  # the records' "at" has seconds
    failures = {}
    for line in outbox.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a crash: the others still count
            continue
        if (
            record.get("event") == "failure"
            and record.get("dag_id") == dag_id
            and str(record.get("logical_date") or "")[:10] == ds
            and dt.datetime.fromisoformat(record["at"]) >= since
        ):
            failures[record["task_id"]] = record
    return failures


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")  # a log record, not a traceback's line
_CHAINED = ("During handling", "The above exception")


def error_from_log(log: Path, task_id: str) -> str | None:
    """The last exception of ``task_id``'s last try in the log of ``airflow dags test``, for a
    task that sends no failure alert."""
    if not log.exists():
        return None
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if f"starting task_id={task_id} " in line]
    if not starts:
        return None
    message: list[str] = []
    collecting = False
    for line in lines[starts[-1] :]:
        if f"end task task_id={task_id} " in line:
            break
        if line.startswith("Traceback "):
            collecting, message = True, []  # a chained exception's message replaces the first
        elif _TIMESTAMP.match(line) or line.startswith(_CHAINED):
            collecting = False
        elif collecting and (message or (line.strip() and not line.startswith(" "))):
            message.append(line.rstrip())  # frames are indented; the message starts unindented
    while message and not message[-1]:
        message.pop()
    if not message:
        return None
    # "package.module.Type: message" -> "Type: message", as the alerts write it.
    kind, _, rest = message[0].partition(": ")
    message[0] = f"{kind.rsplit('.', 1)[-1]}: {rest}" if rest else kind.rsplit(".", 1)[-1]
    return _head("\n".join(message))
