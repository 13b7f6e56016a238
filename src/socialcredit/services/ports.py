"""What the use cases need of a store, one protocol per role.

The database adapters (``socialcredit.adapters.db``) implement these; the use
cases see only the protocols, through the :class:`UnitOfWork`. Several calls
inside ``UnitOfWork.transaction()`` land together, or none does.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from socialcredit.domain.consent import ConsentChange
from socialcredit.domain.fairness import AuditAttributes, GroupCounts
from socialcredit.domain.identity import Pseudonymiser
from socialcredit.domain.intake import Line, Parsed
from socialcredit.domain.ledger.batching import BatchPlan, PlanBase, PlannedBatch
from socialcredit.domain.ledger.records import Record, RecordEvent
from socialcredit.domain.ledger.transparency import TreeHead
from socialcredit.domain.ledger.values import (
    AppendOutcome,
    ChainProblem,
    DecisionRow,
    Link,
    NewRecord,
    Progress,
    StoredKey,
    SubjectLedger,
    SubjectRow,
)
from socialcredit.domain.registry import Registry
from socialcredit.domain.rights.cases import CaseEvent
from socialcredit.domain.rights.notices import Notice, StoredNotice
from socialcredit.domain.rights.overrides import Override
from socialcredit.domain.schemes.loader import StoredDefinition


class DatabasePort(Protocol):
    """The connection's own part: transactions, the write-ahead log, meta."""

    path: str

    @property
    def connection(self) -> Any: ...
    @property
    def on_server(self) -> bool: ...
    def transaction(self) -> AbstractContextManager[None]: ...
    # A check's reads and its audit write in one snapshot (may raise SnapshotMoved).
    def snapshot(self) -> AbstractContextManager[None]: ...
    def checkpoint(self) -> None: ...
    def secure_delete(self) -> None: ...
    def meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def close(self) -> None: ...


class DefinitionStore(Protocol):
    """Definitions, append-only: each add is a new version."""

    def add_definition(
        self, id: str, type: str, added_at: datetime, digest: str, text: str
    ) -> int: ...
    def definitions(self) -> list[StoredDefinition]: ...
    def add_rescoring(
        self,
        scheme: str,
        version: int,
        at: datetime,
        actor: str,
        reason: str | None,
        known_at: datetime,
    ) -> None: ...
    def rescorings(self) -> list[tuple[str, int, datetime]]: ...


class LedgerStore(Protocol):
    """Subjects, enrolments, records and their events, links."""

    def subject(self, key: str) -> SubjectRow | None: ...
    def ensure_subject(self, subject: SubjectRow) -> SubjectRow: ...
    def enrol(
        self, subject: SubjectRow, scheme: str, at: datetime, actor: str, known_at: datetime
    ) -> bool: ...
    def enrol_many(
        self,
        subjects: Sequence[SubjectRow],
        scheme: str,
        at: datetime,
        actor: str,
        known_at: datetime,
    ) -> None: ...
    def enrolments(self, subject: str) -> dict[str, datetime]: ...
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
    def add_link(self, link: Link, reporter: str, reported_at: datetime) -> None: ...
    def add_links(self, links: Sequence[Link], reporter: str, reported_at: datetime) -> None: ...
    def links_to(self, person: str, role: str) -> list[Link]: ...
    def links(self) -> list[Link]: ...
    def ledger_root(self) -> str: ...


class AuditStore(Protocol):
    """Decisions and reads of a subject's data, chained per subject."""

    def log_decision(self, decision: DecisionRow) -> None: ...
    def decision(self, decision_id: str) -> DecisionRow | None: ...
    def decisions(self, subject: str) -> list[DecisionRow]: ...
    def log_access(
        self, subject: str, at: datetime, actor: str, purpose: str, what: str
    ) -> None: ...
    def log_accesses(
        self, subjects: Sequence[str], at: datetime, actor: str, purpose: str, what: str
    ) -> None: ...
    def access_log(self, subject: str) -> list[tuple[datetime, str, str, str]]: ...


class KeyStore(Protocol):
    """API keys, as their hashes."""

    def add_key(self, key: StoredKey, secret_hash: str) -> None: ...
    def revoke_key(self, key_id: str, at: datetime, by: str) -> bool: ...
    def add_term(
        self, key_id: str, expires_at: datetime, reason: str, at: datetime, by: str
    ) -> None: ...
    def keys(self) -> list[StoredKey]: ...
    def key_secret(self, key_id: str) -> tuple[StoredKey, str] | None: ...


class DueProcessStore(Protocol):
    """Cases, overrides, consents, the notice outbox and erasure."""

    def add_case_event(self, event: CaseEvent) -> None: ...
    def case_events(self, case_id: str) -> list[CaseEvent]: ...
    def all_case_events(self, subject: str | None = None) -> list[CaseEvent]: ...
    def add_override(self, override: Override) -> None: ...
    def overrides(self, subject: str, action: str | None = None) -> list[Override]: ...
    def all_overrides(self) -> list[Override]: ...
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


class FairnessStore(Protocol):
    """The fairness audit's switch and the coarse attributes it groups people by."""

    def audit_on(self) -> str | None: ...
    def turn_on(self, since: str) -> None: ...
    def turn_off(self) -> int: ...
    def held(self) -> int: ...
    def keep(self, rows: Iterable[AuditAttributes]) -> None: ...
    def attributes(self) -> Iterator[AuditAttributes]: ...
    def of_subject(self, key: str) -> AuditAttributes | None: ...


