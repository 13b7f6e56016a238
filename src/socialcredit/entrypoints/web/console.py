"""The operator console: the case queue of a reviewer's authority (all open
cases for an admin), a case with its record and statement, and the form
that decides it. The rules are the API's: a reviewer answers only the cases
its authority answers, and every read of a subject's data is logged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from socialcredit.domain.access import may_answer, may_read_case, may_read_record
from socialcredit.domain.rights.cases import OUTCOMES
from socialcredit.domain.times import parse_time
from socialcredit.entrypoints.web.kit import Visit, visit
from socialcredit.errors import NotFound, SocialCreditError

router = APIRouter(include_in_schema=False)
CASE_REVIEW = "case review"
Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=10_000)]


@router.get("/console")
async def queue(request: Request) -> Response:
    seen = visit(request)
    who = seen.require("reviewer", "admin")
    work = seen.services.casework
    found = work.cases_of(
        actor=seen.actor,
        purpose=CASE_REVIEW,
        authority=who.authority if who.role == "reviewer" else None,
        open_only=True,
        status="open",
    )
    shown = [work.shown(case) for case in found]
    # Overdue first, then by deadline: the queue is worked from the top.
    shown.sort(key=lambda s: (not s.case.overdue(s.now), s.case.due_at))
    return seen.page("console.html", cases=shown, authority=who.authority)


@router.get("/console/cases/{case_id}")
async def case(request: Request, case_id: str) -> Response:
    seen = visit(request)
    return _case_page(seen, case_id)


def _case_page(
    seen: Visit,
    case_id: str,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    who = seen.require("reviewer", "admin")
    work = seen.services.casework
    found = work.case(
        case_id,
        actor=seen.actor,
        purpose=CASE_REVIEW,
        authorize=lambda held: may_read_case(who, held.subject, held.authorities),
    )
    record = None
    if found.record is not None and who.role == "reviewer":
        definitions = seen.services.definitions
        record = seen.services.records.read(
            found.record,
            actor=seen.actor,
            purpose=CASE_REVIEW,
            authorize=lambda r: may_read_record(who, r.subject, definitions.scheme(r.scheme)),
        )
    return seen.page(
        "case.html",
        status=status,
        shown=work.shown(found),
        record=record,
        outcomes=OUTCOMES[found.kind],
        may_decide=who.role == "reviewer" and who.authority in found.authorities,
        error=error,
        values=values or {},
    )


@router.post("/console/cases/{case_id}/decide")
async def decide(
    request: Request,
    case_id: str,
    outcome: Short = "",
    reason: Text = "",
    effect: Short = "",
    until: Short = "",
    csrf: Short = "",
) -> Response:
    seen = visit(request)
    values = {"outcome": outcome, "reason": reason, "effect": effect, "until": until}
    seen.check_form({"csrf": csrf})
    who = seen.require("reviewer")
    work = seen.services.casework
    may = lambda held: may_answer(who, held.id, held.authorities)  # noqa: E731
    work.authorize(case_id, may)  # who may decide is asked before the terms are read
    try:
        work.decide(
            case_id,
            outcome,
            reason,
            actor=seen.actor,
            effect=effect or None,
            until=parse_time(until, "until") if until else None,
            authorize=may,
        )
    except NotFound:
        raise
    except SocialCreditError as refused:
        return _case_page(seen, case_id, error=str(refused), values=values, status=400)
    return seen.redirect(f"/console?done={case_id}")
