"""Where the shipped scheme definitions live.

In a source checkout (and an editable install) they are the repository's
``schemes/`` folder; a wheel installs them under ``<prefix>/share/socialcredit/schemes``.
``SOCIALCREDIT_SCHEMES`` overrides both.
"""

from __future__ import annotations

import sys
from pathlib import Path

from socialcredit.config import schemes_dir


def shipped_schemes_dir() -> Path:
    candidates = []
    if schemes_dir():
        candidates.append(Path(str(schemes_dir())))
    candidates.append(Path(__file__).resolve().parents[3] / "schemes")
    candidates.append(Path(sys.prefix) / "share" / "socialcredit" / "schemes")
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.yaml")):
            return folder
    raise FileNotFoundError(
        f"shipped schemes not found (looked in {', '.join(map(str, candidates))})"
    )


def shipped_scheme_files() -> list[Path]:
    return sorted(shipped_schemes_dir().glob("*.yaml"))
