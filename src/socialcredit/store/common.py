"""What both stores share: row shapes, conversions, and the chain walk of ``verify``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from socialcredit.domain.ledger.chain import GENESIS, link_hash
from socialcredit.domain.ledger.records import Record, RecordEvent
from socialcredit.domain.ledger.values import ChainProblem, DecisionRow, Progress, StoredKey
from socialcredit.native import native

_CHUNK = 500  # stays under SQLite's bound-parameter limit


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


parse = datetime.fromisoformat


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Columns in the order the chain hashes them (see ledger.batching._chain and event_fields).
# scheme_version is cast so that every branch of the verify UNION has text
# there (PostgreSQL insists; the hash input, str(version), is the same).
RECORD_HASHED = (
    "id, scheme, CAST(scheme_version AS TEXT), category, occurred_at, reported_at, expires_at, "
    "points, reporter, evidence, NULL, NULL"
)
EVENT_HASHED = "record, kind, at, actor, reason, seal, NULL, NULL, NULL, NULL, NULL, NULL"
DECISION_COLUMNS = (
    "id, subject, action, at, effect, factor, reasons, asked_at, asked_by, purpose, seq, hash"
)
# Audit columns in the order the audit chain hashes them (see _audit).
DECISION_HASHED = (
    "id, action, at, effect, factor, reasons, asked_at, asked_by, purpose, NULL, NULL, NULL"
)
ACCESS_HASHED = "at, actor, purpose, what, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
RECORD_COLUMNS = (
    "id, subject, scheme, scheme_version, category, occurred_at, reported_at, expires_at, "
    "points, reporter, evidence"
)
EVENT_COLUMNS = "record, kind, at, actor, reason"


def event_fields(subject: str, seq: int, event: RecordEvent) -> tuple[object, ...]:
    fields = (subject, seq, event.record, event.kind, iso(event.at), event.actor, event.reason)
    # Only an erasure's event carries a seal; every other event hashes as it always has.
    return fields if event.seal is None else (*fields, event.seal)


def record_of(row: Sequence[Any]) -> Record:
    rid, subject, scheme, version, category, occurred, reported, expires, points, reporter, ev = row
    return _new_record(Record, (
        rid, subject, scheme, version, category, parse(occurred), parse(reported),
        parse(expires), points, reporter, ev,
    ))  # fmt: skip


# tuple.__new__ builds a named tuple in C; Record._make adds a Python call per record.
_new_record = tuple.__new__


def records_of(rows: Iterable[Sequence[Any]]) -> list[Record]:
    """``[record_of(row) for row in rows]`` in one loop without a call per row:
    every score and check builds each of a subject's records this way."""
    return [
        _new_record(Record, (rid, subject, scheme, version, category, parse(occurred),
                             parse(reported), parse(expires), points, reporter, ev))
        for rid, subject, scheme, version, category, occurred, reported, expires, points,
        reporter, ev in rows
    ]  # fmt: skip


def subject_records(rows: Iterable[Sequence[Any]], key: str) -> list[Record]:
    """The records of one subject from rows without its subject column (id,
    scheme, version, category, the three times, points, reporter, evidence):
    every score and check builds a subject's records this way."""
    if native is not None:
        return native.subject_records(rows, key, Record, parse)
    return subject_records_in_python(rows, key)


def subject_records_in_python(rows: Iterable[Sequence[Any]], key: str) -> list[Record]:
    """The reference for ``native.subject_records``."""
    return [
        _new_record(Record, (rid, key, scheme, version, category, parse(occurred),
                             parse(reported), parse(expires), points, reporter, ev))
        for rid, scheme, version, category, occurred, reported, expires, points, reporter, ev
        in rows
    ]  # fmt: skip


def stored_key_of(row: Sequence[Any]) -> StoredKey:
    key_id, role, authority, subject, masked, created, by, revoked = row
    return StoredKey(key_id, role, authority, subject, masked, parse(created), by,
                     parse(revoked) if revoked else None)  # fmt: skip


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def decision_number(decision_id: str) -> int | None:
    """The number a decision is filed under (on SQLite, its row's rowid): the
    first 60 bits of its id without the version digit, that is its millisecond
    and the 12 bits after it. Ids are time-ordered, so new decisions file at the
    end of the table, and the id finds its row without an index of its own.
    None for an id not spelt as a UUID."""
    if _UUID.fullmatch(decision_id) is None:
        return None
    return int(decision_id[:8] + decision_id[9:13] + decision_id[15:18], 16)


DECISION_SELECT = (
    "SELECT id, subject, action, at, effect, factor, reasons, asked_at, asked_by, purpose "
    "FROM decisions"
)


def decision_of(row: Sequence[Any]) -> DecisionRow:
    i, s, a, at, e, f, r, asked, by, p = row
    return DecisionRow(i, s, a, parse(at), e, f, r, parse(asked), by, p)


def event_of(row: Sequence[Any]) -> RecordEvent:
    record, kind, at, actor, reason = row
    return RecordEvent(record, kind, parse(at), actor, reason)


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
                self.heads_table, "head", None,
                f"chain ends at seq {self.expected_seq - 1} but the head says {head and head[0]}: "
                "the last rows were removed or the head was edited",
            )  # fmt: skip

    def finish(self) -> None:
        self._close_subject()
        for subject in self.heads.keys() - self.seen:
            self.subject = subject
            self._report(self.heads_table, "head", None, "the head has no rows: rows were removed")


LEDGER_ROWS = (
    f"SELECT 'record', subject, seq, hash, {RECORD_HASHED} FROM records "
    f"UNION ALL SELECT 'event', subject, seq, hash, {EVENT_HASHED} FROM record_events ORDER BY 2, 3"
)
AUDIT_ROWS = (
    f"SELECT 'decision', subject, seq, hash, {DECISION_HASHED} FROM decisions "
    f"UNION ALL SELECT 'access', subject, seq, hash, {ACCESS_HASHED} FROM access_log ORDER BY 2, 3"
)


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
