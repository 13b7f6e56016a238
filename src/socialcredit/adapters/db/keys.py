"""API keys: never the secret, only its hash, kept apart from the key's other
columns; a revocation is a row of its own."""

from __future__ import annotations

from datetime import datetime

from socialcredit.adapters.db.database import Database
from socialcredit.adapters.db.entries import log_rows
from socialcredit.adapters.db.rows import stored_key_of
from socialcredit.domain.ledger.values import StoredKey
from socialcredit.domain.times import ledger_time

# Ledger times are UTC ISO-8601 text, whose order is time's: the earliest end is the least.
_KEY_SELECT = (
    "SELECT k.id, k.role, k.authority, k.subject, k.subject_masked, k.created_at, "
    "k.created_by, r.revoked_at, t.expires_at FROM api_keys k "
    "LEFT JOIN api_key_revocations r ON r.id = k.id "
    "LEFT JOIN (SELECT id, MIN(expires_at) AS expires_at FROM api_key_terms GROUP BY id) t "
    "ON t.id = k.id"
)


class KeyRows:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._db = database.connection
        self._dialect = database.dialect
        self._state = database.state

    def add_key(self, key: StoredKey, secret_hash: str) -> None:
        row = (
            key.id,
            key.role,
            key.authority,
            key.subject,
            key.subject_masked,
            secret_hash,
            ledger_time(key.created_at),
            key.created_by,
        )
        with self._database.transaction():
            self._db.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            log_rows(self._database, "key", [row])

    def revoke_key(self, key_id: str, at: datetime, by: str) -> bool:
        row = (key_id, ledger_time(at), by)
        with self._database.transaction():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO api_key_revocations VALUES (?, ?, ?)", row
            )
            if cursor.rowcount == 1:
                log_rows(self._database, "key-revocation", [row])
        return cursor.rowcount == 1

    def add_term(
        self, key_id: str, expires_at: datetime, reason: str, at: datetime, by: str
    ) -> None:
        """Set an end to a key (an expiry, or a rotation's grace period): the
        earliest end set stands."""
        row = (key_id, ledger_time(expires_at), reason, ledger_time(at), by)
        with self._database.transaction():
            self._db.execute("INSERT INTO api_key_terms VALUES (?, ?, ?, ?, ?)", row)
            log_rows(self._database, "key-term", [row])

    def keys(self) -> list[StoredKey]:
        rows = self._db.execute(f"{_KEY_SELECT} ORDER BY k.created_at, k.id")
        return [stored_key_of(row) for row in rows]

    def key_secret(self, key_id: str) -> tuple[StoredKey, str] | None:
        row = self._db.execute(
            _KEY_SELECT.replace(" FROM api_keys k", ", k.secret_hash FROM api_keys k", 1)
            + " WHERE k.id = ?",
            (key_id,),
        ).fetchone()
        return (stored_key_of(row[:9]), row[9]) if row else None

    # -- subjects and enrolments ---------------------------------------------
