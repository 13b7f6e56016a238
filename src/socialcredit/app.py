"""The application layer: use cases that load values from a store, hand them
to the pure domain, and write back what must be kept (records, events,
decisions, the access log).

CLI and (later) HTTP are thin adapters over :class:`SocialCredit`.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialcredit.adapters.keyfile import load_or_create_key
from socialcredit.config import DEFAULT_DB, key_hex
from socialcredit.domain.access import AUTHORITY_ROLES, ROLES, Principal
from socialcredit.domain.identity import Pseudonymiser
from socialcredit.domain.ledger.batching import PlanBase, first_batch
from socialcredit.domain.ledger.records import (
    SUSPENDING_STATUSES,
    EventKind,
    Record,
    RecordEvent,
    status_at,
)
from socialcredit.domain.ledger.values import (
    ChainProblem,
    DecisionRow,
    LedgerStore,
    Link,
    NewRecord,
    Progress,
    StoredKey,
    SubjectLedger,
    SubjectRow,
)
from socialcredit.domain.registry import Registry, UnknownName, build_registry
from socialcredit.domain.rights.consent import SCORING, ConsentChange
from socialcredit.domain.rights.consent import Period as ConsentPeriod
from socialcredit.domain.rights.consent import active_at as consent_active
from socialcredit.domain.rights.consent import periods as consent_periods
from socialcredit.domain.rights.overrides import adverse, apply_overrides
from socialcredit.domain.sanctions.check import Decision, Representation, Standing, decide
from socialcredit.domain.schemes.compiled import SchemeHistory
from socialcredit.domain.schemes.loader import (
    LoadedDefinition,
    load_definition,
    parse_definition,
)
from socialcredit.domain.schemes.models import Memorandum, Scheme
from socialcredit.domain.scoring.engine import (
    ListEntry,
    SchemeEvaluation,
    evaluate,
    record_list_entries,
)
from socialcredit.errors import (
    DefinitionError,
    DefinitionErrors,
    KeyProblem,
    NotFound,
    SnapshotMoved,
    StoreError,
    Unauthenticated,
    UsageError,
)
from socialcredit.intake import (
    Parsed,
    RecordIntake,
    parse_file,
    parse_time,
    validate_lines,
)
from socialcredit.intake_worker import parse_file_forked, plan_file_forked, worker_worthwhile
from socialcredit.store.sqlite import SQLiteStore
from socialcredit.views import reasons_json

if TYPE_CHECKING:
    from socialcredit.casework import Casework

# Large batches: each commit rewrites the index pages it touches, and with
# keyed-hash subject keys a batch touches pages all over the index, so fewer,
# larger commits write far less. Each batch is still atomic.
IMPORT_BATCH = 100_000
PROGRESS_STEP = 5_000


def utc_now() -> datetime:
    return datetime.now(UTC)


# The millisecond and the counter of the last decision id this process made.
_last_stamp = [0, 0]


def time_ordered_id() -> str:
    """A UUID in the version-7 layout: 48 bits of Unix milliseconds, a 12-bit
    counter, then random bits (RFC 9562 §6.2, method 1: the counter starts at a
    random value below 2,048 each millisecond and counts on within it). A process
    therefore never makes two ids with the same first 60 bits, which is the number
    a decision is filed under (``store.common.decision_number``); logged decisions
    get increasing ids and file at the end of their table (Python 3.11 has no
    ``uuid.uuid7``)."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    last_millis, counter = _last_stamp
    if millis > last_millis:
        counter = (rand >> 62) & 0x7FF
    else:  # the same millisecond (or the clock went back): count on, into the next if need be
        millis, counter = last_millis, counter + 1
        if counter > 0xFFF:
            millis, counter = millis + 1, (rand >> 62) & 0x7FF
    _last_stamp[0], _last_stamp[1] = millis, counter
    value = (millis << 80) | (0x7 << 76) | (counter << 64)
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    # str(uuid.UUID(int=value)), spelt out: every check makes one (a test holds them equal).
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    record: str | None
    reason: str


@dataclass(slots=True)
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    duplicate_lines: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CheckResult:
    decision_id: str
    subject: str  # masked
    decision: Decision


