"""Reading every chain back for ``verify``: the rows in seq order, the heads,
and the erasure seals, handed to the pure walk of ``domain.ledger.integrity``."""

from __future__ import annotations

from socialcredit.adapters.db.audit import AuditRows
from socialcredit.adapters.db.database import Database
from socialcredit.adapters.db.rows import AUDIT_ROWS, LEDGER_ROWS
from socialcredit.domain.ledger.integrity import check_chains
from socialcredit.domain.ledger.values import ChainProblem, Progress


class ChainRows:
    def __init__(self, database: Database, audit: AuditRows) -> None:
        self._db = database.connection
        self._audit = audit

    def verify(self, progress: Progress | None = None) -> list[ChainProblem]:
        """Every broken row and head of every chain; none on an intact ledger."""
        masked = dict(self._db.execute("SELECT subject, masked FROM subjects"))
        return check_chains(
            masked=masked,
            heads={s: (q, h) for s, q, h in self._db.execute("SELECT * FROM chain_heads")},
            rows=self._db.execute(LEDGER_ROWS),
            audit_heads={
                s: (q, h)
                for s, q, h in self._db.execute("SELECT subject, seq, hash FROM audit_heads")
            },
            audit_rows=self._db.execute(AUDIT_ROWS),
            progress=progress,
            seals=dict(
                self._db.execute("SELECT record, seal FROM record_events WHERE seal IS NOT NULL")
            ),
        ) + self._audit.link_problems(masked)
