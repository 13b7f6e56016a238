"""What every command of the ``socialcredit`` command line shares: the
options (``--db``, ``--json``, ``--at``, ``--kind``), opening the ledger,
printing, progress bars, and the one mapping of errors to a line on stderr
and an exit status.

Plugins get all of it as a :class:`CommandKit` (``register_commands``).
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from socialcredit import bootstrap
from socialcredit.bootstrap import Services
from socialcredit.config import DB_ENV, DEFAULT_DB
from socialcredit.domain.times import parse_time
from socialcredit.entrypoints.views import rejection_view
from socialcredit.errors import SocialCreditError

CLI_ACTOR = "cli"  # who the audit log names for whatever the command line does

out = Console()
err = Console(stderr=True)

Db = Annotated[
    str,
    typer.Option("--db", envvar=DB_ENV, help="SQLite database file.", show_default=True),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
At = Annotated[
    str | None, typer.Option("--at", help="Evaluate at this UTC time (ISO-8601); default now.")
]
Kind = Annotated[
    str | None, typer.Option("--kind", help="Subject kind, needed for ext: identifiers.")
]

F = TypeVar("F", bound=Callable[..., Any])

# What ends a command with one line per message on stderr and exit status 1.
EXIT_FAILED = 1


def handled(command: F) -> F:
    """Turn every expected error into lines on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise  # a deliberate exit status (click's Exit is a RuntimeError)
        except Exception as error:
            lines = failure_lines(error)
            if lines is None:
                raise
            for line in lines:
                stderr_line(f"error: {line}")
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper  # type: ignore[return-value]


def failure_lines(error: Exception) -> list[str] | None:
    """How the command line reports an error: the lines to print, or None for
    an error nobody expected (which then shows as a traceback)."""
    if isinstance(error, SocialCreditError):
        return str(error).splitlines() or ["failed"]
    if isinstance(error, OSError):
        if error.strerror is None:  # raised with a message of its own
            return [str(error)]
        return [f"{error.strerror}: {error.filename}"]
    if isinstance(error, sqlite3.Error):  # e.g. locked by another writer for too long
        return [f"database: {error}"]
    if isinstance(error, RuntimeError):  # e.g. the import worker failed
        return [str(error).splitlines()[0] if str(error) else type(error).__name__]
    return None


def stderr_line(text: str) -> None:
    """One unwrapped line: scripts and people both read errors line by line."""
    sys.stderr.write(text + "\n")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


@contextmanager
def opened(db: str, *, create: bool = False) -> Iterator[Services]:
    """The ledger's services for the length of a command."""
    services = bootstrap.open(db, create=create)
    try:
        yield services
    finally:
        services.close()


def moment(value: str | None, option: str = "--at") -> datetime | None:
    """An option's time, or None when it was not given."""
    return parse_time(value, option) if value is not None else None


def progress_bar(visible: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not visible,
        transient=True,
    )


def write_rejects(path: Path, rejected: list[Any]) -> None:
    """Each refused line with its reason, one JSON object a line; an older file
    of the same name goes, so that it cannot mislead."""
    if not rejected:
        path.unlink(missing_ok=True)
        return
    with path.open("w", encoding="utf-8") as handle:
        for rejection in rejected:
            handle.write(json.dumps(rejection_view(rejection), ensure_ascii=False) + "\n")


def set_default_db(db: str | None) -> None:
    """``socialcredit --db x.db COMMAND``: every command then reads ``--db`` from
    the environment variable it would read it from anyway."""
    if db is not None:
        os.environ[DB_ENV] = db


__all__ = [
    "CLI_ACTOR",
    "DEFAULT_DB",
    "At",
    "Db",
    "Json",
    "Kind",
    "err",
    "failure_lines",
    "handled",
    "moment",
    "opened",
    "out",
    "print_json",
    "progress_bar",
    "stderr_line",
    "write_rejects",
]