@dataclass(frozen=True, slots=True)
class ListedEntry:
    subject: str  # masked
    kind: str
    entry: ListEntry
    subject_key: str


@dataclass(frozen=True, slots=True)
class AddedDefinition:
    id: str
    type: str
    version: int
    source: str


class SocialCredit:
    def __init__(
        self,
        store: LedgerStore,
        pseudonymiser: Pseudonymiser,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.pseudonymiser = pseudonymiser
        self.clock = clock
        self._registry: Registry | None = None
        self.migrated: list[int] = []  # schema migrations applied when opened with create=True
        self._subjects: RecordIntake | None = None  # its bounded cache of parsed identifiers

    # -- opening -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        location: str = DEFAULT_DB,
        *,
        create: bool = False,
        clock: Callable[[], datetime] = utc_now,
        env: Mapping[str, str] | None = None,
    ) -> SocialCredit:
        store: SQLiteStore
        if location.startswith(("postgresql://", "postgres://")):
            from socialcredit.store.postgres import PostgresStore

            store = PostgresStore(location, create=create)
        else:
            store = SQLiteStore(location, create=create)
        migrated: list[int] = []
        try:
            if create:
                migrated = store.initialise()
            key = load_or_create_key(location, key_hex(env), create=create)
            pseudonymiser = Pseudonymiser(key)
            _check_key(store, pseudonymiser)
        except (KeyProblem, StoreError):
            store.close()
            raise
        system = cls(store, pseudonymiser, clock)
        system.migrated = migrated
        return system

    def close(self) -> None:
        self.store.close()

    @property
    def casework(self) -> Casework:
        """Due process: contests, repair, erasure, reviews, consent, notices, retention."""
        from socialcredit.casework import Casework

        return Casework(self)

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = build_registry(self.store.definitions(), self.store.rescorings())
        return self._registry

    # -- definitions ---------------------------------------------------------

    def validate_files(self, paths: Sequence[str | Path]) -> list[LoadedDefinition]:
        return validate_files(paths, self.registry.current_schemes)

    def add_definitions(self, paths: Sequence[str | Path]) -> list[AddedDefinition]:
        return self._add(self.validate_files(paths))

    def add_definition_text(self, text: str, source: str = "text") -> list[AddedDefinition]:
        """Validate and add one definition given as YAML text (e.g. an HTTP body)."""
        try:
            loaded = parse_definition(text, source, self.registry.current_schemes)
        except DefinitionError as error:
            raise DefinitionErrors([error]) from None
        return self._add([loaded])

    def _add(self, loaded: Sequence[LoadedDefinition]) -> list[AddedDefinition]:
        added = []
        for item in loaded:
            definition = item.definition
            version = self.store.add_definition(
                definition.id, definition.type, self.clock(), item.digest, item.text
            )
            added.append(AddedDefinition(definition.id, definition.type, version, item.source))
        self._registry = None
        return added

    def published(self, scheme: str, list_id: str) -> bool:
        """Whether a `publish` measure (the scheme's own or a memorandum's) covers the list."""
        if list_id not in self.registry.history(scheme).current.lists:
            raise NotFound(f"scheme {scheme!r} has no list {list_id!r}")
        return any(
            source.effect == "publish" and source.scheme == scheme and source.list == list_id
            for action in self.registry.index.actions
            for source in self.registry.index.sources(action)
        )

    def rescore(
        self, scheme_id: str, *, version: int | None = None, at: datetime | None = None,
        actor: str = "cli", reason: str | None = None,
    ) -> tuple[int, datetime]:  # fmt: skip
        """From ``at`` on, records reported under older versions count with the
        points of ``version`` (default: the latest). Logged; never silent."""
        history = self.registry.history(scheme_id)
        target = version if version is not None else history.current.version
        if target not in history.versions:
            known = ", ".join(map(str, sorted(history.versions)))
            raise UsageError(f"scheme {scheme_id!r} has no version {target} (it has {known})")
        moment = at or self.clock()
        self.store.add_rescoring(scheme_id, target, moment, actor, reason)
        self._registry = None
        return target, moment

    # -- subjects ------------------------------------------------------------

    def subject_row(self, identifier: str, kind: str | None = None) -> SubjectRow:
        """The subject an identifier names (validated, hashed, masked); an
        IdentifierError says what is wrong with it. Kept for the life of this
        object: a service asks about the same people again and again."""
        if self._subjects is None:
            self._subjects = RecordIntake(self.registry, self.pseudonymiser, self.clock())
        return self._subjects.subject_row(identifier, kind)

    def enrol(self, identifier: str, scheme_id: str, *, kind: str | None = None,
              at: datetime | None = None, actor: str = "cli") -> tuple[SubjectRow, bool]:  # fmt: skip
        history = self.registry.history(scheme_id)
        subject = self.subject_row(identifier, kind or _only_kind(history.current.definition))
        rated = history.current.definition.subjects
        if subject.kind not in rated:
            raise UsageError(
                f"a {subject.kind} is not rated by {scheme_id!r} (it rates: {', '.join(rated)})"
            )
        self._known_kind(subject)
        created = self.store.enrol(subject, scheme_id, at or self.clock(), actor)
        return subject, created

    def _known_kind(self, subject: SubjectRow) -> None:
        stored = self.store.subject(subject.key)
        if stored is not None and stored.kind != subject.kind:
            raise UsageError(
                f"{subject.masked} is already held as a {stored.kind}, not a {subject.kind}"
            )

    def link(self, business: str, person: str, *, role: str = "legal_representative",
             since: datetime, until: datetime | None = None, reporter: str = "cli") -> None:  # fmt: skip
        biz = self.subject_row(business)
        who = self.subject_row(person, "person")
        if biz.kind != "business":
            raise UsageError(
                f"{biz.masked} is a {biz.kind}: only a business has a legal representative"
            )
        if who.kind != "person":
            raise UsageError(f"{who.masked} is a {who.kind}: a legal representative is a person")
        if until is not None and until <= since:
            raise UsageError("until must be after since")
        for row in (biz, who):
            self._known_kind(row)
            self.store.ensure_subject(row)
        self.store.add_link(Link(biz.key, who.key, role, since, until), reporter, self.clock())

    def add_links(self, links: Sequence[tuple[str, str, datetime]], reporter: str = "cli") -> int:
        """Bulk legal-representative links: (business, person, since) triples."""
        rows: list[Link] = []
        subjects: dict[str, SubjectRow] = {}
        for business, person, since in links:
            biz, who = self.subject_row(business), self.subject_row(person, "person")
            if biz.kind != "business":
                raise UsageError(
                    f"{biz.masked} is a {biz.kind}: only a business has a legal representative"
                )
            subjects[biz.key], subjects[who.key] = biz, who
            rows.append(Link(biz.key, who.key, "legal_representative", since, None))
        for row in subjects.values():
            self.store.ensure_subject(row)
        self.store.add_links(rows, reporter, self.clock())
        return len(rows)

    # -- records -------------------------------------------------------------

    def import_records(
        self,
        lines: Iterable[tuple[int, Mapping[str, Any] | str]],
        progress: Progress | None = None,
        batch_size: int = IMPORT_BATCH,
    ) -> ImportReport:
        """Validate and append records. ``lines`` yields (line number, fields)
        or (line number, a reason the line could not be read). Good lines are
        kept whatever the bad ones do; each batch is one transaction."""
        intake = RecordIntake(self.registry, self.pseudonymiser, self.clock())
        parsed = validate_lines(lines, intake)
        return self._import(lambda: self._import_batches(parsed, progress, batch_size))

    def import_file(
        self,
        path: str | Path,
        progress: Progress | None = None,
        batch_size: int = IMPORT_BATCH,
        *,
        worker: bool | None = None,
    ) -> ImportReport:
        """Import a CSV or JSON Lines file. A large file is validated in a forked
        worker while this process writes (``worker`` forces the choice); the
        ledger comes out the same either way."""
        file = Path(path)
        use_worker = worker_worthwhile(file) if worker is None else worker
        now = self.clock()
        if not use_worker:
            parsed = parse_file(file, self.registry, self.pseudonymiser, now)
            return self._import(lambda: self._import_batches(parsed, progress, batch_size))
        base = self.store.plan_base(batch_size)
        if base is None:  # too many subjects held to copy: the worker only validates
            parsed = parse_file_forked(file, self.registry, self.pseudonymiser, now)
            return self._import(lambda: self._import_batches(parsed, progress, batch_size))
        return self._import(lambda: self._import_planned(file, now, base, progress, batch_size))

    def _import(self, run: Callable[[], ImportReport]) -> ImportReport:
        # An import allocates millions of small acyclic tuples; the cyclic
        # collector would rescan the whole growing heap again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            report = run()
        finally:
            if collecting:
                gc.enable()
        # Fold the import's write-ahead log into the database now, rather than
        # inside whichever score or check happens to commit next.
        self.store.checkpoint()
        return report

    def _import_batches(
        self, parsed: Iterable[Parsed], progress: Progress | None, batch_size: int
    ) -> ImportReport:
        report = ImportReport()
        batch: list[tuple[int, NewRecord]] = []
        seen, limit = 0, first_batch(batch_size)
        for item in parsed:
            seen += 1
            if progress is not None and seen % PROGRESS_STEP == 0:
                progress(PROGRESS_STEP)
            if item[1] is None:
                report.rejected.append(Rejection(item[0], item[2], item[3]))
                continue
            batch.append(item)
            if len(batch) >= limit:
                self._append(batch, report)
                batch, limit = [], batch_size
        if batch:
            self._append(batch, report)
        if progress is not None:
            progress(seen % PROGRESS_STEP)
        report.rejected.sort(key=lambda r: r.line)
        return report

    def _import_planned(
        self, file: Path, now: datetime, base: PlanBase, progress: Progress | None, batch_size: int
    ) -> ImportReport:
        """Write the batches the worker planned; at the first the store refuses
        (ids already held, or another writer moved the ledger), read on from
        that batch's first line in this process, judging every record against
        the ledger as it is. Either way the ledger comes out the same."""
        report = ImportReport()
        batches = plan_file_forked(file, self.registry, self.pseudonymiser, now, batch_size, base)
        needing = self.registry.consent_schemes
        try:
            for batch in batches:
                # The worker cannot see consents: a batch with a record of a consent
                # scheme is judged in this process, like a batch the store refuses.
                consent = bool(needing) and any(row[3] in needing for row in batch.plan.rows)
                if batch.plan.rows and (
                    consent or not self.store.append_planned(batch.plan, base.epoch)
                ):
                    batches.close()  # stop the worker before taking over its work
                    parsed = parse_file(file, self.registry, self.pseudonymiser, now, batch.start)
                    _add_report(report, self._import_batches(parsed, progress, batch_size))
                    break
                report.accepted += batch.accepted
                report.duplicates += len(batch.duplicate_lines)
                report.duplicate_lines.extend(batch.duplicate_lines)
                report.rejected.extend(Rejection(*found) for found in batch.rejected)
                if progress is not None:
                    progress(batch.seen)
        finally:
            batches.close()
        report.rejected.sort(key=lambda r: r.line)
        return report

    def _append(self, batch: list[tuple[int, NewRecord]], report: ImportReport) -> None:
        batch = self._refuse_without_consent(batch, report)
        outcome = self.store.append_records([item for _, item in batch])
        report.accepted += len(outcome.accepted)
        report.duplicates += len(outcome.duplicates)
        report.duplicate_lines.extend(batch[position][0] for position in outcome.duplicates)
        for position, reason in outcome.refused:
            number, item = batch[position]
            report.rejected.append(Rejection(number, item.id, reason))

    def _refuse_without_consent(
        self, batch: list[tuple[int, NewRecord]], report: ImportReport
    ) -> list[tuple[int, NewRecord]]:
        """A consent scheme takes a record only while the subject's consent to its
        scoring is active, both when the conduct occurred and now (GDPR art. 7)."""
        needing = self.registry.consent_schemes
        if not needing or not any(item.scheme in needing for _, item in batch):
            return batch
        now = self.clock()
        changes: dict[str, list[ConsentChange]] = {}
        kept = []
        for number, item in batch:
            if item.scheme in needing:
                key = item.subject.key
                if key not in changes:
                    changes[key] = self.store.consents(key)
                spans = consent_periods(changes[key], item.scheme, SCORING)
                occurred = parse_time(item.occurred_at, "occurred_at")
                if not (consent_active(spans, occurred) and consent_active(spans, now)):
                    report.rejected.append(Rejection(number, item.id, (
                        f"subject: {item.subject.masked} has no active consent to "
                        f"{item.scheme!r} for {SCORING!r} (GDPR art. 7), both when the conduct "
                        "occurred and now"
                    )))  # fmt: skip
                    continue
            kept.append((number, item))
        return kept

    def record_event(
        self, record_id: str, kind: EventKind, *, actor: str = "cli",
        reason: str | None = None, at: datetime | None = None,
    ) -> RecordEvent:  # fmt: skip
        record = self.store.record(record_id)
        if record is None:
            raise NotFound(f"no record with id {record_id!r}")
        moment = at or self.clock()
        status = status_at(self.store.record_events(record_id), moment)
        _check_transition(record_id, status, kind)
        event = RecordEvent(record_id, kind, moment, actor, reason)
        self.store.append_event(record.subject, event)
        return event

    # -- reading: scores, checks, lists -----------------------------------------

    def scores(
        self, identifier: str, *, scheme: str | None = None, at: datetime | None = None,
        kind: str | None = None, actor: str = "cli", purpose: str = "score enquiry",
        within: frozenset[str] | None = None,
    ) -> tuple[SubjectRow, list[SchemeEvaluation]]:  # fmt: skip
        """Scores with their explanations; ``within`` limits them to the schemes a
        caller may see, before anything is read or logged."""
        if scheme is not None:
            self.registry.history(scheme)
        subject = self._held_subject(identifier, kind)
        moment = at or self.clock()
        wanted = frozenset({scheme}) if scheme else None
        if within is not None:
            wanted = within if wanted is None else wanted & within
        evaluations = self._evaluate(self.store.subject_ledger(subject, wanted), moment, wanted)
        shown = ",".join(e.explanation.scheme for e in evaluations) or "none"
        self.store.log_access(
            subject.key, self.clock(), actor, purpose, f"scores at {moment.isoformat()}: {shown}"
        )
        return subject, evaluations

    def check(
        self, identifier: str, action: str, *, at: datetime | None = None,
        kind: str | None = None, actor: str = "cli", purpose: str = "check",
    ) -> CheckResult:  # fmt: skip
        # One snapshot for the reads and the audit write; should another writer
        # get in between, nothing was written and the check runs again the plain
        # way (statement by statement, the audit rows under the write lock).
        try:
            with self.store.snapshot():
                return self._check(identifier, action, at, kind, actor, purpose)
        except SnapshotMoved:
            return self._check(identifier, action, at, kind, actor, purpose)

    def _check(
        self, identifier: str, action: str, at: datetime | None, kind: str | None,
        actor: str, purpose: str,
    ) -> CheckResult:  # fmt: skip
        registry = self.registry
        moment = at or self.clock()
        subject = self.subject_row(identifier, kind)
        relevant, grades_matter = registry.check_inputs(action)
        evaluations: dict[str, Standing] = {}
        representations: list[Representation] = []
        if relevant:
            ledger = self.store.subject_ledger(subject, relevant, enrolments=grades_matter)
            evaluations = self._standings(ledger, moment, relevant, grades_matter)
            representations = self._representations(subject, relevant, moment, grades_matter)
        decision = decide(
            action, moment, registry.index, evaluations, representations, registry.list_reach
        )
        # A reviewer's override (GDPR art. 22) stands over an adverse answer of the
        # schemes; once their own answer is no longer adverse, it stands on its own.
        if adverse(decision.effect, decision.factor):
            overrides = self.store.overrides(subject.key, action)
            if overrides:
                decision = apply_overrides(decision, overrides)
        decision_id = time_ordered_id()
        # Asked now: at the instant the check is about, unless that was given.
        asked_at = moment if at is None else self.clock()
        self.store.log_decision(DecisionRow(
            decision_id, subject.key, action, moment, decision.effect, decision.factor,
            reasons_json(decision.reasons), asked_at, actor, purpose,
        ))  # fmt: skip
        return CheckResult(decision_id, subject.masked, decision)

    def lists(
        self, scheme: str | None = None, list_id: str | None = None, *,
        at: datetime | None = None, actor: str = "cli", purpose: str = "list enquiry",
    ) -> list[ListedEntry]:  # fmt: skip
        moment = at or self.clock()
        histories = (
            [self.registry.history(scheme)] if scheme else list(self.registry.schemes.values())
        )
        if list_id is not None and scheme is not None and list_id not in histories[0].current.lists:
            raise UsageError(f"scheme {scheme!r} has no list {list_id!r}")
        found: list[ListedEntry] = []
        for history in histories:
            if not history.current.lists:
                continue
            for subject, evaluation in self.evaluate_scheme(history.id, moment):
                for entry in evaluation.entries:
                    if list_id is None or entry.list == list_id:
                        found.append(ListedEntry(subject.masked, subject.kind, entry, subject.key))
        self.store.log_accesses(
            sorted({e.subject_key for e in found}), self.clock(), actor, purpose,
            f"list entries at {moment.isoformat()}",
        )  # fmt: skip
        return found

    def evaluate_scheme(
        self, scheme: str, at: datetime
    ) -> Iterator[tuple[SubjectRow, SchemeEvaluation]]:
        """Every subject of one scheme, evaluated at ``at`` (the batch path:
        the same pure function as a single score, fed a scheme at a time)."""
        history = self.registry.history(scheme)
        consents: dict[str, list[ConsentChange]] = {}
        if history.current.needs_consent:
            for change in self.store.consents_of_scheme(scheme):
                consents.setdefault(change.subject, []).append(change)
        for ledger in self.store.scheme_ledgers(scheme):
            spans = consent_periods(consents.get(ledger.subject.key, ()), scheme, SCORING)
            yield (
                ledger.subject,
                evaluate(history, ledger.records, ledger.events, at, ledger.enrolments.get(scheme),
                         spans),
            )  # fmt: skip

    def _held_subject(self, identifier: str, kind: str | None) -> SubjectRow:
        subject = self.subject_row(identifier, kind)
        if self.store.subject(subject.key) is None:
            raise NotFound(f"no data is held about {subject.masked}")
        return subject

    def _evaluate(
        self, ledger: SubjectLedger, moment: datetime, schemes: frozenset[str] | None
    ) -> list[SchemeEvaluation]:
        """Evaluate the subject in every scheme it is enrolled in or has records
        under (only ``schemes``, if given); a scheme asked for by name is
        evaluated even when the subject is not enrolled in it."""
        return [
            evaluate(history, records, ledger.events, moment, enrolled_at, spans)
            for history, records, enrolled_at, spans in self._scheme_inputs(ledger, schemes)
        ]

    def _standings(
        self, ledger: SubjectLedger, moment: datetime, schemes: frozenset[str], grades: bool
    ) -> dict[str, Standing]:
        """What a check reads of each of ``schemes``, by scheme: the evaluation,
        or where no measure on the action reads a grade (``grades`` false) only
        the entries records cause, which need no score."""
        found: dict[str, Standing] = {}
        for history, records, enrolled_at, spans in self._scheme_inputs(ledger, schemes):
            found[history.id] = (
                evaluate(history, records, ledger.events, moment, enrolled_at, spans)
                if grades
                else record_list_entries(history, records, ledger.events, moment, spans)
            )
        return found

    def _scheme_inputs(
        self, ledger: SubjectLedger, schemes: frozenset[str] | None
    ) -> Iterator[tuple[SchemeHistory, list[Record], datetime | None, list[ConsentPeriod]]]:
        """Per scheme to evaluate, in id order: its history, the subject's records
        under it, its explicit enrolment and the periods of consent to scoring."""
        by_scheme: dict[str, list[Record]] = {sid: [] for sid in ledger.enrolments}
        for record in ledger.records:
            by_scheme.setdefault(record.scheme, []).append(record)
        if schemes is not None:
            by_scheme = {sid: found for sid, found in by_scheme.items() if sid in schemes}
            if len(schemes) == 1:
                by_scheme.setdefault(next(iter(schemes)), [])
        histories = self.registry.schemes
        changes: list[ConsentChange] | None = None
        for scheme_id in sorted(by_scheme):
            history = histories.get(scheme_id)
            if history is None:
                continue
            spans: list[ConsentPeriod] = []
            if history.current.needs_consent:
                if changes is None:  # read only when a consent scheme is evaluated
                    changes = self.store.consents(ledger.subject.key)
                spans = consent_periods(changes, scheme_id, SCORING)
            yield history, by_scheme[scheme_id], ledger.enrolments.get(scheme_id), spans

    def _representations(
        self, subject: SubjectRow, relevant: frozenset[str], moment: datetime, grades: bool
    ) -> list[Representation]:
        registry = self.registry
        if subject.kind != "person" or not registry.list_reach:
            return []
        reaching = registry.reach_schemes & relevant
        if not reaching:
            return []
        found = []
        for role in registry.reach_roles:
            for link in self.store.links_to(subject.key, role):
                known = link.reported_at is None or link.reported_at <= moment
                if not (
                    known and link.since <= moment and (link.until is None or moment < link.until)
                ):
                    continue
                business = self.store.subject(link.business)
                if business is None:
                    continue
                ledger = self.store.subject_ledger(business, reaching)
                evaluations = self._standings(ledger, moment, reaching, grades)
                found.append(Representation(role, business.masked, evaluations))
        return found

    # -- API keys --------------------------------------------------------------

    def create_key(
        self, role: str, *, authority: str | None = None, subject: str | None = None,
        kind: str | None = None, actor: str = "cli",
    ) -> tuple[StoredKey, str]:  # fmt: skip
        """A new API key; the token is returned once and only its hash is kept."""
        if role not in ROLES:
            raise UsageError(f"role: {role!r} is not one of {', '.join(ROLES)}")
        if role in AUTHORITY_ROLES and authority is None:
            raise UsageError(f"a {role} key acts for an authority: give --authority")
        if role not in AUTHORITY_ROLES and authority is not None:
            raise UsageError(f"a {role} key acts for no authority: leave out --authority")
        if (role == "subject") != (subject is not None):
            raise UsageError("a subject key, and only a subject key, names its --subject")
        if authority is not None and authority not in self.authorities():
            known = ", ".join(sorted(self.authorities())) or "none yet: add schemes first"
            raise UsageError(f"authority: unknown authority {authority!r} (known: {known})")
        row = self.subject_row(subject, kind) if subject is not None else None
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        stored = StoredKey(key_id, role, authority, row.key if row else None,
                           row.masked if row else None, self.clock(), actor)  # fmt: skip
        self.store.add_key(stored, _secret_hash(secret))
        return stored, f"{TOKEN_PREFIX}{key_id}_{secret}"

    def revoke_key(self, key_id: str, actor: str = "cli") -> None:
        if self.store.key_secret(key_id) is None:
            raise NotFound(f"no key with id {key_id!r}")
        if not self.store.revoke_key(key_id, self.clock(), actor):
            raise UsageError(f"key {key_id!r} was already revoked")

    def authenticate(self, token: str) -> Principal:
        """The principal a bearer token stands for, or :class:`AuthenticationFailed`."""
        prefix, _, rest = token.partition(TOKEN_PREFIX)
        key_id, _, secret = rest.partition("_")
        if prefix or not key_id or not secret:
            raise AuthenticationFailed("the key is not a socialcredit API key")
        found = self.store.key_secret(key_id)
        # Compare even when the id is unknown, so timing does not tell ids apart.
        expected = found[1] if found else _secret_hash("")
        if not hmac.compare_digest(_secret_hash(secret), expected) or found is None:
            raise AuthenticationFailed("the key is not valid")
        key = found[0]
        if key.revoked_at is not None:
            raise AuthenticationFailed(f"the key {key.id} was revoked")
        return Principal(key.id, key.role, key.authority, key.subject)  # type: ignore[arg-type]

    def authorities(self) -> set[str]:
        """Every authority that runs a scheme or signed a memorandum."""
        found = {h.current.definition.authority.id for h in self.registry.schemes.values()}
        for memo in self.registry.memoranda.values():
            found.update(signatory.id for signatory in memo.signatories)
        return found

    # -- integrity -----------------------------------------------------------

    def verify(self, progress: Progress | None = None) -> list[ChainProblem]:
        return self.store.verify(progress)

    def ledger_root(self) -> str:
        return self.store.ledger_root()


