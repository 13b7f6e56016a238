"""The ledger's integrity: every hash chain walked and each edited, removed or
reordered row named; and the ledger root, one hash over every chain head,
which a caller keeps elsewhere to catch chains rewritten with fresh hashes."""

from __future__ import annotations

from dataclasses import dataclass

from socialcredit.domain.ledger.values import ChainProblem, Progress
from socialcredit.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Verification:
    rows: int  # chained rows walked
    root: str  # the ledger root now
    problems: list[str]  # each tampered row, and a root that is not the one kept

    @property
    def intact(self) -> bool:
        return not self.problems


class Integrity:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def verify(self, progress: Progress | None = None) -> list[ChainProblem]:
        return self._uow.chains.verify(progress)

    def check(self, kept_root: str | None = None, progress: Progress | None = None) -> Verification:
        """Every chain walked, and the ledger root compared with one kept
        elsewhere (``kept_root``), which catches chains rewritten with fresh
        hashes or cut short."""
        rows = self.chained_rows()
        problems = [str(problem) for problem in self.verify(progress)]
        problems += [f"transparency log: {problem}" for problem in self._uow.log.problems()]
        current = self.ledger_root()
        kept = (kept_root or "").strip().lower()
        if kept and kept != current:
            problems.append(
                f"the ledger root is {current}, not the {kept} recorded earlier: "
                "rows were rewritten or removed since (or rows were added, if the root is old)"
            )
        return Verification(rows, current, problems)

    def ledger_root(self) -> str:
        return self._uow.ledger.ledger_root()

    def counts(self) -> dict[str, int]:
        """Rows held, by table: subjects, enrolments, records, record events, links, decisions."""
        return self._uow.ledger.counts()

    def chained_rows(self) -> int:
        """How many rows ``verify`` walks in the ledger's chains."""
        counts = self.counts()
        return counts["records"] + counts["record_events"]


__all__ = ["Integrity", "Verification"]
