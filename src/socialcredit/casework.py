"""Due process as use cases: contests, credit repair, rectification, erasure,
human review of decisions, consent, notices and retention.

Like :mod:`socialcredit.app`, this layer loads values from the store, asks the
pure rules in :mod:`socialcredit.domain.rights` what follows, and writes back the
result. Each step that changes more than one table (a record event, a case
event and a notice, say) is one transaction: all of it lands, or none.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson

from socialcredit.app import (
    ImportReport,
    NotFound,
    SocialCredit,
    UsageError,
    _check_transition,
    time_ordered_id,
)
from socialcredit.domain.ledger.records import ERASED, EventKind, Record, RecordEvent, status_at
from socialcredit.domain.ledger.values import NewRecord, StoredNotice, SubjectRow
from socialcredit.domain.rights import notices as build
from socialcredit.domain.rights.cases import (
    Case,
    CaseError,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    check_decision,
    check_extension,
    fold,
    fold_all,
    overdue,
)
from socialcredit.domain.rights.consent import ConsentChange
from socialcredit.domain.rights.consent import active_at as consent_active
from socialcredit.domain.rights.consent import periods as consent_periods
from socialcredit.domain.rights.notices import Notice
from socialcredit.domain.rights.overrides import Override, adverse
from socialcredit.domain.rights.repair import check_application
from socialcredit.domain.rights.retention import kept_until, past_retention
from socialcredit.domain.schemes.models import EFFECTS_STRONGEST_FIRST, Scheme
from socialcredit.domain.scoring.engine import ListEntry
from socialcredit.intake import parse_time
from socialcredit.views import case_view

# Bases under which the subject may have records erased on request (GDPR
# art. 17(1)(b)); under the others erasure gives way to restriction (art. 18).
ERASABLE_BASES = frozenset({"consent"})
DELIVERY_BATCH = 1_000
SWEEP_CHUNK = 10_000


class NoticeChannel(Protocol):
    """Where notices go: a file, a console, or an adapter for mail or SMS.

    ``deliver`` hands over a batch and raises if any of it could not be handed
    over; the whole batch then stays in the outbox for the next run (so a
    notice may be sent twice, never lost). A mail or SMS adapter resolves
    ``notice.subject`` (a keyed hash) to an address through the operator's own
    contact directory: this system keeps no contact details."""

    name: str

    def deliver(self, notices: Sequence[Notice]) -> None: ...


@dataclass(frozen=True, slots=True)
class ErasureOutcome:
    record: str
    erased: bool  # False: restricted instead, pending review
    case: Case | None
    why: str


@dataclass(slots=True)
class SweepReport:
    built: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class RetentionItem:
    record: str
    scheme: str
    subject: str  # masked
    kept_until: datetime


@dataclass(slots=True)
class RetentionReport:
    applied: bool
    items: list[RetentionItem] = field(default_factory=list)
    # Bike sharing: precise positions past kept_until or without consent, old trips.
    mobility: dict[str, int] = field(default_factory=dict)

    def by_scheme(self) -> dict[str, int]:
        return dict(Counter(item.scheme for item in self.items))


class Casework:
    def __init__(self, system: SocialCredit) -> None:
        self.system = system
        self.store = system.store

    # -- opening cases -------------------------------------------------------------

    def contest(self, record_id: str, statement: str, *, evidence: str | None = None,
                actor: str = "cli") -> Case:  # fmt: skip
        """Contest a record: its effect freezes at once (GDPR art. 18) until a
        reviewer upholds or overturns it."""
        record = self._record(record_id)
        now = self.system.clock()
        _check_transition(record_id, self._status(record_id, now), "contested")
        return self._open(
            "contest", record, statement, evidence, actor, now,
            RecordEvent(record_id, "contested", now, actor, None),
        )  # fmt: skip

    def apply_for_repair(self, record_id: str, statement: str, *, evidence: str | None = None,
                         actor: str = "cli") -> Case:  # fmt: skip
        """Apply for credit repair; refused with the date it becomes possible if too early."""
        record = self._record(record_id)
        now = self.system.clock()
        _check_transition(record_id, self._status(record_id, now), "repaired")
        scheme = self._scheme(record)
        category = self.system.registry.history(record.scheme).category(
            record.scheme_version, record.category
        )
        if category is None:
            raise UsageError(f"record {record_id!r}: its category is no longer known")
        early = scheme.repair is not None and scheme.repair.early_removal is not None
        check_application(record_id, category.severity, record.reported_at, early, now)
        self._no_open_case(record_id, "repair")
        return self._open("repair", record, statement, evidence, actor, now)

    def request_rectification(self, record_id: str, statement: str, *,
                              evidence: str | None = None, actor: str = "cli") -> Case:  # fmt: skip
        """Ask for a record to be corrected (GDPR art. 16); a reviewer decides."""
        record = self._record(record_id)
        self._no_open_case(record_id, "rectification")
        return self._open("rectification", record, statement, evidence, actor, self.system.clock())

    def request_erasure(self, record_id: str, statement: str, *,
                        actor: str = "cli") -> ErasureOutcome:  # fmt: skip
        """Erase a record where the lawful basis allows it (GDPR art. 17): a consent
        scheme, or a record past retention. Otherwise restrict it (art. 18) and
        put the request to a reviewer."""
        record = self._record(record_id)
        now = self.system.clock()
        scheme = self._scheme(record)
        if scheme.lawful_basis in ERASABLE_BASES or past_retention(record, scheme.retention, now):
            why = (
                f"erasure requested; the lawful basis of {scheme.id!r} is consent"
                if scheme.lawful_basis in ERASABLE_BASES
                else f"erasure requested; past the retention period of {scheme.id!r}"
            )
            self.erase(record, why, actor)
            return ErasureOutcome(record_id, True, None, why)
        _check_transition(record_id, self._status(record_id, now), "restricted")
        why = (
            f"the lawful basis of {scheme.id!r} is {scheme.lawful_basis}, which does not give a "
            f"right to erasure before the record's retention ends on "
            f"{kept_until(record, scheme.retention).date().isoformat()}: the record is "
            "restricted instead (GDPR art. 18) and a reviewer will answer"
        )
        case = self._open(
            "erasure", record, statement, None, actor, now,
            RecordEvent(record_id, "restricted", now, actor, None),
        )  # fmt: skip
        return ErasureOutcome(record_id, False, case, why)

    def refer_decision(self, decision_id: str, statement: str, *, actor: str = "cli") -> Case:
        """Ask for a human review of an adverse automated decision (GDPR art. 22(3))."""
        found = self.store.decision(decision_id)
        if found is None:
            raise NotFound(f"no decision with id {decision_id!r}")
        if not adverse(found.effect, found.factor):
            raise UsageError(
                f"decision {decision_id!r} is '{found.effect}': only a denial or a raised price "
                "can be referred for review"
            )
        for pending in self.cases(subject=found.subject, open_only=True):
            if pending.decision == decision_id:
                raise UsageError(
                    f"decision {decision_id!r} already has an open review case: {pending.id}"
                )
        reasons = orjson.loads(found.reasons_json)
        authorities = sorted({r["authority"] for r in reasons if r.get("effect") == found.effect})
        schemes = sorted({r["scheme"] for r in reasons if r.get("effect") == found.effect})
        now = self.system.clock()
        body = {
            "kind": "decision_review", "statement": _statement(statement),
            "decision": decision_id, "scheme": schemes[0] if schemes else None,
            "authorities": authorities,
            "details": {"action": found.action, "effect": found.effect, "factor": found.factor},
        }  # fmt: skip
        return self._write_opening(found.subject, body, actor, now, None)

    def _open(self, kind: CaseKind, record: Record, statement: str, evidence: str | None,
              actor: str, now: datetime, event: RecordEvent | None = None) -> Case:  # fmt: skip
        scheme = self._scheme(record)
        body = {
            "kind": kind, "statement": _statement(statement), "evidence": evidence,
            "record": record.id, "scheme": scheme.id, "authorities": [scheme.authority.id],
        }  # fmt: skip
        return self._write_opening(record.subject, body, actor, now, event)

    def _write_opening(self, subject: str, body: Mapping[str, Any], actor: str, now: datetime,
                       event: RecordEvent | None) -> Case:  # fmt: skip
        case_id = "case-" + time_ordered_id()
        if event is not None:
            event = event._replace(reason=f"case {case_id}")
        opened = CaseEvent(case_id, subject, 1, "opened", now, actor, body)
        case = fold([opened])
        with self.store.transaction():
            if event is not None:
                self.store.append_event(subject, event)
            self.store.add_case_event(opened)
            self.store.add_notices([build.case_step(case, opened, self._masked(subject))])
        return case

    # -- answering cases -------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        events = self.store.case_events(case_id)
        if not events:
            raise NotFound(f"no case with id {case_id!r}")
        return fold(events)

    def cases(self, *, subject: str | None = None, open_only: bool = False,
              overdue_only: bool = False, authority: str | None = None) -> list[Case]:  # fmt: skip
        """Cases, oldest first; ``subject`` is a keyed hash, ``authority`` keeps the
        cases that authority's reviewers answer."""
        now = self.system.clock()
        found = fold_all(self.store.all_case_events(subject))
        if authority is not None:
            found = [c for c in found if authority in c.authorities]
        if open_only or overdue_only:
            found = [c for c in found if c.open]
        if overdue_only:
            return overdue(found, now)
        return sorted(found, key=lambda c: (c.opened_at, c.id))

    def open_case_for(self, record_id: str, kinds: Iterable[CaseKind]) -> Case | None:
        record = self._record(record_id)
        wanted = set(kinds)
        for case in self.cases(subject=record.subject, open_only=True):
            if case.record == record_id and case.kind in wanted:
                return case
        return None

    def review(
        self, record_id: str, *, uphold: bool, reason: str, actor: str = "cli"
    ) -> Case | None:
        """Decide the open contest of a record, or its restriction on a request for
        erasure: to uphold keeps the record counting; to overturn sets it aside, or
        erases it where erasure was asked for. A record contested before cases were
        kept has no case: it is decided directly (None is returned)."""
        case = self.open_case_for(record_id, ["contest", "erasure"])
        if case is None:
            kind: EventKind = "upheld" if uphold else "overturned"
            self.system.record_event(record_id, kind, actor=actor, reason=reason or None)
            return None
        if case.kind == "erasure":
            outcome = "kept" if uphold else "erased"
        else:
            outcome = "upheld" if uphold else "overturned"
        return self.decide(case.id, outcome, reason, actor=actor)

    def extend(self, case_id: str, reason: str, *, actor: str = "cli") -> Case:
        """Extend the deadline once, by two months, telling the subject why."""
        case = self.case(case_id)
        try:
            check_extension(case, reason, self.system.clock())
        except CaseError as error:
            raise UsageError(str(error)) from None
        return self._step(case, "extended", {"reason": reason.strip()}, actor)

    def decide(
        self, case_id: str, outcome: str, reason: str, *, actor: str = "cli",
        effect: str | None = None, factor: float | None = None, until: datetime | None = None,
        category: str | None = None, occurred_at: datetime | None = None,
    ) -> Case:  # fmt: skip
        """A reviewer's answer, with a written reason; what it means for the
        record or decision is applied in the same transaction."""
        case = self.case(case_id)
        try:
            check_decision(case, outcome, reason)
        except CaseError as error:
            raise UsageError(str(error)) from None
        # Terms the outcome would ignore are refused, not silently dropped.
        if not (case.kind == "decision_review" and outcome == "overridden") and (
            effect is not None or factor is not None or until is not None
        ):
            raise UsageError(
                "effect: effect, factor and until belong to an overridden decision review"
            )
        if not (case.kind == "rectification" and outcome == "rectified") and (
            category is not None or occurred_at is not None
        ):
            raise UsageError("category: category and occurred_at belong to a rectified record")
        now = self.system.clock()
        details: dict[str, Any] = {}
        with self.store.transaction():
            if case.kind == "decision_review" and outcome == "overridden":
                details = self._override(case, reason, effect, factor, until, actor, now)
            elif case.record is not None:
                details = self._apply_to_record(case, outcome, reason, actor, now,
                                                category, occurred_at)  # fmt: skip
            decided = self._step(
                case, "decided", {"outcome": outcome, "reason": reason.strip(), "details": details},
                actor, now,
            )  # fmt: skip
        if outcome == "erased":
            self.store.checkpoint()  # the erased contents leave the write-ahead log now
        return decided

    def _apply_to_record(self, case: Case, outcome: str, reason: str, actor: str, now: datetime,
                         category: str | None, occurred_at: datetime | None) -> dict[str, Any]:  # fmt: skip
        record = self._record(case.record or "")
        if record.category == ERASED:  # nothing is left to act on; the case can still close
            return {"record": "erased before the decision"}
        note = f"case {case.id}: {reason.strip()}"
        kinds = {("contest", "upheld"): "upheld", ("contest", "overturned"): "overturned",
                 ("repair", "approved"): "repaired", ("rectification", "rectified"): "overturned",
                 ("erasure", "kept"): "upheld"}  # fmt: skip
        if case.kind == "erasure" and outcome == "erased":
            self.erase(record, note, actor)
            return {}
        kind = kinds.get((case.kind, outcome))
        if kind is None:  # denied or refused: nothing changes
            return {}
        status = self._status(record.id, now)
        if case.kind == "rectification":
            # A wrong record is set aside whether or not it was contested first.
            if status in ("overturned", "repaired", "erased"):
                raise UsageError(f"record {record.id!r} is already {status}")
        else:
            _check_transition(record.id, status, kind)
        self.store.append_event(record.subject, RecordEvent(record.id, kind, now, actor, note))  # type: ignore[arg-type]
        if case.kind == "rectification" and (category or occurred_at):
            return {"replacement": self._replace(record, case, category, occurred_at, now)}
        return {}

    def _replace(self, record: Record, case: Case, category: str | None,
                 occurred_at: datetime | None, now: datetime) -> str:  # fmt: skip
        """Append the corrected record that replaces a rectified one."""
        scheme = self.system.registry.history(record.scheme).current
        code = category or record.category
        rule = scheme.categories.get(code)
        if rule is None:
            raise UsageError(f"category: scheme {scheme.id!r} has no category {code!r}")
        occurred = occurred_at or record.occurred_at
        if occurred > now:
            raise UsageError("occurred_at: a corrected record cannot occur in the future")
        held = self.store.subject(record.subject)
        assert held is not None
        new_id = f"{record.id}~{case.id[-12:]}"
        sent = "\x1f".join((scheme.id, code, held.key, occurred.isoformat(), now.isoformat(),
                             record.reporter, case.id))  # fmt: skip
        replacement = NewRecord(
            new_id, held, scheme.id, scheme.version, code, occurred.isoformat(), now.isoformat(),
            rule.validity.after(occurred).isoformat(), rule.points, record.reporter,
            f"rectification {case.id}", hashlib.sha256(sent.encode()).hexdigest()[:32],
        )  # fmt: skip
        report = ImportReport()
        self.system._append([(1, replacement)], report)  # the consent rule applies here too
        if report.rejected:
            raise UsageError(report.rejected[0].reason)
        return new_id

    def _override(self, case: Case, reason: str, effect: str | None, factor: float | None,
                  until: datetime | None, actor: str, now: datetime) -> dict[str, Any]:  # fmt: skip
        if effect not in EFFECTS_STRONGEST_FIRST:
            raise UsageError(
                f"effect: an override needs one of {', '.join(EFFECTS_STRONGEST_FIRST)}"
            )
        if (effect == "adjust") != (factor is not None):
            raise UsageError("factor: give a factor with 'adjust', and only with it")
        if factor is not None and factor <= 0:
            raise UsageError("factor: must be greater than 0")
        if until is None or until <= now:
            raise UsageError("until: an override holds for a stated period ending in the future")
        action = str(case.details.get("action"))
        reviewer = actor.rpartition("@")[2] if "@" in actor else actor
        self.store.add_override(Override(
            case.subject, action, effect, factor, now, until, case.id, case.scheme or "",
            reviewer, reason.strip(), now,
        ))  # fmt: skip
        return {"override": {"action": action, "effect": effect, "factor": factor,
                             "since": now.isoformat(), "until": until.isoformat()}}  # fmt: skip

    def _step(self, case: Case, kind: CaseEventKind, body: dict[str, Any], actor: str,
              now: datetime | None = None) -> Case:  # fmt: skip
        event = CaseEvent(case.id, case.subject, case.events + 1, kind,
                          now or self.system.clock(), actor, body)  # fmt: skip
        updated = fold([*self.store.case_events(case.id), event])
        with self.store.transaction():
            self.store.add_case_event(event)
            self.store.add_notices([build.case_step(updated, event, self._masked(case.subject))])
        return updated

    # -- erasure and retention ---------------------------------------------------------

    def erase(self, record: Record, why: str, actor: str) -> None:
        """Blank a record's contents and seal its place in the chain (a tombstone)."""
        now = self.system.clock()
        if record.category == ERASED:
            raise UsageError(f"record {record.id!r} was already erased")
        event = RecordEvent(record.id, "erased", now, actor, why)
        with self.store.transaction():
            self.store.erase_record(record, event)
            self.store.forget_trip_of(record.id)  # a bike trip's verdict: the trip goes too
            self.store.add_notices([build.record_erased(
                record.id, record.subject, self._masked(record.subject), record.scheme, why, now,
            )])  # fmt: skip
        self.store.checkpoint()  # out of the write-ahead log too (once the outermost write ends)

    def retention(self, *, apply: bool = False, actor: str = "retention") -> RetentionReport:
        """Records past their scheme's retention period: listed, and erased with ``apply``."""
        from socialcredit.mobility.service import Mobility  # numpy and shapely only when run

        now = self.system.clock()
        report = RetentionReport(applied=apply)
        # Trips and positions first, so that they are counted as what they are
        # rather than going silently with the records erased below.
        report.mobility = Mobility(self.system).purge(apply=apply, now=now)
        for scheme_id, history in sorted(self.system.registry.schemes.items()):
            retention = history.current.definition.retention
            for record in self.store.records_of_scheme(scheme_id):
                if past_retention(record, retention, now):
                    report.items.append(RetentionItem(
                        record.id, scheme_id, self._masked(record.subject),
                        kept_until(record, retention),
                    ))  # fmt: skip
                    if apply:
                        self.erase(record, f"retention of {scheme_id!r} ({retention}) ended", actor)
        if apply:  # erased contents must not linger in the write-ahead log either
            self.store.checkpoint()
        return report

    # -- consent -------------------------------------------------------------------------

    def set_consent(self, identifier: str, scheme_id: str, purpose: str, granted: bool, *,
                    kind: str | None = None, actor: str = "cli") -> ConsentChange:  # fmt: skip
        scheme = self.system.registry.history(scheme_id).current.definition
        if purpose not in scheme.purposes:
            raise UsageError(
                f"purpose: {scheme_id!r} asks consent for {', '.join(scheme.purposes)}, "
                f"not {purpose!r}"
            )
        subject = self.system.subject_row(identifier, kind)
        now = self.system.clock()
        active = consent_active(
            consent_periods(self.store.consents(subject.key), scheme_id, purpose), now
        )
        if active == granted:
            state = "already active" if granted else "not active"
            raise UsageError(
                f"consent of {subject.masked} to {scheme_id!r} for {purpose!r} is {state}"
            )
        change = ConsentChange(subject.key, scheme_id, purpose, granted, now, actor)
        with self.store.transaction():
            self.store.ensure_subject(subject)
            self.store.add_consent(change)
            self.store.add_notices([build.consent_changed(
                subject.key, subject.masked, scheme_id, purpose, granted, now,
            )])  # fmt: skip
        return change

    def consents(self, subject: SubjectRow) -> list[dict[str, Any]]:
        """Each (scheme, purpose) the subject ever consented to, with its periods."""
        changes = self.store.consents(subject.key)
        now = self.system.clock()
        pairs = sorted({(c.scheme, c.purpose) for c in changes})
        views = []
        for scheme_id, purpose in pairs:
            spans = consent_periods(changes, scheme_id, purpose)
            views.append({
                "scheme": scheme_id, "purpose": purpose, "active": consent_active(spans, now),
                "periods": [{"from": _iso(a), "until": _iso(b)} for a, b in spans],
            })  # fmt: skip
        return views

    # -- notices ---------------------------------------------------------------------------

    def sweep(self) -> SweepReport:
        """Build the notices the ledger calls for and the outbox lacks: records
        reported, adverse decisions, and lists entered or left. Idempotent."""
        report = SweepReport()
        now = self.system.clock()
        masks: dict[str, str] = {}
        self._record_notices(now, masks, report)
        pending: list[Notice] = []
        for row in self.store.unnotified_adverse_decisions():
            pending.append(build.decision_adverse(
                row.subject, self._masked(row.subject, masks), row.id, row.action, row.effect,
                row.factor, orjson.loads(row.reasons_json), now,
            ))  # fmt: skip
        pending.extend(self._list_changes(now, masks))
        by_kind: dict[str, list[Notice]] = {}
        for notice in pending:
            by_kind.setdefault(notice.kind, []).append(notice)
        for kind, notices in sorted(by_kind.items()):
            added = self.store.add_notices(notices)  # those already in the outbox are skipped
            if added:
                report.built[kind] = added
        return report

    def _record_notices(self, now: datetime, masks: dict[str, str], report: SweepReport) -> None:
        """Record-reported notices, a chunk at a time in id order, so that a sweep
        over millions of records holds only one chunk in memory."""
        registry = self.system.registry
        after = ""
        while records := self.store.unnotified_records(after, SWEEP_CHUNK):
            after = records[-1].id
            built = []
            for record in records:
                history = registry.schemes.get(record.scheme)
                if history is None:
                    continue
                rule = history.category(record.scheme_version, record.category)
                built.append(build.record_reported(
                    record, self._masked(record.subject, masks), history.current.definition.title,
                    rule.title if rule else record.category, now,
                ))  # fmt: skip
            if added := self.store.add_notices(built):
                report.built["record_reported"] += added

    def _list_changes(self, now: datetime, masks: dict[str, str]) -> list[Notice]:
        found: list[Notice] = []
        current: set[str] = set()
        exits = Counter(s.partition("#")[0] for s in self.store.notice_sources("list_left"))
        for scheme_id, history in sorted(self.system.registry.schemes.items()):
            if not history.current.lists:
                continue
            title = history.current.definition.title
            for subject, evaluation in self.system.evaluate_scheme(scheme_id, now):
                masks[subject.key] = subject.masked
                for entry in evaluation.entries:
                    left = exits[build.leave_source(build.entry_source(subject.key, entry))]
                    notice = build.list_entered(subject.key, subject.masked, entry, title, now,
                                                occurrence=left)  # fmt: skip
                    current.add(notice.source)
                    found.append(notice)
        for told in self.store.open_list_notices():
            if told.source in current:
                continue
            reason = told.reasons[0]
            entry = ListEntry(reason["scheme"], reason["list"], reason["kind"],
                              parse_time(reason["since"], "since"), None, ())  # fmt: skip
            held = self.system.registry.schemes.get(entry.scheme)
            title = held.current.definition.title if held else entry.scheme
            found.append(build.list_left(told.subject, told.masked, entry, title, now,
                                         told.source))  # fmt: skip
        return found

    def deliver(self, channel: NoticeChannel, *, limit: int = 10_000) -> int:
        """Hand undelivered notices to ``channel``, oldest first; each is marked
        delivered only once the channel took it (at least once delivery)."""
        delivered, position = 0, 0
        while delivered < limit:
            found = self.store.undelivered_notices(min(DELIVERY_BATCH, limit - delivered), position)
            if not found:
                break
            batch = [notice for _, notice in found]
            channel.deliver(batch)
            self.store.mark_delivered([n.id for n in batch], channel.name, self.system.clock())
            delivered, position = delivered + len(batch), found[-1][0]
        return delivered

    def notices(self, subject: SubjectRow) -> list[StoredNotice]:
        return self.store.notices(subject.key)

    def view(self, case: Case) -> dict[str, Any]:
        """The case as the CLI's ``--json`` and the HTTP API show it."""
        return case_view(case, self._masked(case.subject), self.system.clock())

    # -- helpers -----------------------------------------------------------------------------

    def _record(self, record_id: str) -> Record:
        record = self.store.record(record_id)
        if record is None:
            raise NotFound(f"no record with id {record_id!r}")
        return record

    def _status(self, record_id: str, at: datetime) -> str | None:
        return status_at(self.store.record_events(record_id), at)

    def _scheme(self, record: Record) -> Scheme:
        return self.system.registry.history(record.scheme).current.definition

    def _no_open_case(self, record_id: str, kind: CaseKind) -> None:
        found = self.open_case_for(record_id, [kind])
        if found is not None:
            raise UsageError(f"record {record_id!r} already has an open {kind} case: {found.id}")

    def _masked(self, subject: str, cache: dict[str, str] | None = None) -> str:
        if cache is not None and subject in cache:
            return cache[subject]
        held = self.store.subject(subject)
        masked = held.masked if held else "unknown subject"
        if cache is not None:
            cache[subject] = masked
        return masked


def _statement(text: str) -> str:
    if not text or not text.strip():
        raise UsageError("statement: say in a sentence or more what is wrong and why")
    if len(text) > 10_000:
        raise UsageError("statement: must be at most 10,000 characters")
    return text.strip()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
