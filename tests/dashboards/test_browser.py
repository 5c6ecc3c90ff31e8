"""The browser step of ``make test``: Debian's chromium installed when missing and possible,
else one line saying what to install, and the browser tests skip with that line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dwh import config
from dwh_tools.dashboards import browser

HERE = Path(__file__).parent

# Stands in for apt-get: records each call, and "installs" chromium into its own folder.
FAKE_APT = """#!{python}
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "frontend": os.environ.get("DEBIAN_FRONTEND")}}))
    log.write("\\n")
if {fail}:
    sys.exit(100)
if "install" in sys.argv:
    path = os.path.join(here, "chromium")
    with open(path, "w") as fh:
        fh.write("#!/bin/sh\\n")
    os.chmod(path, 0o755)
"""


def fake_apt(folder: Path, fail: bool = False) -> Path:
    folder.mkdir()
    apt = folder / "apt-get"
    apt.write_text(FAKE_APT.format(python=sys.executable, fail=fail))
    apt.chmod(0o755)
    return folder


def apt_calls(folder: Path) -> list[dict]:
    log = folder / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def no_browser(monkeypatch, tmp_path):
    """A PATH with no browser and no apt-get on it, and no DWH_CHROMIUM."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv(browser.ENV, raising=False)
    return empty


def test_root_with_apt_installs_debians_chromium_quietly_and_uses_it(
    no_browser, tmp_path, monkeypatch, capsys
):
    apt = fake_apt(tmp_path / "apt")
    monkeypatch.setenv("PATH", f"{no_browser}{os.pathsep}{apt}")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert browser.ensure() == str(apt / "chromium")
    assert apt_calls(apt) == [
        {"argv": ["update", "-qq"], "frontend": "noninteractive"},
        {
            "argv": ["install", "-y", "-qq", "--no-install-recommends", "chromium"],
            "frontend": "noninteractive",
        },
    ]
    out, err = capsys.readouterr()
    assert out == "installing Debian's chromium for the dashboard tests (apt-get)\n"
    assert err == ""


def test_a_browser_on_path_installs_nothing(no_browser, tmp_path, monkeypatch, capsys):
    apt = fake_apt(tmp_path / "apt")
    (no_browser / "chromium").write_text("#!/bin/sh\n")
    (no_browser / "chromium").chmod(0o755)
    monkeypatch.setenv("PATH", f"{no_browser}{os.pathsep}{apt}")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert browser.ensure() == str(no_browser / "chromium")
    assert apt_calls(apt) == []
    assert capsys.readouterr() == ("", "")


def test_without_root_it_says_in_one_line_what_to_install(
    no_browser, tmp_path, monkeypatch, capsys
):
    apt = fake_apt(tmp_path / "apt")
    monkeypatch.setenv("PATH", f"{no_browser}{os.pathsep}{apt}")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert browser.ensure() is None
    assert apt_calls(apt) == []
    out, err = capsys.readouterr()
    assert out == ""
    assert err == browser.missing() + "\n"
    assert "apt-get install -y --no-install-recommends chromium" in err


def test_a_failed_install_still_says_in_one_line_what_to_install(
    no_browser, tmp_path, monkeypatch, capsys
):
    apt = fake_apt(tmp_path / "apt", fail=True)
    monkeypatch.setenv("PATH", f"{no_browser}{os.pathsep}{apt}")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert browser.ensure() is None
    assert len(apt_calls(apt)) == 1  # update failed: no install tried
    assert capsys.readouterr().err == browser.missing() + "\n"


def test_dwh_chromium_names_the_browser_and_is_never_replaced(tmp_path, monkeypatch):
    apt = fake_apt(tmp_path / "apt")
    monkeypatch.setenv("PATH", str(apt))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    exe = tmp_path / "my-chromium"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv(browser.ENV, str(exe))
    assert browser.ensure() == str(exe)
    monkeypatch.setenv(browser.ENV, str(tmp_path / "nowhere"))
    assert browser.ensure() is None
    assert apt_calls(apt) == []
    assert browser.missing().startswith(
        f"{browser.ENV}={tmp_path / 'nowhere'} is not an executable"
    )


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in env.items() if k != "PYTEST_ADDOPTS"}  # the outer run's selection
    return subprocess.run(
        [sys.executable, *args],
        cwd=config.REPO_ROOT,
        env={**env, "PYTHONPATH": os.pathsep.join(config.local_pythonpath())},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_tests_browser_step_prints_one_line_and_succeeds_without_a_browser(tmp_path):
    env = {**os.environ, browser.ENV: str(tmp_path / "nowhere")}
    done = run("-m", "dwh_tools.dashboards.browser", env=env)
    assert done.returncode == 0
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"{browser.ENV}={tmp_path / 'nowhere'} is not an executable")


def test_without_a_browser_the_browser_tests_skip_with_that_line(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != browser.ENV}
    env["PATH"] = str(empty)
    done = run(
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rs",
        str(HERE / "test_dashboards.py"),
        str(HERE / "test_filters.py"),
        "-k",
        "chromium or marks_match or millions or test_filters",
        env=env,
    )
    out = done.stdout
    assert done.returncode == 0, out[-3000:]
    # No error, no failure: the one test that passes reads the page without a browser.
    assert out.splitlines()[-1].startswith("1 passed, 13 skipped, "), out[-3000:]
    skips = re.findall(r"^SKIPPED \[(\d+)\] [^:]+:\d+: (.*)$", out, re.M)
    assert skips == [  # one line for every browser test
        (
            "13",
            "no headless Chromium to check the dashboards in: install Debian's chromium "
            "(apt-get install -y --no-install-recommends chromium) or set DWH_CHROMIUM to a "
            "Chromium binary",
        )
    ], out[-3000:]
