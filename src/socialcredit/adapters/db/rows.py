"""Rows to values and back, and the SQL every repository shares: column lists
in the order the chains hash them, and the decision numbering.

Times are stored as :func:`~socialcredit.domain.times.ledger_time` spells
them and read back with ``datetime.fromisoformat``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from socialcredit.domain.ledger.records import Record, RecordEvent
from socialcredit.domain.ledger.values import DecisionRow, StoredKey
from socialcredit.domain.times import ledger_time
from socialcredit.native import native

CHUNK = 500  # stays under SQLite's bound-parameter limit

parse = datetime.fromisoformat


def known_since(effect: str, known: str | None) -> datetime:
    """When an enrolment or a rescoring holds for answers: from when it took
    effect, or from when it was known if that is later (a backdated one does
    not change what was answered before it was known)."""
    at = parse(effect)
    return max(at, parse(known)) if known else at


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
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
    fields = (
        subject,
        seq,
        event.record,
        event.kind,
        ledger_time(event.at),
        event.actor,
        event.reason,
    )
    # Only an erasure's event carries a seal; every other event hashes as it always has.
    return fields if event.seal is None else (*fields, event.seal)


def record_of(row: Sequence[Any]) -> Record:
    return records_of((row,))[0]


# tuple.__new__ builds a named tuple in C; Record._make adds a Python call per record.
_new_record = tuple.__new__


def records_of(rows: Iterable[Sequence[Any]]) -> list[Record]:
    """``[record_of(row) for row in rows]`` in one loop without a call per row:
    every score and check builds each of a subject's records this way."""
    return [
        _new_record(
            Record,
            (
                rid,
                subject,
                scheme,
                version,
                category,
                parse(occurred),
                parse(reported),
                parse(expires),
                points,
                reporter,
                ev,
            ),
        )
        for rid, subject, scheme, version, category, occurred, reported, expires, points, reporter, ev in rows
    ]


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
        _new_record(
            Record,
            (
                rid,
                key,
                scheme,
                version,
                category,
                parse(occurred),
                parse(reported),
                parse(expires),
                points,
                reporter,
                ev,
            ),
        )
        for rid, scheme, version, category, occurred, reported, expires, points, reporter, ev in rows
    ]


def stored_key_of(row: Sequence[Any]) -> StoredKey:
    key_id, role, authority, subject, masked, created, by, revoked, expires = row
    return StoredKey(
        key_id,
        role,
        authority,
        subject,
        masked,
        parse(created),
        by,
        parse(revoked) if revoked else None,
        parse(expires) if expires else None,
    )


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


LEDGER_ROWS = (
    f"SELECT 'record', subject, seq, hash, {RECORD_HASHED} FROM records "
    f"UNION ALL SELECT 'event', subject, seq, hash, {EVENT_HASHED} FROM record_events ORDER BY 2, 3"
)
AUDIT_ROWS = (
    f"SELECT 'decision', subject, seq, hash, {DECISION_HASHED} FROM decisions "
    f"UNION ALL SELECT 'access', subject, seq, hash, {ACCESS_HASHED} FROM access_log ORDER BY 2, 3"
)
