"""The store interface the application layer talks to.

SQLite implements it today (``socialcredit.store.sqlite``); a PostgreSQL
store implements the same protocol. The domain never sees a store: the
application layer loads values from it and hands them to pure functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, Protocol

from socialcredit.domain.ledger.records import Record, RecordEvent
from socialcredit.domain.rights.cases import CaseEvent
from socialcredit.domain.rights.consent import ConsentChange
from socialcredit.domain.rights.notices import Notice
from socialcredit.domain.rights.overrides import Override
from socialcredit.mobility.rows import Position, ReportEvent, StoredTrip

if TYPE_CHECKING:  # batching imports this module for its row types
    from socialcredit.domain.ledger.batching import BatchPlan, PlanBase


@dataclass(frozen=True, slots=True)
class StoredDefinition:
    id: str
    version: int
    type: str  # "scheme" or "memorandum"
    added_at: datetime
    digest: str
    text: str


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


class StoredNotice(NamedTuple):
    notice: Notice
    delivered_at: datetime | None
    channel: str | None


Progress = Callable[[int], None]


class LedgerStore(Protocol):
    def initialise(self) -> list[int]: ...
    def close(self) -> None: ...
    def checkpoint(self) -> None: ...
    def meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...

    # definitions (append-only: each add is a new version)
    def add_definition(
        self, id: str, type: str, added_at: datetime, digest: str, text: str
    ) -> int: ...
    def definitions(self) -> list[StoredDefinition]: ...
    def add_rescoring(
        self, scheme: str, version: int, at: datetime, actor: str, reason: str | None
    ) -> None: ...
    def rescorings(self) -> list[tuple[str, int, datetime]]: ...

    # subjects and enrolments
    def subject(self, key: str) -> SubjectRow | None: ...
    def ensure_subject(self, subject: SubjectRow) -> SubjectRow: ...
    def enrol(self, subject: SubjectRow, scheme: str, at: datetime, actor: str) -> bool: ...
    def enrol_many(
        self, subjects: Sequence[SubjectRow], scheme: str, at: datetime, actor: str
    ) -> None: ...
    def enrolments(self, subject: str) -> dict[str, datetime]: ...

    # the ledger
    def append_records(self, batch: Sequence[NewRecord]) -> AppendOutcome: ...
    def plan_base(self, batch_size: int) -> PlanBase | None: ...
    def append_planned(self, plan: BatchPlan, epoch: int) -> bool: ...
    def append_event(self, subject: str, event: RecordEvent) -> None: ...
    def record(self, record_id: str) -> Record | None: ...
    def record_events(self, record_id: str) -> list[RecordEvent]: ...
    def subject_ledger(
        self, subject: SubjectRow, schemes: frozenset[str] | None, *, enrolments: bool = True
    ) -> SubjectLedger: ...
    def scheme_ledgers(self, scheme: str) -> Iterator[SubjectLedger]: ...
    def counts(self) -> dict[str, int]: ...

    # links between subjects
    def add_link(self, link: Link, reporter: str, reported_at: datetime) -> None: ...
    def add_links(self, links: Sequence[Link], reporter: str, reported_at: datetime) -> None: ...
    def links_to(self, person: str, role: str) -> list[Link]: ...

    # decisions and access log
    def log_decision(self, decision: DecisionRow) -> None: ...
    def decisions(self, subject: str) -> list[DecisionRow]: ...
    def access_log(self, subject: str) -> list[tuple[datetime, str, str, str]]: ...
    def log_access(
        self, subject: str, at: datetime, actor: str, purpose: str, what: str
    ) -> None: ...

    def log_accesses(
        self, subjects: Sequence[str], at: datetime, actor: str, purpose: str, what: str
    ) -> None: ...

    # API keys
    def add_key(self, key: StoredKey, secret_hash: str) -> None: ...
    def revoke_key(self, key_id: str, at: datetime, by: str) -> bool: ...
    def keys(self) -> list[StoredKey]: ...
    def key_secret(self, key_id: str) -> tuple[StoredKey, str] | None: ...

    # integrity
    def verify(self, progress: Progress | None = None) -> list[ChainProblem]: ...
    def ledger_root(self) -> str: ...

    # due process (several calls inside ``transaction()`` land together)
    def transaction(self) -> AbstractContextManager[None]: ...
    # A check's reads and its audit write in one snapshot (may raise SnapshotMoved).
    def snapshot(self) -> AbstractContextManager[None]: ...
    def decision(self, decision_id: str) -> DecisionRow | None: ...
    def add_case_event(self, event: CaseEvent) -> None: ...
    def case_events(self, case_id: str) -> list[CaseEvent]: ...
    def all_case_events(self, subject: str | None = None) -> list[CaseEvent]: ...
    def add_override(self, override: Override) -> None: ...
    def overrides(self, subject: str, action: str | None = None) -> list[Override]: ...
    def add_consent(self, change: ConsentChange) -> None: ...
    def consents(self, subject: str) -> list[ConsentChange]: ...
    def consents_of_scheme(self, scheme: str) -> list[ConsentChange]: ...
    def add_notices(self, notices: Sequence[Notice]) -> int: ...
    def notices(self, subject: str) -> list[StoredNotice]: ...
    def undelivered_notices(self, limit: int, after: int = 0) -> list[tuple[int, Notice]]: ...
    def mark_delivered(self, notice_ids: Sequence[str], channel: str, at: datetime) -> None: ...
    def unnotified_records(self, after: str, limit: int) -> list[Record]: ...
    def unnotified_adverse_decisions(self) -> list[DecisionRow]: ...
    def notice_sources(self, kind: str) -> list[str]: ...
    def open_list_notices(self) -> list[Notice]: ...
    def erase_record(self, record: Record, event: RecordEvent) -> RecordEvent: ...
    def records_of_scheme(self, scheme: str) -> list[Record]: ...
    def forget_trip_of(self, record_id: str) -> int: ...

    # bike sharing (store/mobility.py; docs/mobility.md)
    def add_zone_set(
        self, scheme: str, zones: Sequence[tuple[str, str, str]], at: datetime, actor: str
    ) -> int: ...
    def zone_set_version(self, scheme: str) -> int | None: ...
    def zone_set(self, scheme: str) -> tuple[int, list[tuple[str, str, str]]] | None: ...
    def add_trips(self, trips: Sequence[StoredTrip], positions: Sequence[Position]) -> None: ...
    def add_positions(self, positions: Sequence[Position]) -> None: ...
    def trips_by_id(self, ids: Sequence[str]) -> dict[str, StoredTrip]: ...
    def trips_of(self, subject: str) -> list[StoredTrip]: ...
    def positions_of(self, subject: str) -> list[Position]: ...
    def position_holdings(self) -> list[tuple[str, str, str, str, datetime]]: ...
    def delete_positions(self, ids: Sequence[str]) -> None: ...
    def trips_ended_before(self, scheme: str, moment: datetime) -> list[str]: ...
    def delete_trips(self, ids: Sequence[str]) -> None: ...
    def add_report_event(self, event: ReportEvent) -> None: ...
    def report_events(
        self, report: str | None = None, *, trip: str | None = None, subject: str | None = None
    ) -> list[ReportEvent]: ...
