"""The PostgreSQL store: the SQLite store's SQL, through a translating connection.

Every statement of :class:`SQLiteStore` is plain SQL apart from a few SQLite
spellings, which :class:`_Translating` rewrites on the way out (and caches):
``?`` placeholders, ``INSERT OR IGNORE`` and ``INSERT OR REPLACE``. The write
lock that SQLite's ``BEGIN IMMEDIATE`` takes on the whole file becomes a
transaction-scoped advisory lock, so concurrent writers in other processes
queue exactly as they do on SQLite. One implementation of the ledger logic,
two databases.

Per-subject tables are keyed by subject first (``(subject, seq)``), so they
can be distributed by that key (e.g. with Citus); the record-id index is then
the one global index a sharded deployment has to keep apart.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from socialcredit.domain.ledger.values import ChainProblem, DecisionRow
from socialcredit.errors import StoreError
from socialcredit.store.common import DECISION_SELECT, decision_of
from socialcredit.store.sqlite import (
    _APPEND_ONLY,
    _DUE_PROCESS,
    _DUE_PROCESS_APPEND_ONLY,
    _SCHEMA,
    ERASE_ONLY_CONDITION,
    SQLiteStore,
)

# Tables written with INSERT OR REPLACE, and their keys.
_UPSERT_KEYS = {"meta": ("key",), "chain_heads": ("subject",), "audit_heads": ("subject",)}
_LEDGER_LOCK = 7_243_001  # advisory lock ids: one for the ledger's write lock


class _Translating:
    """Enough of the sqlite3.Connection interface, over psycopg, for the store."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection
        self._cache: dict[str, list[str]] = {}

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        statements = self._translate(sql)
        cursor = self._connection.cursor()
        for statement in statements:
            cursor.execute(statement, params if "%s" in statement else None)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        [statement] = self._translate(sql)
        cursor = self._connection.cursor()
        rows = list(rows)
        if rows:
            cursor.executemany(statement, rows)
        return cursor

    def close(self) -> None:
        self._connection.close()

    def _translate(self, sql: str) -> list[str]:
        found = self._cache.get(sql)
        if found is None:
            found = self._cache[sql] = _translate(sql)
        return found


def _translate(sql: str) -> list[str]:
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
        return [text.replace("INSERT OR REPLACE INTO", "INSERT INTO", 1)
                + f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"]  # fmt: skip
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


def baseline_statements() -> list[str]:
    """Migration 1 for PostgreSQL: the SQLite schema, respelt, and the triggers."""
    ddl = _SCHEMA.replace(" WITHOUT ROWID", "").replace("factor REAL", "factor DOUBLE PRECISION")
    ddl = re.sub(r"--[^\n]*", "", ddl)
    statements = [s.strip() for s in ddl.split(";") if s.strip()]
    statements.append(
        "CREATE OR REPLACE FUNCTION socialcredit_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
    )
    for table in _APPEND_ONLY:
        statements.append(
            f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION socialcredit_append_only()"
        )
    return statements


def due_process_statements() -> list[str]:
    """Migration 2 for PostgreSQL: the SQLite statements, respelt, and the triggers."""
    ddl = _DUE_PROCESS.replace("factor REAL", "factor DOUBLE PRECISION")
    statements = [s.strip() for s in ddl.split(";") if s.strip()]
    for table in (*_DUE_PROCESS_APPEND_ONLY, "notices"):
        verbs = "UPDATE" if table == "notices" else "UPDATE OR DELETE"
        statements.append(
            f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE {verbs} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION socialcredit_append_only()"
        )
    statements += [
        "DROP TRIGGER IF EXISTS records_append_only ON records",
        "CREATE OR REPLACE FUNCTION socialcredit_records_erase_only() RETURNS trigger AS $$ "
        f"BEGIN IF TG_OP = 'UPDATE' AND {ERASE_ONLY_CONDITION} THEN RETURN NEW; END IF; "
        "RAISE EXCEPTION 'records is append-only: only erasure may blank a record'; END $$ "
        "LANGUAGE plpgsql",
        "CREATE OR REPLACE TRIGGER records_erase_only BEFORE UPDATE OR DELETE ON records "
        "FOR EACH ROW EXECUTE FUNCTION socialcredit_records_erase_only()",
    ]
    return statements


def filed_decisions_statements() -> list[str]:
    """Migration 4 for PostgreSQL: the columns SQLite's filing writes. A server keeps
    its index on the id and on (subject, seq), which reads use instead (and a
    sharded deployment distributes by), so older rows need no numbers."""
    return [
        "ALTER TABLE decisions ADD COLUMN n BIGINT",
        "ALTER TABLE decisions ADD COLUMN prev BIGINT",
        "ALTER TABLE audit_heads ADD COLUMN decision BIGINT",
    ]


class PostgresStore(SQLiteStore):
    _integrity_errors = (psycopg.errors.IntegrityError,)
    _missing_table_errors = (psycopg.errors.UndefinedTable,)
    dialect = "postgres"

    def __init__(self, dsn: str, *, create: bool = False) -> None:
        self.path = _without_password(dsn)
        try:
            connection = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as error:
            raise StoreError(f"cannot connect to {self.path}: {str(error).strip()}") from None
        self._db = _Translating(connection)  # type: ignore[assignment]
        self._connection_state()
        if not create:
            self._check_version()

    def checkpoint(self) -> None:
        """Nothing to do: PostgreSQL checkpoints on its own."""

    def decision(self, decision_id: str) -> DecisionRow | None:
        row = self._db.execute(f"{DECISION_SELECT} WHERE id = ?", (decision_id,)).fetchone()
        return decision_of(row) if row else None

    def decisions(self, subject: str) -> list[DecisionRow]:
        rows = self._db.execute(f"{DECISION_SELECT} WHERE subject = ? ORDER BY seq", (subject,))
        return [decision_of(row) for row in rows]

    def _decision_link_problems(self, masked: dict[str, str]) -> list[ChainProblem]:
        """None to find: reads here go through the id and (subject, seq) indexes, not the links."""
        return []

    def snapshot(self) -> contextlib.nullcontext[None]:  # type: ignore[override]
        """Nothing to do: a check reads statement by statement and writes its
        audit rows in a transaction of their own, under the advisory lock."""
        return contextlib.nullcontext()


def _without_password(dsn: str) -> str:
    """The DSN as it may appear in messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", dsn)


__all__ = ["PostgresStore"]
