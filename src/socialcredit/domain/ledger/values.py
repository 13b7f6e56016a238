"""The values the ledger holds and hands over: subjects as keyed hashes,
records ready to append, links, a subject's ledger, decisions, keys and
notices as stored, and the problems a walk of the chains finds.

Plain values: the store builds them from rows, and the use cases hand them to
the pure functions of the domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from socialcredit.domain.ledger.records import Record, RecordEvent


class SubjectRow(NamedTuple):
    key: str  # keyed hash of the identifier
    kind: str
    masked: str


class NewRecord(NamedTuple):
    """A validated record ready to append. Times are canonical ISO-8601 text
    (what the chain hashes and the store keeps), computed once on intake.
    ``fingerprint`` covers what the reporter sent, to tell a harmless repeat
    of an id from a conflicting one."""

    id: str
    subject: SubjectRow
    scheme: str
    scheme_version: int
    category: str
    occurred_at: str
    reported_at: str
    expires_at: str
    points: int
    reporter: str
    evidence: str | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class AppendOutcome:
    """What became of each record of a batch, by its position in the batch."""

    accepted: list[int]
    duplicates: list[int]
    refused: list[tuple[int, str]]  # (position, reason naming the field)


@dataclass(frozen=True, slots=True)
class Link:
    """A business linked to a person, e.g. as its legal representative."""

    business: str
    person: str
    role: str
    since: datetime
    until: datetime | None
    reported_at: datetime | None = None  # when the ledger learnt of the link


@dataclass(frozen=True, slots=True)
class SubjectLedger:
    subject: SubjectRow
    records: list[Record]
    events: dict[str, list[RecordEvent]]
    enrolments: dict[str, datetime]  # scheme -> explicit enrolment time


@dataclass(frozen=True, slots=True)
class ChainProblem:
    table: str
    subject_masked: str
    seq: int | None
    row: str
    problem: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "chain head"
        return f"{self.table} {self.row} (subject {self.subject_masked}, {where}): {self.problem}"


@dataclass(frozen=True, slots=True)
class StoredKey:
    """An API key as the store keeps it: never the secret, only its hash (kept apart)."""

    id: str
    role: str
    authority: str | None
    subject: str | None  # keyed hash of the subject, for `subject` keys
    subject_masked: str | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    expires_at: datetime | None = None  # the earliest end set for it (expiry, rotation)


@dataclass(frozen=True, slots=True)
class DecisionRow:
    id: str
    subject: str
    action: str
    at: datetime
    effect: str
    factor: float | None
    reasons_json: str
    asked_at: datetime
    asked_by: str
    purpose: str


Progress = Callable[[int], None]
