"""`dwh land` runs the arrival gate on the local lake: a complete date triggers one DAG run on the
running `dwh ui` (here a stub HTTP server standing in for Airflow's REST API), an incomplete one
none, and without a UI the date is reported complete with the command that runs it."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from olist_contract import ENTITIES

from dwh_tools import cli

DS = "2024-03-05"


class StubAirflow(BaseHTTPRequestHandler):
    """/auth/token and POST /api/v2/dags/<dag_id>/dagRuns, with Airflow's 409 for a second run
    of one dag_run_id."""

    calls: list[tuple[str, dict, str | None]] = []
    runs: set[str] = set()

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        type(self).calls.append((self.path, body, self.headers.get("Authorization")))
        if self.path == "/auth/token":
            assert body == {"username": "admin", "password": "s3cret"}
            return self._answer(201, {"access_token": "jwt-1"})
        if self.headers.get("Authorization") != "Bearer jwt-1":
            return self._answer(401, {"detail": "not authenticated"})
        if body["dag_run_id"] in type(self).runs:
            return self._answer(409, {"detail": "exists"})
        type(self).runs.add(body["dag_run_id"])
        return self._answer(200, {"dag_run_id": body["dag_run_id"], "state": "queued"})

    def _answer(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_):
        pass


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DWH_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def airflow(home):
    StubAirflow.calls, StubAirflow.runs = [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubAirflow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": "s3cret"}))
    (home / "ui.json").write_text(
        json.dumps(
            {
                "url": f"http://127.0.0.1:{server.server_port}",
                "pid": os.getpid(),
                "password_file": str(passwords),
            }
        )
    )
    yield StubAirflow
    server.shutdown()
    server.server_close()


def extract(folder, entities):
    folder.mkdir(parents=True, exist_ok=True)
    for name in entities:
        (folder / ENTITIES[name].file_name).write_text("a,b\n1,2\n")
    return folder


def dag_runs(stub):
    return [(path, body) for path, body, _ in stub.calls if path != "/auth/token"]


def test_landing_a_complete_day_twice_triggers_one_dag_run(tmp_path, airflow, capsys):
    folder = extract(tmp_path / "in", ENTITIES)
    assert cli.main(["land", str(folder), "--ds", DS]) == 0
    first = capsys.readouterr().out
    assert cli.main(["land", str(folder), "--ds", DS]) == 0
    second = capsys.readouterr().out
    assert dag_runs(airflow) == [
        (
            "/api/v2/dags/ecommerce_dwh/dagRuns",
            {"dag_run_id": f"arrival__{DS}", "logical_date": f"{DS}T00:00:00Z", "conf": {}},
        )
    ]
    assert f"ecommerce_dwh {DS}: complete; triggered DAG run arrival__{DS}" in first
    assert "was already triggered" in second


def test_a_day_completed_by_a_second_landing_is_triggered_then(tmp_path, airflow, capsys):
    names = list(ENTITIES)
    cli.main(["land", str(extract(tmp_path / "a", names[:4])), "--ds", DS])
    out = capsys.readouterr().out
    assert f"ecommerce_dwh {DS}: waiting for {len(names) - 4} more file(s)" in out
    assert dag_runs(airflow) == []
    cli.main(["land", str(extract(tmp_path / "b", names[4:])), "--ds", DS])
    assert len(dag_runs(airflow)) == 1


def test_an_incomplete_day_triggers_nothing(tmp_path, airflow, capsys):
    cli.main(["land", str(extract(tmp_path / "in", ["orders", "customers"])), "--ds", DS])
    assert "waiting for 7 more file(s)" in capsys.readouterr().out
    assert airflow.calls == []
    assert not (home_marker := tmp_path / "home/lake/raw/_arrivals").exists(), home_marker


def test_without_a_running_ui_the_complete_day_is_reported_with_how_to_run_it(
    tmp_path, home, capsys
):
    cli.main(["land", str(extract(tmp_path / "in", ENTITIES)), "--ds", DS])
    out = capsys.readouterr().out
    assert "complete (every file its crawler expects is in); no `dwh ui` is running" in out
    assert f"dwh run --pipeline ecommerce_dwh --ds {DS}" in out
    assert not (home / "lake/raw/_arrivals").exists()  # a UI started later still triggers it


def test_a_ui_state_left_by_a_killed_ui_counts_as_no_ui(tmp_path, home, capsys):
    (home / "ui.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": 2**22 + 7}))
    cli.main(["land", str(extract(tmp_path / "in", ENTITIES)), "--ds", DS])
    assert "no `dwh ui` is running" in capsys.readouterr().out


def test_two_gates_racing_for_one_date_start_it_once(tmp_path):
    """The local marker is created with O_EXCL: of many concurrent claims one wins."""
    from dwh_tools.local_gate import gate_module

    gate = gate_module()
    store = gate.LocalStore(tmp_path)
    barrier = threading.Barrier(8)
    won = []

    def claim():
        barrier.wait()
        won.append(store.claim("_arrivals/p/ingest_date=2024-03-05/started.json", b"{}"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False] * 7 + [True]


def test_sample_data_generated_into_the_lake_goes_through_the_gate(home, airflow, capsys):
    assert cli.main(["generate", "--ds", DS, "--scale", "0.01"]) == 0
    assert f"ecommerce_dwh {DS}: complete; triggered DAG run arrival__{DS}" in (
        capsys.readouterr().out
    )
    assert len(dag_runs(airflow)) == 1


def test_sample_data_written_elsewhere_triggers_nothing(tmp_path, airflow, capsys):
    assert cli.main(["generate", "--ds", DS, "--scale", "0.01", "--out", str(tmp_path / "x")]) == 0
    assert "arrival__" not in capsys.readouterr().out
    assert airflow.calls == []
