"""Records: reported in batches, read by those who may, and the subject's and
reviewers' requests about one (contest, review, repair, rectification, erasure),
and the review of a decision."""

# No `from __future__ import annotations`: FastAPI reads these annotations.

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from socialcredit.bootstrap import Services
from socialcredit.domain.access import (
    Principal,
    may_act_for,
    may_read_record,
    may_review,
    require,
)
from socialcredit.domain.ledger.values import DecisionRow
from socialcredit.entrypoints.api import problems
from socialcredit.entrypoints.api.deps import Caller, Id, Svc, actor
from socialcredit.entrypoints.api.models import Application, Plea, Review
from socialcredit.entrypoints.views import case_view, record_view
from socialcredit.errors import UsageError

MAX_BATCH = 10_000

router = APIRouter()


@router.post("/records")
async def report(request: Request, who: Caller, services: Svc) -> JSONResponse:
    """Report one record (a JSON object) or a batch (a list of them), as a
    reporter of the schemes' authority. A batch answers per record: 201
    created, 200 already held, 403, 409 conflict, 422 invalid."""
    require(who, "reporter")
    body = _json(await request.body())
    items = body if isinstance(body, list) else [body]
    if isinstance(body, list) and not 1 <= len(body) <= MAX_BATCH:
        raise UsageError(f"body: a batch holds 1 to {MAX_BATCH} records, got {len(body)}")
    results = _report(services, who, items)
    if isinstance(body, list):
        return JSONResponse({"results": results})
    result = results[0]
    if result["status"] >= 400:
        content = _problem_body(result)
        return JSONResponse(content, status_code=result["status"], media_type=problems.PROBLEM)
    return JSONResponse(result["record"], status_code=result["status"])


@router.get("/records/{record_id}")
async def record(record_id: Id, who: Caller, services: Svc) -> dict[str, Any]:
    """A record, to its subject and to reporters and reviewers of its scheme. Logged."""
    state = services.records.read(
        record_id,
        actor=actor(who),
        authorize=lambda found: may_read_record(
            who, found.subject, services.definitions.scheme(found.scheme)
        ),
    )
    return record_view(state)


@router.post("/records/{record_id}/contest")
async def contest(record_id: Id, body: Application, who: Caller, services: Svc) -> dict[str, Any]:
    """Contest a record (the record's subject): its effect freezes at once
    (GDPR art. 18) and a reviewer must answer within one month."""
    work = services.casework
    case = work.contest(
        record_id,
        body.statement,
        evidence=body.evidence,
        actor=actor(who),
        authorize=lambda found: may_act_for(who, found.subject),
    )
    state = services.records.state(record_id)
    return {**record_view(state), "case": case_view(work.shown(case))}


@router.post("/records/{record_id}/review")
async def review(record_id: Id, body: Review, who: Caller, services: Svc) -> dict[str, Any]:
    """Decide a contested record, or a record restricted on a request for
    erasure (a reviewer of the scheme's authority). On an erasure request,
    ``uphold`` keeps the record and ``overturn`` erases it, as `socialcredit
    review` does. A record contested before cases were kept is decided directly."""
    work = services.casework
    decided = work.review(
        record_id,
        uphold=body.outcome == "uphold",
        reason=body.reason,
        actor=actor(who),
        authorize=lambda found: may_review(who, services.definitions.scheme(found.scheme)),
    )
    state = services.records.state(record_id)
    shown = case_view(work.shown(decided)) if decided else None
    return {**record_view(state), "case": shown}


@router.post("/records/{record_id}/repair", status_code=201)
async def repair(record_id: Id, body: Application, who: Caller, services: Svc) -> dict[str, Any]:
    """Apply for credit repair (the record's subject). Too early under the
    PRC rules: 422, with ``available_from`` saying when it becomes possible."""
    work = services.casework
    case = work.apply_for_repair(
        record_id,
        body.statement,
        evidence=body.evidence,
        actor=actor(who),
        authorize=lambda found: may_act_for(who, found.subject),
    )
    return case_view(work.shown(case))


@router.post("/records/{record_id}/rectification", status_code=201)
async def rectification(
    record_id: Id, body: Application, who: Caller, services: Svc
) -> dict[str, Any]:
    """Ask for a wrong record to be corrected (GDPR art. 16; the record's subject)."""
    work = services.casework
    case = work.request_rectification(
        record_id,
        body.statement,
        evidence=body.evidence,
        actor=actor(who),
        authorize=lambda found: may_act_for(who, found.subject),
    )
    return case_view(work.shown(case))


@router.post("/records/{record_id}/erasure")
async def erasure(record_id: Id, body: Plea, who: Caller, services: Svc) -> dict[str, Any]:
    """Ask for a record to be erased (GDPR art. 17; the record's subject).
    Erased at once where the lawful basis allows it; otherwise restricted
    (art. 18) and put to a reviewer as a case."""
    work = services.casework
    done = work.request_erasure(
        record_id,
        body.statement,
        actor=actor(who),
        authorize=lambda found: may_act_for(who, found.subject),
    )
    shown = case_view(work.shown(done.case)) if done.case else None
    return {"record": done.record, "erased": done.erased, "why": done.why, "case": shown}


@router.post("/decisions/{decision_id}/review", status_code=201)
async def decision_review(
    decision_id: Id, body: Plea, who: Caller, services: Svc
) -> dict[str, Any]:
    """Ask for a person to review an adverse automated decision (GDPR art.
    22(3); the decision's subject)."""
    work = services.casework

    def own(found: DecisionRow) -> None:
        may_act_for(who, found.subject)

    case = work.refer_decision(decision_id, body.statement, actor=actor(who), authorize=own)
    return case_view(work.shown(case))


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise UsageError(f"body: is not valid JSON ({error.msg})") from None


def _report(services: Services, who: Principal, items: list[Any]) -> list[dict[str, Any]]:
    """Per-item results: 201 created, 200 already held, 403, 409 conflict, 422 invalid."""
    results: list[dict[str, Any]] = [{} for _ in items]
    lines = []
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            problem = {"field": "record", "rule": "must be a JSON object"}
            results[number] = {"status": 422, "errors": [problem]}
            continue
        lines.append((number, item))
    report = services.imports.import_reported(lines, reporter=who)
    refused = {r.line: r for r in report.rejected}
    forbidden = set(report.forbidden_lines)
    duplicates = set(report.duplicate_lines)
    for number, item in lines:
        if number in refused:
            field, _, rule = refused[number].reason.partition(": ")
            status = 403 if number in forbidden else 409 if "(conflict)" in rule else 422
            results[number] = {"status": status, "errors": [{"field": field, "rule": rule}]}
        else:
            # The reporter's own record, echoed back (as the importer read its id).
            state = services.records.state(str(item["id"]).strip())
            results[number] = {
                "status": 200 if number in duplicates else 201,
                "record": record_view(state),
            }
    for number, result in enumerate(results):
        result["index"] = number
    return results


def _problem_body(result: dict[str, Any]) -> dict[str, Any]:
    error = result["errors"][0]
    return {
        "type": "about:blank",
        "title": "Record refused",
        "status": result["status"],
        "detail": f"{error['field']}: {error['rule']}",
        "errors": result["errors"],
    }
