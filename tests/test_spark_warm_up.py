"""dwh run starts the Spark session in the background: nothing waits for it but a Glue job.

The session takes seconds to start. A second call of warm_up() must return at once, and a Glue
job must wait for the warm-up to end before it uses the session.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from dwh_tools.local_target import spark


@pytest.fixture
def slow_session_start(monkeypatch):
    """A warm-up that holds the session's lock (as a starting session does) until released."""
    release, started = threading.Event(), threading.Event()

    def warm():
        with spark._lock:
            started.set()
            release.wait(30)

    monkeypatch.setenv(spark.WARM_UP_ENV, "1")
    monkeypatch.setattr(spark, "_warm", warm)
    monkeypatch.setattr(spark, "_warming", None)
    monkeypatch.setattr(spark, "_session", None)
    yield release, started
    release.set()
    if spark._warming is not None:
        spark._warming.join(30)


def in_thread(fn, *args):
    done = threading.Event()
    result = {}

    def target():
        result["value"] = fn(*args)
        done.set()

    threading.Thread(target=target, daemon=True).start()
    return done, result


def test_calling_warm_up_again_does_not_wait_for_the_session(slow_session_start):
    release, started = slow_session_start
    first = spark.warm_up()
    assert started.wait(10)
    done, result = in_thread(spark.warm_up)  # a second call
    assert done.wait(10), "warm_up() waited for the session to start"
    assert result["value"] is first and first.is_alive()


def test_a_glue_job_waits_for_the_warm_up_to_end(slow_session_start, monkeypatch, tmp_path):
    """The session has started; the warm-up's own read and write still run."""
    release, started = slow_session_start

    def warm():
        spark._session = object()  # the session, started; its lock is free again
        started.set()
        release.wait(30)

    monkeypatch.setattr(spark, "_warm", warm)
    script = tmp_path / "job.py"
    script.write_text("ARGS = []\n\ndef run(spark, args):\n    return {'ran': True}\n")
    spark.warm_up()
    assert started.wait(10)
    done, result = in_thread(spark.run_glue_script, script, {})
    assert not done.wait(1), "the job ran while the warm-up still held the session"
    release.set()
    assert done.wait(10) and result["value"] == {"ran": True}


def test_the_dags_test_entry_point_is_airflows_cli():
    """Same parser, output and exit status as the airflow command."""
    cli = [sys.executable, "-m", "dwh_tools.local_target.dags_test"]
    version = subprocess.run([*cli, "version"], capture_output=True, text=True, timeout=120)
    from importlib.metadata import version as installed

    assert version.returncode == 0, version.stderr
    assert version.stdout.strip().splitlines()[-1] == installed("apache-airflow")
    wrong = subprocess.run([*cli, "dags", "tset"], capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
