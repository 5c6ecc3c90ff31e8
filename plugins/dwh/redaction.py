"""Secrets out of alert text: every failure or retry message passes here before it is sent.

An exception's text can carry a secret: a driver error with the connection URL in it, an HTTP
error naming the Slack webhook's path, a boto error echoing a key. Alerts go to places with a
wider audience than the task log (the SNS topic's subscribers, a Slack channel, the local
outbox), so their text is redacted twice:

1. by Airflow's secrets masker, which knows every secret this process has seen (a connection's
   password once the connection was read, variables with sensitive names, ``mask_secret`` calls);
2. by patterns of secrets whose shape is known even when the masker never saw them, or saw them
   whole while the text holds a part (an HTTP error names the webhook's path, not its URL).
"""

from __future__ import annotations

import logging
import re
from typing import Any

REPLACEMENT = "***"

# (pattern, replacement): each keeps what tells a reader what failed, and drops the secret.
PATTERNS: list[tuple[re.Pattern, str]] = [
    # Slack incoming webhook: hooks.slack.com/services/T…/B…/<token>, also the bare path.
    (re.compile(r"/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"), "/services/" + REPLACEMENT),
    # Slack tokens (xoxb-, xoxp-, xapp- …).
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}|\bxapp-[A-Za-z0-9-]{8,}"), REPLACEMENT),
    # AWS access key ids, long-term and temporary.
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REPLACEMENT),
    # scheme://user:password@host: the user and host stay.
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE), r"\1***@"),
    # password=…, secret: …, token=… as key-value text (URL query, log line, JSON).
    (
        re.compile(
            r"""((?:password|passwd|pwd|secret|token|api[_-]?key|aws_secret_access_key)"""
            r"""["']?\s*[=:]\s*["']?)[^\s"'&,;}]+""",
            re.IGNORECASE,
        ),
        r"\1***",
    ),
]


def _masker_redact(text: str) -> str:
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # an Airflow without the task SDK's masker: the patterns still apply
        return text
    return redact(text)


def redact_text(text: Any) -> Any:
    """``text`` with every secret known to Airflow's masker or matched by :data:`PATTERNS`
    replaced by ``***``. Values that are not strings are returned as they are."""
    if not isinstance(text, str) or not text:
        return text
    text = _masker_redact(text)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: dict) -> dict:
    """A copy of an alert record with every string value redacted."""
    return {key: redact_text(value) for key, value in record.items()}


class RedactingFilter(logging.Filter):
    """Redacts every record of the logger it is attached to (see :func:`redacting_logger`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redacting_logger(name: str) -> logging.Logger:
    """A standard logger whose records are redacted, for a client that logs a secret itself: the
    Slack client logs the webhook URL when it retries a post."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
