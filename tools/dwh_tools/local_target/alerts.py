"""Failure, retry and notify messages: the local outbox (JSON lines) and Slack.

The outbox is the local target's stand-in for the SNS topic: one JSON object per line under
$DWH_HOME/alerts/outbox.jsonl. When an Airflow connection ``slack_alerts`` exists (for example
through AIRFLOW_CONN_SLACK_ALERTS), the same text is posted to that Slack incoming webhook. A
failure or retry carries the error's first lines and what to do (see failures.py), which the
summary of ``dwh run`` prints too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from urllib.parse import urlsplit

from airflow.sdk import BaseNotifier

from dwh import config
from dwh.redaction import redact_record, redact_text, redacting_logger
from dwh_tools.local_target.failures import RUN_LOG_ENV, error_text, what_to_do

log = logging.getLogger(__name__)
SLACK_CONN_ID = "slack_alerts"


def write_outbox(record: dict, path: Path | None = None) -> Path:
    """Append one record to the outbox, its text redacted (dwh.redaction)."""
    path = path or config.outbox_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **redact_record(record)}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, default=str) + "\n")
    return path


def slack_configured() -> bool:
    env = f"AIRFLOW_CONN_{SLACK_CONN_ID.upper()}"
    if os.environ.get(env):
        return True
    try:
        from airflow.sdk import Connection

        Connection.get(SLACK_CONN_ID)
    except Exception:  # no such connection: Slack is optional on the local target
        return False
    return True


def post_slack(text: str) -> None:
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
    from airflow.sdk import Connection
    from airflow.sdk.log import mask_secret

    # The webhook URL is the secret. The Slack client logs it whole when it retries a post, and
    # an HTTP error can name its path alone: Airflow's masker must know both before the post.
    url = Connection.get(SLACK_CONN_ID).password or ""
    mask_secret(url)
    mask_secret(urlsplit(url).path)
    logger = redacting_logger("dwh.alerts.slack")
    SlackWebhookHook(slack_webhook_conn_id=SLACK_CONN_ID, logger=logger).send(text=text)


def format_text(record: dict) -> str:
    head = f"[{record['event']}] {record['dag_id']}.{record.get('task_id') or '-'}"
    lines = [head, f"run: {record.get('run_id')}"]
    if record.get("try_number") is not None:
        lines.append(f"try: {record['try_number']}")
    if record.get("error"):
        lines.append(f"error: {record['error']}")
    if record.get("action"):
        lines.append(f"what to do: {record['action']}")
    if record.get("log_url") or record.get("log_location"):
        lines.append(f"log: {record.get('log_url') or record['log_location']}")
    if record.get("message"):
        lines.append(record["message"])
    return "\n".join(lines)


def deliver(record: dict, channels: list[str]) -> None:
    """Send one alert on exactly its channels. Locally ``sns`` is delivered to the outbox (the
    topic's stand-in), and every message sent is recorded there with the channels it went to;
    ``slack`` is also posted to the webhook when configured. Slack problems never mask the
    original failure. Every text sent or recorded is redacted first: an exception's message can
    carry a secret (dwh.redaction)."""
    if not channels:
        return
    record = redact_record(record)
    write_outbox({**record, "channels": list(channels)})
    if "slack" in channels and slack_configured():
        try:
            post_slack(format_text(record))
        except Exception as exc:
            error = redact_text(str(exc))
            log.warning("Slack alert not delivered: %s", error)
            write_outbox({**record, "event": "slack_delivery_failed", "error": error})


def record_from_context(event: str, context) -> dict:
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    log_url = getattr(ti, "log_url", None) if ti is not None else None
    local_log = os.environ.get(RUN_LOG_ENV)
    if ti is not None and not local_log:
        base = Path(os.environ.get("AIRFLOW_HOME", config.dwh_home() / "airflow")) / "logs"
        local_log = str(
            base / f"dag_id={ti.dag_id}" / f"run_id={ti.run_id}" / f"task_id={ti.task_id}"
        )
    error = error_text(exc) if exc else None
    logical_date = context.get("logical_date")
    return {
        "event": event,
        "dag_id": getattr(ti, "dag_id", None) or context["dag"].dag_id,
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "logical_date": logical_date.isoformat() if logical_date else None,
        "try_number": getattr(ti, "try_number", None),
        "error": error,
        "action": what_to_do(error, local_log) if exc else None,
        "log_url": log_url,
        "log_location": local_log,
    }


class LocalAlertNotifier(BaseNotifier):
    """Task failure/retry callback of the local target: outbox, plus Slack when configured."""

    template_fields = ()

    def __init__(self, event: str, channels: list[str]):
        super().__init__()
        self.event = event
        self.channels = list(channels)

    def notify(self, context) -> None:
        deliver(record_from_context(self.event, context), self.channels)
