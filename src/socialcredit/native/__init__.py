"""The optional C accelerators (``_speedups.c``) of the import, scoring and the audit log.

``native`` is the compiled module, or None where it was not built (no C
compiler at install time) or where ``SOCIALCREDIT_PURE=1`` asks for the pure
Python code, which is the reference: every accelerated function gives the
answer of a Python function, and tests hold the two equal.

``TEXT_LIMITS`` are the limits of ``text_rules.h``, the header the C code
compiles with: the one place the system's text limits are written.
"""

from __future__ import annotations

import re
from importlib import resources
from types import ModuleType

from socialcredit.config import pure_python


def _load() -> ModuleType | None:
    if pure_python():
        return None
    try:
        from socialcredit.native import _speedups
    except ImportError:
        return None
    return _speedups


native = _load()


def _text_limits() -> dict[str, int]:
    """The numbers of ``text_rules.h``, by name without the ``SC_`` prefix."""
    header = (
        resources.files("socialcredit.native").joinpath("text_rules.h").read_text(encoding="ascii")
    )
    return {
        name: int(value)
        for name, value in re.findall(r"^#define SC_(\w+) (\d+)", header, re.MULTILINE)
    }


TEXT_LIMITS = _text_limits()

__all__ = ["TEXT_LIMITS", "native"]
