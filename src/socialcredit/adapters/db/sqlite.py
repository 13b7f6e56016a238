"""The embedded SQLite database: one file, no server.

Append-only tables refuse UPDATE and DELETE through triggers, so only someone
who drops the triggers can tamper, and ``verify`` then names the row. The
connection runs in WAL mode, so that a check reads while an import writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from socialcredit.adapters.db.database import Database, Dialect
from socialcredit.adapters.db.rows import decision_number
from socialcredit.adapters.db.schema import SQLITE
from socialcredit.errors import StoreError


def _busy(error: Exception) -> bool:
    return (
        isinstance(error, sqlite3.OperationalError)
        and error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    )


SQLITE_DIALECT = Dialect(
    name=SQLITE,
    integrity_errors=(sqlite3.IntegrityError,),
    missing_table_errors=(sqlite3.OperationalError,),
    is_busy=_busy,
    snapshots=True,
    checkpoint_sql="PRAGMA wal_checkpoint(TRUNCATE)",
    secure_delete_sql="PRAGMA secure_delete = ON",
    indexes_decisions=False,
)


def open_sqlite(path: str | Path, *, create: bool = False) -> Database:
    """The database in the file at ``path`` (refused if there is none and
    ``create`` is false)."""
    shown = str(path)
    if not create and shown != ":memory:" and not Path(shown).exists():
        raise StoreError(f"no database at {shown}: run 'socialcredit init' first")
    try:
        connection = sqlite3.connect(shown, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as error:  # not a database, or a folder that is not there
        raise StoreError(f"cannot open {shown} as a socialcredit database: {error}") from None
    connection.execute("PRAGMA synchronous=NORMAL")
    # Migration 4 files existing decisions under their numbers with this function.
    connection.create_function("decision_number", 1, decision_number, deterministic=True)
    connection.execute("PRAGMA busy_timeout=10000")
    connection.execute("PRAGMA cache_size=-262144")
    connection.execute("PRAGMA temp_store=MEMORY")
    # Checkpoint less often: bulk imports then copy each page once, not many times.
    connection.execute("PRAGMA wal_autocheckpoint=10000")
    return Database(connection, SQLITE_DIALECT, shown)


__all__ = ["SQLITE_DIALECT", "open_sqlite"]
