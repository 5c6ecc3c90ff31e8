"""``make clean``: remove $DWH_HOME, but only a folder dwh created (it holds :data:`MARKER`).

$DWH_HOME may point anywhere; a typo or a shared folder must not be deleted wholesale, so
``dwh run`` and ``dwh ui`` mark the folder when they create it and only a marked one is removed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dwh import config

MARKER = ".dwh-home"


def mark(home: Path) -> None:
    """Create ``home`` with its marker, unless it already holds files dwh did not put there.

    The repository's own ``.dwh`` is always dwh's, so a checkout from before the marker gets one.
    """
    home = Path(home)
    ours = home.resolve() == (config.REPO_ROOT / ".dwh").resolve()
    if home.is_dir() and not ours and not (home / MARKER).exists() and any(home.iterdir()):
        return
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).touch()


def main() -> int:
    home = config.dwh_home()
    if not home.exists():
        print(f"nothing to remove: {home} does not exist")
        return 0
    if not (home / MARKER).is_file():
        print(
            f"dwh: error: not removing {home}: it has no {MARKER} file, so dwh did not create it "
            "(remove it yourself if it only holds dwh's state)",
            file=sys.stderr,
        )
        return 1
    print(f"removing {home}", flush=True)
    shutil.rmtree(home)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