def validate_files(
    paths: Sequence[str | Path], known_schemes: Mapping[str, Scheme] | None = None
) -> list[LoadedDefinition]:
    """Load and validate every file; memoranda may name schemes in the same call.

    Problems in every file are gathered into one :class:`DefinitionErrors`,
    so that a caller adds nothing unless all files pass."""
    known: dict[str, Scheme] = dict(known_schemes or {})
    loaded: list[LoadedDefinition] = []
    errors: list[DefinitionError] = []
    memoranda: list[Path] = []
    for path in map(Path, paths):
        try:
            item = load_definition(path)
        except DefinitionError as error:
            errors.append(error)
            continue
        if isinstance(item.definition, Memorandum):
            memoranda.append(path)
        else:
            known[item.definition.id] = item.definition
            loaded.append(item)
    for path in memoranda:
        try:
            loaded.append(load_definition(path, known))
        except DefinitionError as error:
            errors.append(error)
    if errors:
        raise DefinitionErrors(errors)
    return loaded


def _add_report(report: ImportReport, more: ImportReport) -> None:
    report.accepted += more.accepted
    report.duplicates += more.duplicates
    report.rejected.extend(more.rejected)
    report.duplicate_lines.extend(more.duplicate_lines)


def _check_key(store: SQLiteStore, pseudonymiser: Pseudonymiser) -> None:
    """The first key a database is used with is the only one it accepts:
    another would silently file every subject under new pseudonyms."""
    check = pseudonymiser.key_check()
    held = store.meta("key_check")
    if held is None:
        store.set_meta("key_check", check)
    elif held != check:
        raise StoreError(
            f"{store.path}: the identifier key does not match this database "
            "(wrong SOCIALCREDIT_KEY, or the key file was replaced)"
        )


