"""Walking the hash chains: every subject's ledger chain (records and their
events) and audit chain (decisions and reads), in seq order, naming the first
broken row of each and any head that does not match its chain's end.

Pure: the store hands over the rows in order, and this says what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from socialcredit.domain.ledger.chain import GENESIS, link_hash
from socialcredit.domain.ledger.values import ChainProblem, Progress

# Row kind in a chain -> (table, how many of its fields are hashed, how to name a row).
_ROW_KINDS = {
    "record": ("records", 10, "record {0!r}"),
    "event": ("record_events", 5, "event on record {0!r}"),
    "decision": ("decisions", 9, "decision {0!r}"),
    "access": ("access_log", 4, "access by {1!r} at {0}"),
}


class _ChainChecker:
    """Walks every subject's chain in seq order and names the first broken row of each."""

    def __init__(
        self,
        masked: dict[str, str],
        heads: dict[str, tuple[int, str]],
        problems: list[ChainProblem],
        heads_table: str = "chain_heads",
        seals: dict[str, str] | None = None,
    ) -> None:
        self.masked, self.heads, self.problems = masked, heads, problems
        self.seals = seals or {}  # erased record id -> "<previous hash>:<its hash>"
        self.heads_table = heads_table
        self.subject: str | None = None
        self.expected_seq, self.previous, self.broken = 1, GENESIS, False
        self.seen: set[str] = set()

    def visit(self, row: Sequence[Any]) -> None:
        kind, subject, seq, stored_hash, *values = row
        if subject != self.subject:
            self._close_subject()
            self.subject, self.expected_seq, self.previous, self.broken = subject, 1, GENESIS, False
            self.seen.add(subject)
        if self.broken:
            return
        table, width, label = _ROW_KINDS[kind]
        name = label.format(*values)
        if kind == "event" and values[5] is not None:
            width += 1  # an erasure's seal is hashed too
        fields = (subject, seq, *values[:width])
        problem = None
        seal = self.seals.get(values[0]) if kind == "record" else None
        if seq != self.expected_seq:
            problem = f"expected seq {self.expected_seq}: a row before it was removed or reordered"
        elif seal is not None:
            # An erased record's contents are gone, so its hash cannot be recomputed;
            # the seal its (chained) erasure event carries vouches for its place instead.
            if seal != f"{self.previous}:{stored_hash}":
                problem = (
                    "erased record does not match its seal: rows before it were rewritten "
                    "or its hash was edited"
                )
        elif link_hash(self.previous, kind, fields) != stored_hash:
            # The hash covers the previous row's hash, the row's own seq and its
            # fields: an edit, a removal before it or a swap all land here.
            problem = "hash does not match its contents and place in the chain: edited or reordered"
        if problem:
            self._report(table, name, seq, problem)
            self.broken = True
            return
        self.previous, self.expected_seq = stored_hash, seq + 1

    def _report(self, table: str, row: str, seq: int | None, problem: str) -> None:
        masked = self.masked.get(self.subject or "", "unknown subject")
        self.problems.append(ChainProblem(table, masked, seq, row, problem))

    def _close_subject(self) -> None:
        if self.subject is None or self.broken:
            return
        head = self.heads.get(self.subject)
        if head != (self.expected_seq - 1, self.previous):
            self._report(
                self.heads_table,
                "head",
                None,
                f"chain ends at seq {self.expected_seq - 1} but the head says {head and head[0]}: "
                "the last rows were removed or the head was edited",
            )

    def finish(self) -> None:
        self._close_subject()
        for subject in self.heads.keys() - self.seen:
            self.subject = subject
            self._report(self.heads_table, "head", None, "the head has no rows: rows were removed")


def check_chains(
    masked: dict[str, str],
    heads: dict[str, tuple[int, str]],
    rows: Iterable[Sequence[Any]],
    audit_heads: dict[str, tuple[int, str]],
    audit_rows: Iterable[Sequence[Any]],
    progress: Progress | None = None,
    seals: dict[str, str] | None = None,
) -> list[ChainProblem]:
    """Walk the ledger's and the audit log's chains; name the first broken row of each."""
    problems: list[ChainProblem] = []
    checker = _ChainChecker(masked, heads, problems, seals=seals)
    for count, row in enumerate(rows, 1):
        checker.visit(row)
        if progress is not None and count % 10_000 == 0:
            progress(10_000)
    checker.finish()
    audit = _ChainChecker(masked, audit_heads, problems, heads_table="audit_heads")
    for row in audit_rows:
        audit.visit(row)
    audit.finish()
    return problems
