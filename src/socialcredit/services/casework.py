"""Cases: contests, credit repair, rectification, erasure requests and human
review of decisions, from the subject's statement to a reviewer's written
answer within the deadline.

Like every use case, this loads values, asks the pure rules of
``domain/rights`` what follows, and writes back the result. Each step that
changes more than one table (a record event, a case event and a notice, say)
is one transaction: all of it lands, or none.

Methods that load a case, record or decision before acting take an optional
``authorize``: the caller's own rule of who may act on it (the HTTP API's
roles), applied once it is loaded and before anything is shown or written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson

from socialcredit.domain.ledger.records import ERASED, EventKind, Record, RecordEvent
from socialcredit.domain.ledger.values import DecisionRow, NewRecord
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
from socialcredit.domain.rights.overrides import Override, adverse
from socialcredit.domain.rights.repair import check_application
from socialcredit.domain.rights.retention import kept_until, past_retention
from socialcredit.domain.rights.transitions import check_transition
from socialcredit.domain.schemes.models import EFFECTS_STRONGEST_FIRST, Scheme
from socialcredit.domain.text import checked_statement
from socialcredit.errors import NotFound, UsageError
from socialcredit.services.ids import time_ordered_id
from socialcredit.services.imports import Imports
from socialcredit.services.records import Records
from socialcredit.services.subjects import Subjects
from socialcredit.services.unit_of_work import UnitOfWork

# Bases under which the subject may have records erased on request (GDPR
# art. 17(1)(b)); under the others erasure gives way to restriction (art. 18).
ERASABLE_BASES = frozenset({"consent"})
CASE_REVIEW = "case review"

T = TypeVar("T")
Authorize = Callable[[T], None] | None


@dataclass(frozen=True, slots=True)
class ErasureOutcome:
    record: str
    erased: bool  # False: restricted instead, pending review
    case: Case | None
    why: str


@dataclass(frozen=True, slots=True)
class ShownCase:
    """A case as shown: with its subject masked and whether it is overdue now."""

    case: Case
    subject: str  # masked
    now: datetime


class Casework:
    def __init__(
        self, uow: UnitOfWork, subjects: Subjects, records: Records, imports: Imports
    ) -> None:
        self._uow = uow
        self._subjects = subjects
        self._records = records
        self._imports = imports

    # -- opening cases -------------------------------------------------------------

    def contest(
        self,
        record_id: str,
        statement: str,
        *,
        evidence: str | None = None,
        actor: str,
        authorize: Authorize[Record] = None,
    ) -> Case:
        """Contest a record: its effect freezes at once (GDPR art. 18) until a
        reviewer upholds or overturns it."""
        record = self._record(record_id, authorize)
        now = self._uow.clock()
        check_transition(record_id, self._records.status(record_id, now), "contested")
        event = RecordEvent(record_id, "contested", now, actor, None)
        return self._open("contest", record, statement, evidence, actor, now, event)

    def apply_for_repair(
        self,
        record_id: str,
        statement: str,
        *,
        evidence: str | None = None,
        actor: str,
        authorize: Authorize[Record] = None,
    ) -> Case:
        """Apply for credit repair; refused with the date it becomes possible if too early."""
        record = self._record(record_id, authorize)
        now = self._uow.clock()
        check_transition(record_id, self._records.status(record_id, now), "repaired")
        scheme = self._scheme(record)
        history = self._uow.registry.history(record.scheme)
        category = history.category(record.scheme_version, record.category)
        if category is None:
            raise UsageError(f"record {record_id!r}: its category is no longer known")
        rule = scheme.repair
        early = rule is not None and rule.early_removal is not None
        wait = rule.wait(category.severity) if rule is not None else None
        check_application(record_id, category.severity, record.reported_at, early, now, wait)
        self._no_open_case(record_id, "repair")
        return self._open("repair", record, statement, evidence, actor, now)

    def request_rectification(
        self,
        record_id: str,
        statement: str,
        *,
        evidence: str | None = None,
        actor: str,
        authorize: Authorize[Record] = None,
    ) -> Case:
        """Ask for a record to be corrected (GDPR art. 16); a reviewer decides."""
        record = self._record(record_id, authorize)
        self._no_open_case(record_id, "rectification")
        now = self._uow.clock()
        return self._open("rectification", record, statement, evidence, actor, now)

    def request_erasure(
        self,
        record_id: str,
        statement: str,
        *,
        actor: str,
        authorize: Authorize[Record] = None,
    ) -> ErasureOutcome:
        """Erase a record where the lawful basis allows it (GDPR art. 17): a consent
        scheme, or a record past retention. Otherwise restrict it (art. 18) and
        put the request to a reviewer."""
        record = self._record(record_id, authorize)
        now = self._uow.clock()
        scheme = self._scheme(record)
        if scheme.lawful_basis in ERASABLE_BASES or past_retention(record, scheme.retention, now):
            why = (
                f"erasure requested; the lawful basis of {scheme.id!r} is consent"
                if scheme.lawful_basis in ERASABLE_BASES
                else f"erasure requested; past the retention period of {scheme.id!r}"
            )
            self._records.erase(record, why, actor)
            return ErasureOutcome(record_id, True, None, why)
        check_transition(record_id, self._records.status(record_id, now), "restricted")
        why = (
            f"the lawful basis of {scheme.id!r} is {scheme.lawful_basis}, which does not give a "
            f"right to erasure before the record's retention ends on "
            f"{kept_until(record, scheme.retention).date().isoformat()}: the record is "
            "restricted instead (GDPR art. 18) and a reviewer will answer"
        )
        event = RecordEvent(record_id, "restricted", now, actor, None)
        case = self._open("erasure", record, statement, None, actor, now, event)
        return ErasureOutcome(record_id, False, case, why)

    def refer_decision(
        self,
        decision_id: str,
        statement: str,
        *,
        actor: str,
        authorize: Authorize[DecisionRow] = None,
    ) -> Case:
        """Ask for a human review of an adverse automated decision (GDPR art. 22(3))."""
        found = self._uow.audit.decision(decision_id)
        if found is None:
            raise NotFound(f"no decision with id {decision_id!r}")
        if authorize is not None:
            authorize(found)
        if not adverse(found.effect, found.factor):
            raise UsageError(
                f"decision {decision_id!r} is '{found.effect}': only a denial or a raised price "
                "can be referred for review"
            )
        for pending in self._cases(subject=found.subject, open_only=True):
            if pending.decision == decision_id:
                raise UsageError(
                    f"decision {decision_id!r} already has an open review case: {pending.id}"
                )
        reasons = orjson.loads(found.reasons_json)
        authorities = sorted({r["authority"] for r in reasons if r.get("effect") == found.effect})
        schemes = sorted({r["scheme"] for r in reasons if r.get("effect") == found.effect})
        self._referral_offered(decision_id, reasons, found.effect)
        body = {
            "kind": "decision_review",
            "statement": checked_statement(statement, "statement"),
            "decision": decision_id,
            "scheme": schemes[0] if schemes else None,
            "authorities": authorities,
            "details": {"action": found.action, "effect": found.effect, "factor": found.factor},
        }
        return self._write_opening(found.subject, body, actor, self._uow.clock(), None)

    def _referral_offered(self, decision_id: str, reasons: list[Any], effect: str) -> None:
        """A scheme may turn referral off (``referral: false``, modelling a system
        without it): a decision that only such a scheme's own measures brought
        about cannot be referred. A memorandum's measure is another authority's
        decision, and stays open to referral. The scheme's current version is
        read, as the decision itself reads it. The eu linter reports such a
        scheme (GDPR art. 22(3))."""
        known = self._uow.registry.schemes
        behind = [r for r in reasons if r.get("effect") == effect]
        closed = sorted(
            {
                r["scheme"]
                for r in behind
                if r.get("source") != "memorandum"
                and r["scheme"] in known
                and not known[r["scheme"]].current.definition.referral
            }
        )
        if behind and all(
            r.get("source") != "memorandum" and r["scheme"] in closed for r in behind
        ):
            raise UsageError(
                f"decision {decision_id!r}: {', '.join(closed)} takes no referrals "
                "(referral: false), so no person reviews its decisions on request"
            )

    def _open(
        self,
        kind: CaseKind,
        record: Record,
        statement: str,
        evidence: str | None,
        actor: str,
        now: datetime,
        event: RecordEvent | None = None,
    ) -> Case:
        scheme = self._scheme(record)
        body = {
            "kind": kind,
            "statement": checked_statement(statement, "statement"),
            "evidence": evidence,
            "record": record.id,
            "scheme": scheme.id,
            "authorities": [scheme.authority.id],
        }
        return self._write_opening(record.subject, body, actor, now, event)

    def _write_opening(
        self,
        subject: str,
        body: Mapping[str, Any],
        actor: str,
        now: datetime,
        event: RecordEvent | None,
    ) -> Case:
        case_id = "case-" + time_ordered_id()
        if event is not None:
            event = event._replace(reason=f"case {case_id}")
        opened = CaseEvent(case_id, subject, 1, "opened", now, actor, body)
        case = fold([opened])
        uow = self._uow
        with uow.transaction():
            if event is not None:
                uow.ledger.append_event(subject, event)
            uow.due_process.add_case_event(opened)
            masked = self._subjects.masked(subject)
            uow.due_process.add_notices([build.case_step(case, opened, masked)])
        return case

    # -- reading cases -------------------------------------------------------------

    def case(
        self,
        case_id: str,
        *,
        actor: str,
        purpose: str = CASE_REVIEW,
        authorize: Authorize[Case] = None,
    ) -> Case:
        """One case, statement and all. Logged as a read of its subject's data."""
        found = self._case(case_id, authorize)
        uow = self._uow
        uow.audit.log_access(found.subject, uow.clock(), actor, purpose, f"case {case_id}")
        return found

    def cases(
        self,
        *,
        actor: str,
        purpose: str = CASE_REVIEW,
        subject: str | None = None,
        open_only: bool = False,
        overdue_only: bool = False,
        authority: str | None = None,
        status: str | None = None,
    ) -> list[Case]:
        """Cases, oldest first (overdue: the longest overdue first); ``subject`` is
        an identifier, ``authority`` keeps the cases that authority's reviewers
        answer. Reading their statements reads their subjects' data: logged for
        each subject, as what was asked for (``status``: open, overdue or all)."""
        key = self._subjects.identify(subject).key if subject is not None else None
        return self.cases_of(
            actor=actor,
            purpose=purpose,
            subject_key=key,
            open_only=open_only,
            overdue_only=overdue_only,
            authority=authority,
            status=status,
        )

    def cases_of(
        self,
        *,
        actor: str,
        purpose: str = CASE_REVIEW,
        subject_key: str | None = None,
        open_only: bool = False,
        overdue_only: bool = False,
        authority: str | None = None,
        status: str | None = None,
    ) -> list[Case]:
        """:meth:`cases` of a subject given by its key (a subject's own API key)."""
        found = self._cases(
            subject=subject_key,
            open_only=open_only,
            overdue_only=overdue_only,
            authority=authority,
        )
        if found:
            shown = status or ("overdue" if overdue_only else "open" if open_only else "all")
            uow = self._uow
            subjects = sorted({c.subject for c in found})
            uow.audit.log_accesses(subjects, uow.clock(), actor, purpose, f"cases ({shown})")
        return found

    def shown(self, case: Case) -> ShownCase:
        """What showing the case needs beside it: its subject masked, and now."""
        return ShownCase(case, self._subjects.masked(case.subject), self._uow.clock())

    def authorize(self, case_id: str, authorize: Authorize[Case]) -> None:
        """Apply the caller's rule to a case before its request is read any
        further, so a stranger learns only that the case exists or not, never
        which of their terms were malformed. Nothing of the case is returned."""
        self._case(case_id, authorize)

    def _case(self, case_id: str, authorize: Authorize[Case] = None) -> Case:
        events = self._uow.due_process.case_events(case_id)
        if not events:
            raise NotFound(f"no case with id {case_id!r}")
        found = fold(events)
        if authorize is not None:
            authorize(found)
        return found

    def _cases(
        self,
        *,
        subject: str | None = None,
        open_only: bool = False,
        overdue_only: bool = False,
        authority: str | None = None,
    ) -> list[Case]:
        now = self._uow.clock()
        found = fold_all(self._uow.due_process.all_case_events(subject))
        if authority is not None:
            found = [c for c in found if authority in c.authorities]
        if open_only or overdue_only:
            found = [c for c in found if c.open]
        if overdue_only:
            return overdue(found, now)
        return sorted(found, key=lambda c: (c.opened_at, c.id))

    def _open_case_for(self, record: Record, kinds: Iterable[CaseKind]) -> Case | None:
        wanted = set(kinds)
        for case in self._cases(subject=record.subject, open_only=True):
            if case.record == record.id and case.kind in wanted:
                return case
        return None

    # -- answering cases -------------------------------------------------------------

    def review(
        self,
        record_id: str,
        *,
        uphold: bool,
        reason: str,
        actor: str,
        authorize: Authorize[Record] = None,
    ) -> Case | None:
        """Decide the open contest of a record, or its restriction on a request for
        erasure: to uphold keeps the record counting; to overturn sets it aside, or
        erases it where erasure was asked for. A record contested before cases were
        kept has no case: it is decided directly (None is returned)."""
        record = self._record(record_id, authorize)
        case = self._open_case_for(record, ["contest", "erasure"])
        if case is None:
            kind: EventKind = "upheld" if uphold else "overturned"
            self._records.add_event(record_id, kind, actor=actor, reason=reason or None)
            return None
        if case.kind == "erasure":
            outcome = "kept" if uphold else "erased"
        else:
            outcome = "upheld" if uphold else "overturned"
        return self.decide(case.id, outcome, reason, actor=actor)

    def extend(
        self, case_id: str, reason: str, *, actor: str, authorize: Authorize[Case] = None
    ) -> Case:
        """Extend the deadline once, by two months, telling the subject why."""
        case = self._case(case_id, authorize)
        try:
            check_extension(case, reason, self._uow.clock())
        except CaseError as error:
            raise UsageError(str(error)) from None
        return self._step(case, "extended", {"reason": reason.strip()}, actor)

    def decide(
        self,
        case_id: str,
        outcome: str,
        reason: str,
        *,
        actor: str,
        effect: str | None = None,
        factor: float | None = None,
        until: datetime | None = None,
        category: str | None = None,
        occurred_at: datetime | None = None,
        authorize: Authorize[Case] = None,
    ) -> Case:
        """A reviewer's answer, with a written reason; what it means for the
        record or decision is applied in the same transaction."""
        case = self._case(case_id, authorize)
        try:
            check_decision(case, outcome, reason)
        except CaseError as error:
            raise UsageError(str(error)) from None
        # Terms the outcome would ignore are refused, not silently dropped.
        overriding = case.kind == "decision_review" and outcome == "overridden"
        if not overriding and (effect is not None or factor is not None or until is not None):
            raise UsageError(
                "effect: effect, factor and until belong to an overridden decision review"
            )
        rectifying = case.kind == "rectification" and outcome == "rectified"
        if not rectifying and (category is not None or occurred_at is not None):
            raise UsageError("category: category and occurred_at belong to a rectified record")
        uow = self._uow
        now = uow.clock()
        details: dict[str, Any] = {}
        with uow.transaction():
            if overriding:
                details = self._override(case, reason, effect, factor, until, actor, now)
            elif case.record is not None:
                details = self._apply_to_record(
                    case, outcome, reason, actor, now, category, occurred_at
                )
            body = {"outcome": outcome, "reason": reason.strip(), "details": details}
            decided = self._step(case, "decided", body, actor, now)
        if outcome == "erased":
            uow.checkpoint()  # the erased contents leave the write-ahead log now
        return decided

    def _apply_to_record(
        self,
        case: Case,
        outcome: str,
        reason: str,
        actor: str,
        now: datetime,
        category: str | None,
        occurred_at: datetime | None,
    ) -> dict[str, Any]:
        record = self._records.get(case.record or "")
        if record.category == ERASED:  # nothing is left to act on; the case can still close
            return {"record": "erased before the decision"}
        note = f"case {case.id}: {reason.strip()}"
        kinds: dict[tuple[str, str], EventKind] = {
            ("contest", "upheld"): "upheld",
            ("contest", "overturned"): "overturned",
            ("repair", "approved"): "repaired",
            ("rectification", "rectified"): "overturned",
            ("erasure", "kept"): "upheld",
        }
        if case.kind == "erasure" and outcome == "erased":
            self._records.erase(record, note, actor)
            return {}
        kind = kinds.get((case.kind, outcome))
        if kind is None:  # denied or refused: nothing changes
            return {}
        status = self._records.status(record.id, now)
        if case.kind == "rectification":
            # A wrong record is set aside whether or not it was contested first.
            if status in ("overturned", "repaired", "erased"):
                raise UsageError(f"record {record.id!r} is already {status}")
        else:
            check_transition(record.id, status, kind)
        self._uow.ledger.append_event(
            record.subject, RecordEvent(record.id, kind, now, actor, note)
        )
        if case.kind == "rectification" and (category or occurred_at):
            return {"replacement": self._replace(record, case, category, occurred_at, now)}
        return {}

    def _replace(
        self,
        record: Record,
        case: Case,
        category: str | None,
        occurred_at: datetime | None,
        now: datetime,
    ) -> str:
        """Append the corrected record that replaces a rectified one."""
        scheme = self._uow.registry.history(record.scheme).current
        code = category or record.category
        rule = scheme.categories.get(code)
        if rule is None:
            raise UsageError(f"category: scheme {scheme.id!r} has no category {code!r}")
        occurred = occurred_at or record.occurred_at
        if occurred > now:
            raise UsageError("occurred_at: a corrected record cannot occur in the future")
        held = self._uow.ledger.subject(record.subject)
        assert held is not None
        new_id = f"{record.id}~{case.id[-12:]}"
        sent = "\x1f".join(
            (
                scheme.id,
                code,
                held.key,
                occurred.isoformat(),
                now.isoformat(),
                record.reporter,
                case.id,
            )
        )
        replacement = NewRecord(
            new_id,
            held,
            scheme.id,
            scheme.version,
            code,
            occurred.isoformat(),
            now.isoformat(),
            rule.validity.after(occurred).isoformat(),
            rule.points,
            record.reporter,
            f"rectification {case.id}",
            hashlib.sha256(sent.encode()).hexdigest()[:32],
        )
        report = self._imports.append([(1, replacement)])  # the consent rule applies here too
        if report.rejected:
            raise UsageError(report.rejected[0].reason)
        return new_id

    def _override(
        self,
        case: Case,
        reason: str,
        effect: str | None,
        factor: float | None,
        until: datetime | None,
        actor: str,
        now: datetime,
    ) -> dict[str, Any]:
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
        override = Override(
            case.subject,
            action,
            effect,
            factor,
            now,
            until,
            case.id,
            case.scheme or "",
            reviewer,
            reason.strip(),
            now,
        )
        self._uow.due_process.add_override(override)
        held = {"since": now.isoformat(), "until": until.isoformat()}
        return {"override": {"action": action, "effect": effect, "factor": factor, **held}}

    def _step(
        self,
        case: Case,
        kind: CaseEventKind,
        body: dict[str, Any],
        actor: str,
        now: datetime | None = None,
    ) -> Case:
        uow = self._uow
        event = CaseEvent(
            case.id, case.subject, case.events + 1, kind, now or uow.clock(), actor, body
        )
        updated = fold([*uow.due_process.case_events(case.id), event])
        with uow.transaction():
            uow.due_process.add_case_event(event)
            masked = self._subjects.masked(case.subject)
            uow.due_process.add_notices([build.case_step(updated, event, masked)])
        return updated

    # -- helpers -------------------------------------------------------------------------

    def _record(self, record_id: str, authorize: Authorize[Record] = None) -> Record:
        record = self._records.get(record_id)
        if authorize is not None:
            authorize(record)
        return record

    def _scheme(self, record: Record) -> Scheme:
        return self._uow.registry.history(record.scheme).current.definition

    def _no_open_case(self, record_id: str, kind: CaseKind) -> None:
        found = self._open_case_for(self._records.get(record_id), [kind])
        if found is not None:
            raise UsageError(f"record {record_id!r} already has an open {kind} case: {found.id}")


__all__ = ["CASE_REVIEW", "Casework", "ErasureOutcome", "ShownCase"]
