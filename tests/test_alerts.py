"""Local alerts: the outbox line, and the same text posted to a configured Slack webhook.

The webhook is a local HTTP server standing in for hooks.slack.com; nothing leaves the machine.
"""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from dwh_tools.local_target import alerts

RECORD = {
    "event": "failure",
    "dag_id": "ecommerce_dwh",
    "task_id": "load_orders",
    "run_id": "scheduled__2024-01-02T02:00:00+00:00",
    "try_number": 2,
    "error": "InjectedFault: injected transient failure",
    "log_url": None,
    "log_location": "/tmp/logs/dag_id=ecommerce_dwh/task_id=load_orders",
}


@pytest.fixture
def webhook(monkeypatch):
    """A Slack-like incoming webhook on localhost; yields (received bodies, set status)."""
    received: list[dict] = []
    status = {"code": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            body = b"ok" if status["code"] == 200 else b"internal_error"
            self.send_response(status["code"])
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXXX"
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_ALERTS", json.dumps({"conn_type": "slackwebhook", "password": url})
    )
    yield received, status
    server.shutdown()


def outbox_lines(home) -> list[dict]:
    return [
        json.loads(line) for line in (home / "alerts" / "outbox.jsonl").read_text().splitlines()
    ]


def test_failure_goes_to_the_outbox_and_the_same_text_to_slack(tmp_path, monkeypatch, webhook):
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    received, _ = webhook
    alerts.deliver(dict(RECORD), ["sns", "slack"])
    (line,) = outbox_lines(tmp_path)
    assert {k: line[k] for k in RECORD} == RECORD
    (posted,) = received
    assert posted["text"] == (
        "[failure] ecommerce_dwh.load_orders\n"
        "run: scheduled__2024-01-02T02:00:00+00:00\n"
        "try: 2\n"
        "error: InjectedFault: injected transient failure\n"
        "log: /tmp/logs/dag_id=ecommerce_dwh/task_id=load_orders"
    )


def test_a_slack_outage_is_recorded_and_never_masks_the_alert(tmp_path, monkeypatch, webhook):
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    received, status = webhook
    status["code"] = 500
    alerts.deliver(dict(RECORD), ["sns", "slack"])  # does not raise
    assert len(received) == 1
    first, second = outbox_lines(tmp_path)
    assert first["event"] == "failure"
    assert second["event"] == "slack_delivery_failed" and second["task_id"] == "load_orders"


def test_without_a_slack_connection_only_the_outbox_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("DWH_HOME", str(tmp_path))
    monkeypatch.delenv("AIRFLOW_CONN_SLACK_ALERTS", raising=False)
    alerts.deliver(dict(RECORD), ["sns", "slack"])
    assert [r["event"] for r in outbox_lines(tmp_path)] == ["failure"]
