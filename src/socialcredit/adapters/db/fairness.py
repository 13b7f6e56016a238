"""The fairness audit's rows: whether the operator has it on, and the coarse
attributes of each person (``audit_attributes``), which only the audit reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from socialcredit.adapters.db.database import Database
from socialcredit.domain.fairness import AuditAttributes

_SWITCH = "fairness_audit"


class FairnessRows:
    def __init__(self, database: Database) -> None:
        self._database = database

    def audit_on(self) -> str | None:
        """When and by whom the audit was turned on ("<time> <actor>"), or None."""
        return self._database.meta(_SWITCH) or None

    def turn_on(self, since: str) -> None:
        self._database.set_meta(_SWITCH, since)

    def held(self) -> int:
        """How many people's attributes are kept."""
        found = self._database.connection.execute("SELECT COUNT(*) FROM audit_attributes")
        return int(found.fetchone()[0])

    def turn_off(self) -> int:
        """Turn the audit off and delete every attribute kept: how many."""
        with self._database.transaction():
            held = self.held()
            self._database.connection.execute("DELETE FROM audit_attributes")
            self._database.set_meta(_SWITCH, "")
        return held

    def keep(self, rows: Iterable[AuditAttributes]) -> None:
        """Keep each person's attributes once (the first derivation stands: the
        same resident ID always gives the same)."""
        found = [(r.subject, r.birth_decade, r.sex, r.prefecture) for r in rows]
        if found:
            with self._database.transaction():
                self._database.connection.executemany(
                    "INSERT OR IGNORE INTO audit_attributes VALUES (?, ?, ?, ?)", found
                )

    def attributes(self) -> Iterator[AuditAttributes]:
        rows = self._database.connection.execute(
            "SELECT subject, birth_decade, sex, prefecture FROM audit_attributes"
        ).fetchall()
        for subject, decade, sex, prefecture in rows:
            yield AuditAttributes(subject, int(decade), sex, prefecture)

    def of_subject(self, key: str) -> AuditAttributes | None:
        row = self._database.connection.execute(
            "SELECT subject, birth_decade, sex, prefecture FROM audit_attributes WHERE subject = ?",
            (key,),
        ).fetchone()
        return AuditAttributes(row[0], int(row[1]), row[2], row[3]) if row else None


__all__ = ["FairnessRows"]
