"""Delivery channels for the notice outbox (see ``Casework.deliver``).

Two ship here: a JSON Lines file, for a mail merge, a print shop or another
system to pick up, and the console. A mail or SMS channel implements the same
``NoticeChannel`` protocol: a ``name`` and a ``deliver(notice)`` that raises
if the notice was not handed over.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import orjson

from socialcredit.domain.ledger.values import StoredNotice
from socialcredit.domain.rights.notices import Notice


def notice_view(notice: Notice) -> dict[str, Any]:
    return {
        "id": notice.id, "kind": notice.kind, "subject": notice.masked,
        "at": notice.at.isoformat().replace("+00:00", "Z"), "title": notice.title,
        "text": notice.text, "reasons": list(notice.reasons), "how_to_contest": notice.contest,
    }  # fmt: skip


def stored_notice_view(stored: StoredNotice) -> dict[str, Any]:
    """A notice from the outbox, with when and where it was delivered."""
    return {**notice_view(stored.notice), "delivered_at": _iso(stored.delivered_at),
            "channel": stored.channel}  # fmt: skip


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


class FileChannel:
    """Appends each notice as one JSON line; a batch is on disk (fsync) before it
    counts as delivered."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = f"file:{self.path}"

    def deliver(self, notices: Sequence[Notice]) -> None:
        with self.path.open("ab") as out:
            out.write(b"".join(orjson.dumps(notice_view(n)) + b"\n" for n in notices))
            out.flush()
            os.fsync(out.fileno())


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
    raise ValueError(f"--to: {target!r} is not 'console' or 'file:PATH'")
