"""Cases: listed and read by those who may (each read logged), extended and
decided by a reviewer of one of the authorities that answer them."""

# No `from __future__ import annotations`: FastAPI reads these annotations.

from typing import Any, Literal

from fastapi import APIRouter

from socialcredit.domain.access import AccessDenied, Principal, may_answer, may_read_case
from socialcredit.entrypoints.api.deps import Caller, Id, Svc, actor, at
from socialcredit.entrypoints.api.models import CaseDecision, Extension
from socialcredit.entrypoints.views import case_view

router = APIRouter()


@router.get("/cases")
async def cases(
    who: Caller, services: Svc, status: Literal["open", "overdue", "all"] = "open"
) -> list[dict[str, Any]]:
    """Cases, oldest first (overdue: the longest overdue first). An admin
    sees all, a reviewer those its authority answers, a subject its own."""
    # Never a None filter for a reviewer or subject: that would mean every case.
    if who.role == "admin":
        authority, subject = None, None
    elif who.role == "reviewer" and who.authority:
        authority, subject = who.authority, None
    elif who.role == "subject" and who.subject:
        authority, subject = None, who.subject
    else:
        raise AccessDenied(
            f"a {who.role} key may not list cases; it needs an admin, reviewer or subject key"
        )
    work = services.casework
    found = work.cases_of(
        actor=actor(who),
        purpose=_purpose(who),
        subject_key=subject,
        authority=authority,
        open_only=status == "open",
        overdue_only=status == "overdue",
        status=status,
    )
    return [case_view(work.shown(c)) for c in found]


@router.get("/cases/{case_id}")
async def case(case_id: Id, who: Caller, services: Svc) -> dict[str, Any]:
    work = services.casework
    found = work.case(
        case_id,
        actor=actor(who),
        purpose=_purpose(who),
        authorize=lambda held: may_read_case(who, held.subject, held.authorities),
    )
    return case_view(work.shown(found))


@router.post("/cases/{case_id}/extend")
async def extend(case_id: Id, body: Extension, who: Caller, services: Svc) -> dict[str, Any]:
    """Extend the deadline once, by two months, telling the subject why
    (GDPR art. 12(3); a reviewer of one of the case's authorities)."""
    work = services.casework
    extended = work.extend(
        case_id,
        body.reason,
        actor=actor(who),
        authorize=lambda held: may_answer(who, held.id, held.authorities),
    )
    return case_view(work.shown(extended))


@router.post("/cases/{case_id}/decision")
async def decide(case_id: Id, body: CaseDecision, who: Caller, services: Svc) -> dict[str, Any]:
    """Decide a case with a written reason (a reviewer of one of its authorities)."""
    work = services.casework
    may_decide = lambda held: may_answer(who, held.id, held.authorities)  # noqa: E731
    work.authorize(case_id, may_decide)  # before the terms are parsed
    decided = work.decide(
        case_id,
        body.outcome,
        body.reason,
        actor=actor(who),
        effect=body.effect,
        factor=body.factor,
        category=body.category,
        until=at(body.until, "until"),
        occurred_at=at(body.occurred_at, "occurred_at"),
        authorize=may_decide,
    )
    return case_view(work.shown(decided))


def _purpose(who: Principal) -> str:
    return "subject access" if who.role == "subject" else "case review"