TOKEN_PREFIX = "sck_"


class AuthenticationFailed(Unauthenticated):
    """No valid key (HTTP 401)."""


def _secret_hash(secret: str) -> str:
    # The secret is 256 random bits, so a plain hash suffices (no key stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


_ALLOWED_BEFORE: Mapping[str, frozenset[str | None]] = {
    "contested": frozenset({None, "upheld"}),
    "upheld": frozenset({"contested", "restricted"}),
    "overturned": frozenset({"contested", "restricted"}),
    "repaired": frozenset({None, "upheld"}),
    "restricted": frozenset({None, "upheld"}),
    "erased": frozenset({None, "upheld", "contested", "overturned", "repaired", "restricted"}),
}


def _check_transition(record_id: str, status: str | None, kind: str) -> None:
    if status in _ALLOWED_BEFORE[kind]:
        return
    shown = status or "standing (never contested)"
    if kind in ("upheld", "overturned"):
        raise UsageError(
            f"record {record_id!r} is {shown}: only a contested or restricted record can be reviewed"
        )
    if status in SUSPENDING_STATUSES:
        raise UsageError(f"record {record_id!r} is already {status}")
    raise UsageError(f"record {record_id!r} is {shown} and cannot be {kind}")


def _only_kind(scheme: Scheme) -> str | None:
    return scheme.subjects[0] if len(scheme.subjects) == 1 else None


__all__ = [
    "DEFAULT_DB",
    "CheckResult",
    "DefinitionErrors",
    "ImportReport",
    "ListedEntry",
    "NotFound",
    "Rejection",
    "SocialCredit",
    "StoreError",
    "UnknownName",
    "UsageError",
    "parse_time",
]
