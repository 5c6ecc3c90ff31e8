"""Injected transient failures on the local target, to rehearse retries and alerts.

A file ``$DWH_HOME/faults/<dag_id>.<task_id>`` holding a number N makes the next N tries of that
task fail before doing any work; each try spends one. ``dwh fault`` writes the file. Operators call
:func:`raise_if_injected` first thing in ``execute``. Nothing happens when the folder is absent.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from dwh import config


class InjectedFault(RuntimeError):
    """A failure asked for through $DWH_HOME/faults; the task's retry policy applies as usual."""


def fault_path(dag_id: str, task_id: str) -> Path:
    return config.dwh_home() / "faults" / f"{dag_id}.{task_id}"


def inject(dag_id: str, task_id: str, times: int = 1) -> Path:
    """Make the next ``times`` tries of the task fail."""
    if times < 1:
        raise ValueError("times must be at least 1")
    path = fault_path(dag_id, task_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{times}\n")
    return path


def raise_if_injected(dag_id: str, task_id: str) -> None:
    path = fault_path(dag_id, task_id)
    if not path.exists():
        return
    with path.open("r+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        text = fh.read().strip()
        remaining = int(text) if text.isdigit() else 0
        if remaining <= 0:
            return
        fh.seek(0)
        fh.truncate()
        fh.write(f"{remaining - 1}\n")
    raise InjectedFault(
        f"injected transient failure of {dag_id}.{task_id} ({remaining - 1} more to come; "
        f"file {path})"
    )
