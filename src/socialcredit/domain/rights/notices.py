"""Notices to subjects: what happened, why, and how to contest it.

A subject is told when a record about them is reported, when they enter or
leave a list, when a check denies them something or adjusts a price, and at
every step of their own cases. Each notice is built here as a value; the
application puts it in the outbox, and a delivery channel drains that.

Every notice has a ``source`` naming what caused it, and its id is derived
from that source, so that building the same notice twice stores it once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

from socialcredit.domain.ledger.records import Record
from socialcredit.domain.rights.cases import OUTCOMES, Case, CaseEvent
from socialcredit.domain.scoring.engine import ListEntry
from socialcredit.domain.times import iso

NoticeKind = Literal[
    "record_reported",
    "list_entered",
    "list_left",
    "decision_adverse",
    "case_opened",
    "case_extended",
    "case_decided",
    "record_erased",
    "consent_changed",
]

CONTEST_RECORD = (
    "If this record is wrong, contest it: `socialcredit contest {record} --statement ...` or "
    "POST /records/{record}/contest. Its effect is frozen from that moment until a reviewer "
    "decides, within one month (extendable once, by two months, with reasons)."
)
REVIEW_DECISION = (
    "You may ask a person to review this decision (GDPR art. 22): `socialcredit refer {decision} "
    "--statement ...` or POST /decisions/{decision}/review."
)
FURTHER_REMEDY = (
    "If you disagree with the outcome you may complain to the data-protection authority or "
    "go to court."
)


@dataclass(frozen=True, slots=True)
class Notice:
    id: str
    subject: str  # keyed hash: the delivery channel looks up where to send it
    masked: str
    kind: NoticeKind
    source: str
    at: datetime
    title: str
    text: str
    contest: str
    reasons: tuple[Mapping[str, Any], ...] = field(default=())

    def body(self) -> dict[str, Any]:
        """What the outbox keeps of the notice beside its columns."""
        return {
            "masked": self.masked,
            "title": self.title,
            "text": self.text,
            "contest": self.contest,
            "reasons": list(self.reasons),
        }

    def as_sent(self) -> dict[str, Any]:
        """The notice as it is sent, by any channel, and shown."""
        return {
            "id": self.id,
            "kind": self.kind,
            "subject": self.masked,
            "at": iso(self.at),
            "title": self.title,
            "text": self.text,
            "reasons": list(self.reasons),
            "how_to_contest": self.contest,
        }


def notice_id(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:32]


def _notice(
    subject: str,
    masked: str,
    kind: NoticeKind,
    source: str,
    at: datetime,
    title: str,
    text: str,
    contest: str,
    reasons: Sequence[Mapping[str, Any]] = (),
) -> Notice:
    return Notice(
        notice_id(source), subject, masked, kind, source, at, title, text, contest, tuple(reasons)
    )


def _day(moment: datetime | None) -> str:
    return iso(moment) or "while the grade holds"


def record_reported(
    record: Record, masked: str, scheme_title: str, category_title: str, at: datetime
) -> Notice:
    points = f"{record.points:+d} points" if record.points else "no points"
    text = (
        f"{record.reporter} reported to '{scheme_title}' that on "
        f"{record.occurred_at.date().isoformat()} you: {category_title} ({record.category}). "
        f"It counts {points} until {_day(record.expires_at)} (record {record.id})."
    )
    return _notice(
        record.subject,
        masked,
        "record_reported",
        f"record:{record.id}",
        at,
        f"A record about you was reported to {scheme_title}",
        text,
        CONTEST_RECORD.format(record=record.id),
        [
            {
                "record": record.id,
                "scheme": record.scheme,
                "category": record.category,
                "points": record.points,
                "evidence": record.evidence,
            }
        ],
    )


def entry_source(subject: str, entry: ListEntry, occurrence: int = 0) -> str:
    """The source of the notice that a subject entered a list. ``occurrence``
    counts earlier exits from the same entry (an entry frozen by a contest and
    restored by the reviewer is entered again), so each entering is told once."""
    base = f"list-enter:{entry.scheme}:{entry.list}:{subject}:{entry.since.isoformat()}"
    return f"{base}#{occurrence}" if occurrence else base


def leave_source(entered: str) -> str:
    """The source of the notice that ends the entering told by ``entered``."""
    return "list-leave" + entered.removeprefix("list-enter")


def list_entered(
    subject: str,
    masked: str,
    entry: ListEntry,
    scheme_title: str,
    at: datetime,
    occurrence: int = 0,
) -> Notice:
    cause = (
        f"because you hold grade {entry.grade}"
        if entry.grade
        else f"because of record(s) {', '.join(entry.records)}"
    )
    text = (
        f"You are on the {entry.kind} list '{entry.list}' of '{scheme_title}' since "
        f"{_day(entry.since)}, {cause}; the entry lasts until {_day(entry.until)}."
    )
    contest = " ".join(CONTEST_RECORD.format(record=r) for r in entry.records[:1]) + (
        " Once the minimum publication period has passed you may also apply for credit repair: "
        "`socialcredit repair RECORD --statement ...` or POST /records/RECORD/repair."
    )
    return _notice(
        subject,
        masked,
        "list_entered",
        entry_source(subject, entry, occurrence),
        at,
        f"You were put on the list {entry.list}",
        text,
        contest,
        [
            {
                "scheme": entry.scheme,
                "list": entry.list,
                "kind": entry.kind,
                "grade": entry.grade,
                "since": _day(entry.since),
                "until": _day(entry.until),
                "records": list(entry.records),
            }
        ],
    )


def list_left(
    subject: str, masked: str, entry: ListEntry, scheme_title: str, at: datetime, entered: str
) -> Notice:
    text = (
        f"You are no longer on the {entry.kind} list '{entry.list}' of '{scheme_title}' "
        f"(entered {_day(entry.since)})."
    )
    return _notice(
        subject,
        masked,
        "list_left",
        leave_source(entered),
        at,
        f"You left the list {entry.list}",
        text,
        "Nothing to do.",
        [{"scheme": entry.scheme, "list": entry.list, "since": _day(entry.since)}],
    )


def decision_adverse(
    subject: str,
    masked: str,
    decision_id: str,
    action: str,
    effect: str,
    factor: float | None,
    reasons: Sequence[Mapping[str, Any]],
    at: datetime,
) -> Notice:
    what = "was refused" if effect == "deny" else f"costs {factor:g} times the usual price"
    because = "; ".join(
        f"{r.get('scheme')}: {r.get('rationale')}" for r in reasons if r.get("effect") == effect
    )
    text = f"A check on '{action}' found that it {what} for you. Because: {because}."
    return _notice(
        subject,
        masked,
        "decision_adverse",
        f"decision:{decision_id}",
        at,
        f"A check on {action}: {effect}",
        text,
        REVIEW_DECISION.format(decision=decision_id),
        reasons,
    )


def case_step(case: Case, event: CaseEvent, masked: str) -> Notice:
    """The notice for one step of a subject's case."""
    subject = case.subject
    source = f"case:{case.id}:{event.n}"
    label = case.kind.replace("_", " ")
    about = f"record {case.record}" if case.record else f"decision {case.decision}"
    due = _day(case.due_at)
    if event.kind == "opened":
        return _notice(
            subject,
            masked,
            "case_opened",
            source,
            event.at,
            f"Your {label} request was received",
            f"Your {label} request about {about} is case "
            f"{case.id}. A reviewer must answer by {due}.",
            f"Follow it with `socialcredit cases show {case.id}` or GET /cases/{case.id}.",
        )
    if event.kind == "extended":
        return _notice(
            subject,
            masked,
            "case_extended",
            source,
            event.at,
            f"More time is needed for your {label} request",
            f"The answer to case {case.id} is now due by {due}: {case.extended}",
            "The deadline can be extended only this once.",
        )
    meaning = OUTCOMES[case.kind].get(case.outcome or "", "")
    return _notice(
        subject,
        masked,
        "case_decided",
        source,
        event.at,
        f"Your {label} request was decided: {case.outcome}",
        f"Case {case.id} about {about}: {case.outcome} ({meaning}). The reviewer's reason: "
        f"{case.reason}",
        FURTHER_REMEDY,
        [{"case": case.id, "outcome": case.outcome, "reason": case.reason, **case.details}],
    )


def consent_changed(
    subject: str, masked: str, scheme: str, purpose: str, granted: bool, at: datetime
) -> Notice:
    state = "granted" if granted else "withdrew"
    text = f"You {state} consent to '{scheme}' for the purpose '{purpose}' at {_day(at)}." + (
        "" if granted else " Its records about you no longer count."
    )
    return _notice(
        subject,
        masked,
        "consent_changed",
        f"consent:{scheme}:{purpose}:{subject}:{at.isoformat()}",
        at,
        f"Consent {state}: {scheme}",
        text,
        "Withdraw at any time: `socialcredit consent withdraw` or DELETE on the consent."
        if granted
        else "Grant it again at any time if you wish.",
    )


def record_erased(
    record_id: str, subject: str, masked: str, scheme: str, why: str, at: datetime
) -> Notice:
    return _notice(
        subject,
        masked,
        "record_erased",
        f"erased:{record_id}",
        at,
        f"A record about you was erased from {scheme}",
        f"Record {record_id} was erased ({why}). Only a tombstone stays, so that the ledger "
        "can still be verified; it holds nothing about you.",
        "Nothing to do.",
    )


class StoredNotice(NamedTuple):
    notice: Notice
    delivered_at: datetime | None
    channel: str | None
