"""The headless Chromium the dashboards are checked in: where it is, and how to get it.

``find()`` is ``$DWH_CHROMIUM`` when it is set, else ``chromium`` or ``chromium-browser`` on
PATH. ``python -m dwh_tools.dashboards.browser`` (``make test`` runs it) installs Debian's
``chromium`` when no browser is found and it can (root, apt-get, ``DWH_CHROMIUM`` unset);
otherwise it prints ``missing()``, one line saying what to install, which is also the reason the
browser tests skip with.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

ENV = "DWH_CHROMIUM"
NAMES = ("chromium", "chromium-browser")
PACKAGE = "chromium"


def find() -> str | None:
    """The browser's path, or None when there is none to run."""
    chosen = os.environ.get(ENV)
    if chosen:
        return shutil.which(chosen)
    return next(filter(None, map(shutil.which, NAMES)), None)


def missing() -> str:
    """What to install (or fix) when ``find()`` finds nothing, in one line."""
    chosen = os.environ.get(ENV)
    if chosen:
        return (
            f"{ENV}={chosen} is not an executable: point it at a Chromium binary, or unset it "
            f"and install Debian's {PACKAGE} (apt-get install -y --no-install-recommends "
            f"{PACKAGE}) to check the dashboards in a headless browser"
        )
    return (
        f"no headless Chromium to check the dashboards in: install Debian's {PACKAGE} "
        f"(apt-get install -y --no-install-recommends {PACKAGE}) or set {ENV} to a Chromium binary"
    )


def can_install() -> bool:
    # An explicit DWH_CHROMIUM is the user's choice: installing another browser would not be used.
    return not os.environ.get(ENV) and os.geteuid() == 0 and shutil.which("apt-get") is not None


def install() -> bool:
    """Install Debian's chromium without questions or progress output; True when it worked."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # A fresh Debian image has empty package lists: apt-get cannot locate chromium before update.
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", PACKAGE],
    ):
        done = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True)
        if done.returncode != 0:
            return False
    return True


def ensure() -> str | None:
    """The browser, installed first when it is missing and can be; prints ``missing()`` if not.

    Never fails: without a browser the dashboard tests skip, saying the same line.
    """
    found = find()
    if found is None and can_install():
        print(f"installing Debian's {PACKAGE} for the dashboard tests (apt-get)", flush=True)
        if install():
            found = find()
    if found is None:
        print(missing(), file=sys.stderr)
    return found


if __name__ == "__main__":
    ensure()
