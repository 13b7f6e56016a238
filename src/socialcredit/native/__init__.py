"""The optional C accelerators (``_speedups.c``) of the import, scoring and the audit log.

``native`` is the compiled module, or None where it was not built (no C
compiler at install time) or where ``SOCIALCREDIT_PURE=1`` asks for the pure
Python code, which is the reference: every accelerated function gives the
answer of a Python function, and tests hold the two equal.
"""

from __future__ import annotations

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
