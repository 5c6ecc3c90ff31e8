"""`make clean` removes $DWH_HOME only when dwh created it (its marker file is there)."""

from __future__ import annotations

import os
import subprocess
import sys

from dwh import config
from dwh_tools import clean


def run_clean(home) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dwh_tools.clean"],
        env={
            **os.environ,
            "DWH_HOME": str(home),
            "PYTHONPATH": os.pathsep.join(config.local_pythonpath()),
        },
        cwd=config.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_folder_dwh_did_not_create_is_refused_and_kept(tmp_path):
    home = tmp_path / "mine"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    run = run_clean(home)
    assert run.returncode != 0
    assert run.stderr.count("\n") == 1 and str(home) in run.stderr, run.stderr
    assert "not removing" in run.stderr
    assert (home / "thesis.tex").read_text() == "years of work"


def test_a_folder_dwh_created_is_removed_and_named(tmp_path):
    home = tmp_path / "dwh"
    clean.mark(home)
    (home / "lake" / "raw").mkdir(parents=True)
    (home / "warehouse.duckdb").write_text("x")
    run = run_clean(home)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"removing {home}\n"
    assert not home.exists()


def test_an_existing_folder_with_files_is_not_marked(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    clean.mark(tmp_path)
    assert not (tmp_path / clean.MARKER).exists()
    assert (tmp_path / "notes.txt").exists()
