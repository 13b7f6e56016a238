"""Delivery channels for the notice outbox (see ``services.notices``).

Two ship here: a JSON Lines file, for a mail merge, a print shop or another
system to pick up, and the console. A mail or SMS channel implements the same
``NoticeChannel`` protocol: a ``name`` and a ``deliver(notice)`` that raises
if the notice was not handed over.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import orjson

from socialcredit.domain.rights.notices import Notice
from socialcredit.errors import UsageError


class FileChannel:
    """Appends each notice as one JSON line; a batch is on disk (fsync) before it
    counts as delivered.

    Delivery is exactly once into the file: a run that was killed after writing
    a batch but before the ledger marked it delivered leaves those notices in
    the file, and the next run finds them there (by id) and does not write them
    again; a line the kill cut short is removed first."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = f"file:{self.path}"
        self._written: set[str] | None = None  # the ids in the file, read on first use

    def deliver(self, notices: Sequence[Notice]) -> None:
        written = self._ids_in_file()
        fresh = [n for n in notices if n.id not in written]
        with self.path.open("ab") as out:
            out.write(b"".join(orjson.dumps(n.as_sent()) + b"\n" for n in fresh))
            out.flush()
            os.fsync(out.fileno())
        written.update(n.id for n in fresh)

    def _ids_in_file(self) -> set[str]:
        if self._written is None:
            self._written = set()
            if self.path.exists():
                data = self.path.read_bytes()
                whole = data[: data.rfind(b"\n") + 1]
                if len(whole) < len(data):  # a torn last line: never delivered
                    with self.path.open("r+b") as out:
                        out.truncate(len(whole))
                for line in whole.splitlines():
                    found = orjson.loads(line).get("id") if line.strip() else None
                    if isinstance(found, str):
                        self._written.add(found)
        return self._written


class ConsoleChannel:
    """Prints each notice as a short letter."""

    name = "console"

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def deliver(self, notices: Sequence[Notice]) -> None:
        for notice in notices:
            lines = [f"To {notice.masked} — {notice.title}", notice.text]
            lines += [f"How to contest: {notice.contest}", ""]
            self.stream.write("\n".join(lines) + "\n")


def channel_for(target: str, console: TextIO) -> FileChannel | ConsoleChannel:
    """``console`` or ``file:PATH``, as the CLI's ``--to`` names them."""
    if target == "console":
        return ConsoleChannel(console)
    if target.startswith("file:") and len(target) > 5:
        return FileChannel(target[5:])
    raise UsageError(f"--to: {target!r} is not 'console' or 'file:PATH'")
