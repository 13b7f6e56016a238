"""Published tree heads: a file of JSON lines that witnesses copy, each a
signed head and the consistency proof from the head on the line before.

Lines are only ever appended, each written whole and synced before the
publish is remembered in the ledger, so a crash leaves at most a head the
ledger does not know it published (which a later ``verify`` still checks,
once it is published again)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from socialcredit.errors import UsageError

_SCHEME = "file:"


class FileHeads:
    """``file:PATH``: heads appended to PATH."""

    def __init__(self, target: str) -> None:
        if not target.startswith(_SCHEME) or not target.removeprefix(_SCHEME):
            raise UsageError(f"--to must be file:PATH (a file to append heads to), not {target!r}")
        self.path = Path(target.removeprefix(_SCHEME))
        self.name = f"{_SCHEME}{self.path.resolve()}"

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())


def read_json_lines(path: Path) -> list[tuple[int, Any]]:
    """Each non-blank line of ``path`` parsed, with its number; a line that is
    not JSON is refused naming it."""
    found = []
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                found.append((number, json.loads(text)))
            except json.JSONDecodeError as error:
                raise UsageError(f"{path}, line {number}: not JSON ({error.msg})") from None
    return found


__all__ = ["FileHeads", "read_json_lines"]
