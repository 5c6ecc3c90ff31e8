"""What `dwh ui` refuses before it starts anything, and who can read the login it writes."""

from __future__ import annotations

import stat

import pytest

from dwh_tools import cli, ui


class Started(Exception):
    """Raised in place of starting Airflow: the options were accepted."""


@pytest.fixture
def no_airflow(monkeypatch, tmp_path):
    monkeypatch.setenv("DWH_HOME", str(tmp_path / "dwh"))

    def refuse_to_start(*args, **kwargs):
        raise Started

    monkeypatch.setattr(ui, "LocalAirflow", refuse_to_start)
    # main() installs its Ctrl-C and SIGTERM handlers; not in the test process.
    monkeypatch.setattr(ui.signal, "signal", lambda *args: None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_no_login_is_refused_on_an_address_others_can_reach(no_airflow, capsys, host):
    code = cli.main(["ui", "--host", host, "--no-login", "--no-land"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err == (
        f"dwh: error: --no-login needs a loopback --host (127.0.0.1, ::1, localhost), not {host}\n"
    )


@pytest.mark.parametrize(
    "argv",
    [["--no-login"], ["--host", "localhost", "--no-login"], ["--host", "::1", "--no-login"]]
    + [["--host", "0.0.0.0"]],
)
def test_no_login_on_loopback_and_a_login_on_any_address_are_accepted(no_airflow, argv):
    with pytest.raises(Started):
        ui.main([*argv, "--no-land"])


def test_the_password_file_is_readable_by_its_owner_only(tmp_path):
    fresh = tmp_path / "airflow" / "simple_auth_manager_passwords.json.generated"
    ui.prepare_password_file(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert fresh.read_text() == ""  # Airflow fills it when the api-server starts

    # One left readable by others by an earlier start keeps its password, now owner-only.
    earlier = tmp_path / "earlier.json"
    earlier.write_text('{"admin": "s3cret"}\n')
    earlier.chmod(0o644)
    ui.prepare_password_file(earlier)
    assert stat.S_IMODE(earlier.stat().st_mode) == 0o600
    assert earlier.read_text() == '{"admin": "s3cret"}\n'


def test_the_launcher_hands_the_landed_date_to_the_arrival_gate_once_the_ui_is_up(
    monkeypatch, tmp_path, capsys
):
    """`dwh ui` lands the first date, starts Airflow, publishes ui.json and only then runs the
    arrival gate on what it landed (tests/ui/test_arrival_trigger.py runs the gate for real)."""
    from dwh_tools import local_gate

    monkeypatch.setenv("DWH_HOME", str(tmp_path / "dwh"))
    monkeypatch.setattr(ui.signal, "signal", lambda *args: None)
    events = []

    class FakeAirflow:
        def __init__(self, *args, **kwargs):
            self.env = {"AIRFLOW__CORE__DAGS_FOLDER": str(tmp_path), "DWH_INCLUDE_DIR": ""}
            self.url, self.airflow_home, self.log_dir = "http://127.0.0.1:1", tmp_path, tmp_path

        def start(self):
            events.append("start")

        def wait_until_ready(self):
            pass

        def publish(self):
            events.append("publish")

        def login(self):
            return None

        def check_alive(self):
            raise KeyboardInterrupt

        def stop(self):
            events.append("stop")

    monkeypatch.setattr(ui, "LocalAirflow", FakeAirflow)
    monkeypatch.setattr(ui, "land", lambda ds, scale, data: {"orders": 3, "customers": 2})
    monkeypatch.setattr(
        local_gate,
        "after_landing",
        lambda ds, landed: events.append(("gate", ds, sorted(landed))) or ["gate line"],
    )
    assert ui.main(["--ds", "2024-02-03"]) == 0
    assert events == ["start", "publish", ("gate", "2024-02-03", ["customers", "orders"]), "stop"]
    assert "gate line" in capsys.readouterr().out

    events.clear()
    assert ui.main(["--no-land"]) == 0
    assert events == ["start", "publish", "stop"]  # nothing landed: nothing to decide
