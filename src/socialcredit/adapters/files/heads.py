"""Published tree heads: a file of JSON lines that witnesses copy, each a
signed head and the consistency proof from the head on the line before.

Lines are only ever appended, each written whole and synced, under a lock on
the file so that two publishers cannot both chain onto the same last line.
The next line's proof starts from the file's own last line, so a publish cut
short after writing its line (before the ledger remembered it) leaves a file
that still chains; the ledger's list of heads published then lacks that one,
which ``verify`` therefore does not hold the log to."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
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

    def append_after_last(self, make: Callable[[object], dict[str, Any]]) -> None:
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
            handle.seek(0)
            last = _last_line(handle.read())
            line = json.dumps(make(last), separators=(",", ":")) + "\n"
            handle.seek(0, os.SEEK_END)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())


def _last_line(text: str) -> object:
    """The last whole line's JSON, or None for an empty file."""
    lines = [line for line in text.split("\n")[:-1] if line.strip()]  # a torn tail is not whole
    if not lines:
        return None
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError as error:
        raise UsageError(f"the heads file's last line is not JSON ({error.msg})") from None


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
