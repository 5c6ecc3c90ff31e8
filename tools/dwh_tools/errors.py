"""Errors in what the user gave the ``dwh`` command (a folder, a date, a file, an option).

``dwh`` prints such an error as one line and exits 2; any other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations


class UserError(ValueError):
    """Something the user can fix by changing the command or its input; the message says what."""
