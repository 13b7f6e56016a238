"""Scheme and memorandum definitions, every version as added, and the
rescorings that move older records onto a newer version's points."""

from __future__ import annotations

from datetime import datetime

from socialcredit.adapters.db.database import Database
from socialcredit.adapters.db.entries import log_rows
from socialcredit.adapters.db.rows import known_since, parse
from socialcredit.domain.schemes.loader import StoredDefinition
from socialcredit.domain.times import ledger_time


class DefinitionRows:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._db = database.connection
        self._dialect = database.dialect
        self._state = database.state

    def add_definition(self, id: str, type: str, added_at: datetime, digest: str, text: str) -> int:
        with self._database.transaction():
            (latest,) = self._db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM definitions WHERE id = ?", (id,)
            ).fetchone()
            version = latest + 1
            row = (id, version, type, ledger_time(added_at), digest)
            self._db.execute("INSERT INTO definitions VALUES (?, ?, ?, ?, ?, ?)", (*row, text))
            log_rows(self._database, "definition", [row])
        return int(version)

    def definitions(self) -> list[StoredDefinition]:
        rows = self._db.execute(
            "SELECT id, version, type, added_at, digest, body FROM definitions ORDER BY id, version"
        )
        return [
            StoredDefinition(id, version, type, parse(added), digest, body)
            for id, version, type, added, digest, body in rows
        ]

    def add_rescoring(
        self,
        scheme: str,
        version: int,
        at: datetime,
        actor: str,
        reason: str | None,
        known_at: datetime,
    ) -> None:
        with self._database.transaction():
            row = (scheme, version, ledger_time(at), actor, reason, ledger_time(known_at))
            self._db.execute(
                "INSERT INTO rescorings (scheme, version, at, actor, reason, known_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
            log_rows(self._database, "rescoring", [row])

    def rescorings(self) -> list[tuple[str, int, datetime]]:
        """Each rescoring from when it holds for answers: when it took effect,
        or when it was known if that is later."""
        rows = self._db.execute("SELECT scheme, version, at, known_at FROM rescorings")
        found = [(scheme, version, known_since(at, known)) for scheme, version, at, known in rows]
        return sorted(found, key=lambda row: (row[2], row[1]))