class LogStore(Protocol):
    """The transparency log's leaves, kept subtree hashes and published heads."""

    def size(self) -> int: ...
    def catch_up(self) -> int: ...
    def tree(self, size: int) -> MerkleProofs: ...
    def record_leaf(self, record_id: str) -> tuple[int, str] | None: ...
    def leaf(self, n: int) -> tuple[str, str] | None: ...
    def add_published(self, head: TreeHead, target: str) -> None: ...
    def published(self) -> list[tuple[TreeHead, str]]: ...
    def problems(self, progress: Callable[[int], None] | None = None) -> list[str]: ...


class MerkleProofs(Protocol):
    def root(self, size: int | None = None) -> bytes: ...
    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]: ...
    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]: ...


class HeadTarget(Protocol):
    """Where heads are published for witnesses to copy (a file, appended to)."""

    name: str

    def append_after_last(self, make: Callable[[object], dict[str, Any]]) -> None:
        """Append ``make(last entry, or None)``, with no other publisher between."""
        ...


class RecordFiles(Protocol):
    """Record files, read and validated, in this process or in a forked worker
    (``adapters/files/records.py``)."""

    def read(self, path: Path) -> Iterator[Line]: ...
    def count(self, path: Path) -> int: ...
    def worthwhile(self, path: Path) -> bool: ...
    def parse(
        self,
        path: Path,
        registry: Registry,
        pseudonymiser: Pseudonymiser,
        now: datetime,
        start: int = 1,
    ) -> Iterator[Parsed]: ...
    def parse_forked(
        self, path: Path, registry: Registry, pseudonymiser: Pseudonymiser, now: datetime
    ) -> Iterator[Parsed]: ...
    def plan_forked(
        self,
        path: Path,
        registry: Registry,
        pseudonymiser: Pseudonymiser,
        now: datetime,
        batch_size: int,
        base: PlanBase,
    ) -> Generator[PlannedBatch, None, None]: ...


class NoticeChannel(Protocol):
    """Where notices go: a file, a console, or an adapter for mail or SMS.

    ``deliver`` hands over a batch and raises if any of it could not be handed
    over; the whole batch then stays in the outbox for the next run (so a
    notice may be sent twice, never lost). A mail or SMS adapter resolves
    ``notice.subject`` (a keyed hash) to an address through the operator's own
    contact directory: this system keeps no contact details."""

    name: str

    def deliver(self, notices: Sequence[Notice]) -> None: ...


class ChainStore(Protocol):
    def verify(self, progress: Progress | None = None) -> list[ChainProblem]: ...


Clock = Callable[[], datetime]

__all__ = [
    "AuditStore",
    "ChainStore",
    "Clock",
    "DatabasePort",
    "DefinitionStore",
    "DueProcessStore",
    "KeyStore",
    "LedgerStore",
    "NoticeChannel",
    "RecordFiles",
]


class SnapshotPart(Protocol):
    """One new part of a snapshot directory, gathered and then written whole."""

    part: int  # its number, from 1

    def add_ledger(
        self,
        ledger: SubjectLedger,
        consents: Sequence[ConsentChange],
        scheme: str,
        known_at: datetime | None,
    ) -> None: ...
    def add_definitions(
        self,
        stored: Sequence[tuple[str, int, str, datetime, str, str]],
        rescorings: Sequence[tuple[str, int, datetime]],
    ) -> None: ...
    def add_links(self, links: Sequence[Link], known_at: datetime | None) -> None: ...
    def add_overrides(self, overrides: Sequence[Override], known_at: datetime | None) -> None: ...
    def write(self, root: str, at: datetime | None, now: datetime) -> dict[str, int]: ...


class Analytics(Protocol):
    """The population at once: snapshots written as Parquet, and evaluated by
    an analytics engine (``adapters/analytics``)."""

    engines: tuple[str, ...]

    def snapshot(
        self, folder: Path, purpose: str, known_at: datetime | None = None
    ) -> SnapshotPart: ...
    def definitions(
        self, folder: Path
    ) -> tuple[list[StoredDefinition], list[tuple[str, int, datetime]]]: ...
    def evaluate(
        self,
        engine: str,
        folder: Path,
        registry: Registry,
        at: datetime,
        out: Path,
        only: set[str] | None = None,
        memory_limit: str | None = None,
        master: str | None = None,
        explain: bool = False,
    ) -> BatchOutcome: ...
    def simulate(
        self,
        engine: str,
        folder: Path,
        before: Registry,
        after: Registry,
        scheme: str,
        at: datetime,
        memory_limit: str | None = None,
    ) -> Simulated: ...
    def grades_over_time(
        self,
        engine: str,
        folder: Path,
        registries: Sequence[Registry],
        scheme: str,
        instants: Sequence[datetime],
        memory_limit: str | None = None,
    ) -> list[list[dict[str, int]]]: ...
    def check(
        self,
        engine: str,
        folder: Path,
        registry: Registry,
        action: str,
        at: datetime,
        memory_limit: str | None = None,
        master: str | None = None,
    ) -> BatchCheck: ...
    def group_counts(
        self,
        engine: str,
        folder: Path,
        registry: Registry,
        scheme: str,
        at: datetime,
        groups: Sequence[tuple[str, str, str]],
        bottom: Sequence[str],
        memory_limit: str | None = None,
    ) -> tuple[int, dict[str, list[GroupCounts]]]: ...


class Simulated(Protocol):
    scheme: str
    at: datetime
    transitions: list[tuple[str, str, int]]
    lists: list[tuple[str, int, int]]
    categories: list[tuple[str, int, int]]
    consequences: dict[str, dict[str, dict[str, int]]]
    grades: list[str]


class BatchCheck(Protocol):
    action: str
    at: datetime
    subjects: int
    effects: dict[str, int]
    reasons: list[dict[str, Any]]
    overridden: int


class BatchOutcome(Protocol):
    rows: dict[str, int]  # result table -> rows written
    schemes: list[str]  # evaluated
    skipped: dict[str, str]  # scheme -> why the plan leaves it out
