"""Cases: a subject's requests that a human must answer (GDPR arts. 12, 16-18, 22;
the PRC credit-repair rules), folded from their append-only events.

A case opens with a statement, is answered within one month, and that
deadline may be extended once, by two months, with a reason given to the
subject (GDPR art. 12(3)). Its events are kept as they happened; the case as
it stands is a pure fold over them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, get_args

from socialcredit.domain.schemes.durations import add_months
from socialcredit.errors import UsageError

CaseKind = Literal["contest", "repair", "rectification", "erasure", "decision_review"]
CASE_KINDS: tuple[CaseKind, ...] = get_args(CaseKind)
CaseEventKind = Literal["opened", "extended", "decided"]

ANSWER_MONTHS = 1
EXTENSION_MONTHS = 2

# The outcomes a reviewer may give, by kind of case, and what each means.
OUTCOMES: Mapping[CaseKind, Mapping[str, str]] = {
    "contest": {
        "upheld": "the record stands and counts again",
        "overturned": "the record is set aside and never counts again",
    },
    "repair": {
        "approved": "the record stops counting and ends the list entries it caused",
        "denied": "the record stands",
    },
    "rectification": {
        "rectified": "the record is set aside; a corrected record replaces it if one is given",
        "refused": "the record stands as reported",
    },
    "erasure": {
        "erased": "the record's contents are erased; a tombstone keeps the ledger verifiable",
        "kept": "the record is kept and counts again: the lawful basis still applies",
    },
    "decision_review": {
        "confirmed": "the decision stands",
        "overridden": "the decision is replaced for this subject and action for a stated period",
    },
}


class CaseError(UsageError):
    """A case step that the rules do not allow; the message says which rule."""


@dataclass(frozen=True, slots=True)
class CaseEvent:
    case: str
    subject: str  # keyed hash
    n: int  # position in the case, from 1
    kind: CaseEventKind
    at: datetime
    actor: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    kind: CaseKind
    subject: str
    opened_at: datetime
    opened_by: str
    statement: str
    evidence: str | None
    record: str | None
    decision: str | None
    scheme: str | None  # whose reviewers answer (for a decision, the first of several)
    authorities: tuple[str, ...]  # authorities whose reviewers may answer
    due_at: datetime
    extended: str | None = None  # the reason given for the extension
    outcome: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # e.g. an override's terms
    events: int = 1

    @property
    def open(self) -> bool:
        return self.outcome is None

    def overdue(self, now: datetime) -> bool:
        return self.open and now > self.due_at


def due_after(opened_at: datetime) -> datetime:
    return add_months(opened_at, ANSWER_MONTHS)


def fold(events: Sequence[CaseEvent]) -> Case:
    """The case as its events leave it (events in order, the first ``opened``)."""
    first = events[0]
    if first.kind != "opened":
        raise CaseError(f"case {first.case}: the first event must open it")
    body = first.body
    case = Case(
        id=first.case,
        kind=body["kind"],
        subject=first.subject,
        opened_at=first.at,
        opened_by=first.actor,
        statement=body["statement"],
        evidence=body.get("evidence"),
        record=body.get("record"),
        decision=body.get("decision"),
        scheme=body.get("scheme"),
        authorities=tuple(body.get("authorities", ())),
        due_at=due_after(first.at),
        details=dict(body.get("details", {})),
    )
    for event in events[1:]:
        case = _apply(case, event)
    return case


def _apply(case: Case, event: CaseEvent) -> Case:
    if event.kind == "extended":
        return replace(
            case,
            due_at=add_months(case.due_at, EXTENSION_MONTHS),
            extended=event.body["reason"],
            events=case.events + 1,
        )
    if event.kind == "decided":
        return replace(
            case,
            outcome=event.body["outcome"],
            decided_at=event.at,
            decided_by=event.actor,
            reason=event.body["reason"],
            details={**case.details, **event.body.get("details", {})},
            events=case.events + 1,
        )
    raise CaseError(f"case {case.id}: unknown event {event.kind!r}")


def fold_all(events: Iterable[CaseEvent]) -> list[Case]:
    """Every case among ``events`` (any order of cases, each case's events in order)."""
    grouped: dict[str, list[CaseEvent]] = {}
    for event in events:
        grouped.setdefault(event.case, []).append(event)
    return [fold(sorted(found, key=lambda e: e.n)) for found in grouped.values()]


def check_extension(case: Case, reason: str, now: datetime) -> None:
    if not case.open:
        raise CaseError(f"case {case.id} was already decided ({case.outcome})")
    if now > case.due_at:
        raise CaseError(
            f"case {case.id} is overdue since {case.due_at.isoformat()}: an extension must be "
            "given within the time to answer (GDPR art. 12(3)), not after it"
        )
    if case.extended is not None:
        raise CaseError(
            f"case {case.id}: the deadline was already extended once "
            f"(GDPR art. 12(3) allows one extension, by two months)"
        )
    if not reason.strip():
        raise CaseError("reason: an extension must give the subject a reason")


def check_decision(case: Case, outcome: str, reason: str) -> None:
    if not case.open:
        raise CaseError(f"case {case.id} was already decided ({case.outcome})")
    allowed = OUTCOMES[case.kind]
    if outcome not in allowed:
        raise CaseError(
            f"outcome: {outcome!r} is not an outcome of a {case.kind} case "
            f"(one of: {', '.join(allowed)})"
        )
    if not reason.strip():
        raise CaseError("reason: a reviewer must give a written reason")


def overdue(cases: Iterable[Case], now: datetime) -> list[Case]:
    """Open cases past their deadline, the longest overdue first."""
    return sorted((c for c in cases if c.overdue(now)), key=lambda c: (c.due_at, c.id))
