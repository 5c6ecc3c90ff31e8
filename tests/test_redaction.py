"""Secrets never reach an alert: the outbox, Slack and SNS get the exception's text redacted.

The webhook is a local HTTP server standing in for hooks.slack.com; nothing leaves the machine.
"""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest
from airflow.sdk.log import mask_secret

from dwh.operators import aws
from dwh.redaction import redact_text
from dwh_tools.local_target import alerts

WEBHOOK_PATH = "/services/T0AB12CD/B0EF34GH/q9ZtLk3xWmN0pR7sVb2YcA1e"
DB_PASSWORD = "Tr0ub4dor-and-3-horses"  # what a connection's password looks like to the masker


def failure_record(error: str) -> dict:
    return {
        "event": "failure",
        "dag_id": "ecommerce_dwh",
        "task_id": "load_orders",
        "run_id": "manual__2024-01-02",
        "try_number": 1,
        "error": error,
        "action": f"see the task's log; it said: {error}",
    }


def outbox_text(home) -> str:
    return (home / "alerts" / "outbox.jsonl").read_text()


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (f"ConnectionError: Max retries exceeded with url: {WEBHOOK_PATH}", "q9ZtLk3x", "url:"),
        ("OperationalError: postgresql://etl:hunter2pass@db:5439/dwh", "hunter2pass", "etl:"),
        ("ClientError: key AKIAABCDEFGHIJKLMNOP was refused", "AKIAABCDEFGHIJKLMNOP", "refused"),
        ("bad config password=s3cretvalue; retry", "s3cretvalue", "password="),
        ('{"token": "xoxb-1234-5678-abcdefgh"}', "xoxb-1234", "token"),
    ],
)
def test_secret_shapes_are_redacted_and_the_rest_of_the_message_kept(text, secret, kept):
    redacted = redact_text(text)
    assert secret not in redacted
    assert kept in redacted and "***" in redacted


def test_a_secret_airflow_has_seen_is_redacted_wherever_it_appears():
    mask_secret(DB_PASSWORD)
    assert (
        redact_text(f"login failed with {DB_PASSWORD} for etl") == "login failed with *** for etl"
    )


def test_the_outbox_and_slack_get_the_failure_text_redacted(tmp_path, monkeypatch):
    import http.server
    import threading

    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXXX"
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS", json.dumps({"conn_type": "slackwebhook", "password": url})
    )
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    try:
        alerts.deliver(failure_record(f"HTTPError: 404 for url {WEBHOOK_PATH}"), ["sns", "slack"])
    finally:
        server.shutdown()
    (posted,) = received
    for text in (outbox_text(tmp_path), posted["text"]):
        assert "q9ZtLk3x" not in text
        assert "HTTPError: 404 for url /services/***" in text


def test_a_failed_slack_post_logs_and_records_no_webhook_url(tmp_path, monkeypatch, caplog):
    with socket.socket() as s:  # a port nothing listens on: the client retries, then gives up
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS", json.dumps({"conn_type": "slackwebhook", "password": url})
    )
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    alerts.deliver(failure_record("InjectedFault: injected transient failure"), ["slack"])
    lines = [json.loads(line) for line in outbox_text(tmp_path).splitlines()]
    assert [r["event"] for r in lines] == ["failure", "slack_delivery_failed"]
    assert "q9ZtLk3x" not in outbox_text(tmp_path)
    assert redact_text(f"retrying POST {url}") == "retrying POST ***"
    assert redact_text(f"404 for {WEBHOOK_PATH}") == "404 for ***"
    assert "Going to retry the same request: POST ***" in caplog.text  # the client's retry log
    assert "q9ZtLk3x" not in caplog.text


def test_the_aws_failure_notifiers_send_the_exception_redacted():
    context = {
        "ti": SimpleNamespace(
            dag_id="ecommerce_dwh", task_id="load_orders", try_number=2, log_url="http://ui/log"
        ),
        "run_id": "scheduled__2024-01-02",
        "exception": RuntimeError(f"POST https://hooks.slack.com{WEBHOOK_PATH} failed"),
        "var": {"value": SimpleNamespace(dwh_alert_topic_arn="topic")},
    }
    sns, slack = aws.failure_notifiers(["sns", "slack"], "retry")
    for notifier in (sns, slack):
        notifier.render_template_fields(dict(context))
    for text in (sns.message, slack.text):
        assert "q9ZtLk3x" not in text
        assert "[retry] ecommerce_dwh.load_orders run scheduled__2024-01-02 try 2" in text
        assert "POST https://hooks.slack.com" in text and "*** failed" in text
