"""The ledger's integrity: every hash chain walked and each edited, removed or
reordered row named; and the ledger root, one hash over every chain head,
which a caller keeps elsewhere to catch chains rewritten with fresh hashes."""

from __future__ import annotations

from socialcredit.domain.ledger.values import ChainProblem, Progress
from socialcredit.services.unit_of_work import UnitOfWork


class Integrity:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def verify(self, progress: Progress | None = None) -> list[ChainProblem]:
        return self._uow.chains.verify(progress)

    def ledger_root(self) -> str:
        return self._uow.ledger.ledger_root()

    def counts(self) -> dict[str, int]:
        """Rows held, by table: subjects, enrolments, records, record events, links, decisions."""
        return self._uow.ledger.counts()

    def chained_rows(self) -> int:
        """How many rows ``verify`` walks in the ledger's chains."""
        counts = self.counts()
        return counts["records"] + counts["record_events"]


__all__ = ["Integrity"]
