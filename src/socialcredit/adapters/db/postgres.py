"""PostgreSQL, the server database: the repositories' SQL through a
translating connection.

Every statement the repositories write is plain SQL apart from a few SQLite
spellings, which :class:`_Translating` rewrites on the way out (and caches):
``?`` placeholders, ``INSERT OR IGNORE`` and ``INSERT OR REPLACE``. The write
lock that SQLite's ``BEGIN IMMEDIATE`` takes on the whole file becomes a
transaction-scoped advisory lock, so concurrent writers in other processes
queue exactly as they do on SQLite. One implementation of the ledger logic,
two databases.

Per-subject tables are keyed by subject first (``(subject, seq)``), so they
can be distributed by that key (e.g. with Citus); the record-id index is then
the one global index a sharded deployment has to keep apart.

psycopg comes with the ``postgres`` extra: ``pip install 'socialcredit[postgres]'``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from socialcredit.adapters.db.database import Database, Dialect
from socialcredit.adapters.db.schema import POSTGRES
from socialcredit.errors import StoreError

# Tables written with INSERT OR REPLACE, and their keys.
_UPSERT_KEYS = {"meta": ("key",), "chain_heads": ("subject",), "audit_heads": ("subject",)}
_LEDGER_LOCK = 7_243_001  # advisory lock ids: one for the ledger's write lock


class _Translating:
    """Enough of the sqlite3.Connection interface, over psycopg, for the repositories.

    A connection lost (the server restarted or went away) is a :class:`StoreError`
    naming the server, so that a command ends with one clear line; what the
    transaction had written is the server's to roll back."""

    def __init__(self, connection: Any, shown: str) -> None:
        self._connection = connection
        self._shown = shown
        self._cache: dict[str, list[str]] = {}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        statements = self._translate(sql)
        with self._lost():
            cursor = self._connection.cursor()
            for statement in statements:
                cursor.execute(statement, params if "%s" in statement else None)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        [statement] = self._translate(sql)
        rows = list(rows)
        with self._lost():
            cursor = self._connection.cursor()
            if rows:
                cursor.executemany(statement, rows)
        return cursor

    @contextlib.contextmanager
    def _lost(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.OperationalError as error:
            if not self._connection.closed and not self._connection.broken:
                raise  # a statement's own failure, on a connection still there
            detail = str(error).strip().splitlines()[0] if str(error).strip() else "closed"
            raise StoreError(
                f"lost the connection to {self._shown} ({detail}): the interrupted transaction was "
                "kept whole or not at all; run the command again (it does nothing twice)"
            ) from None

    def close(self) -> None:
        self._connection.close()

    def _translate(self, sql: str) -> list[str]:
        found = self._cache.get(sql)
        if found is None:
            found = self._cache[sql] = translate(sql)
        return found


def translate(sql: str) -> list[str]:
    """A statement as the repositories spell it, as PostgreSQL statements."""
    text = sql.strip()
    if text == "BEGIN IMMEDIATE":
        return ["BEGIN", f"SELECT pg_advisory_xact_lock({_LEDGER_LOCK})"]
    text = _placeholders(text)
    if text.startswith("INSERT OR IGNORE INTO"):
        return [text.replace("INSERT OR IGNORE INTO", "INSERT INTO", 1) + " ON CONFLICT DO NOTHING"]
    match = re.match(r"INSERT OR REPLACE INTO (\w+) ", text)
    if match:
        table = match.group(1)
        keys = _UPSERT_KEYS[table]
        columns = {"meta": ("value",)}.get(table, ("seq", "hash"))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
        upsert = text.replace("INSERT OR REPLACE INTO", "INSERT INTO", 1)
        return [upsert + f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"]
    return [text]


def _placeholders(sql: str) -> str:
    """``?`` to ``%s`` outside quoted literals; a literal ``%`` doubled so that
    psycopg does not read it as a placeholder."""
    if "?" not in sql:
        return sql
    parts = sql.split("'")  # even parts are outside quotes
    return "'".join(
        part.replace("%", "%%").replace("?", "%s") if index % 2 == 0 else part.replace("%", "%%")
        for index, part in enumerate(parts)
    )


def _never(error: Exception) -> bool:
    return False


def open_postgres(dsn: str) -> Database:
    """The database at ``dsn`` (``postgresql://user@host/name``)."""
    try:
        import psycopg
    except ImportError:
        raise StoreError("PostgreSQL needs psycopg: pip install 'socialcredit[postgres]'") from None
    shown = _without_password(dsn)
    try:
        connection = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.Error as error:
        raise StoreError(f"cannot connect to {shown}: {str(error).strip()}") from None
    dialect = Dialect(
        name=POSTGRES,
        integrity_errors=(psycopg.errors.IntegrityError,),
        missing_table_errors=(psycopg.errors.UndefinedTable,),
        is_busy=_never,
        snapshots=False,  # reads go statement by statement; audit rows under the advisory lock
        checkpoint_sql=None,  # PostgreSQL checkpoints on its own
        secure_delete_sql=None,
        indexes_decisions=True,
    )
    return Database(_Translating(connection, shown), dialect, shown)


def _without_password(dsn: str) -> str:
    """The DSN as it may appear in messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", dsn)


__all__ = ["open_postgres", "translate"]
