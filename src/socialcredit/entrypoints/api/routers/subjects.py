"""A subject's data: enrolment, scores, checks, decisions, the access log,
the access export, consents and notices. Each read is logged by the use case
that makes it, with the caller's key as the actor."""

# No `from __future__ import annotations`: FastAPI reads these annotations.

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from socialcredit.bootstrap import Services
from socialcredit.domain.access import (
    Principal,
    may_act_for,
    may_check,
    may_read_subject,
    may_report,
)
from socialcredit.domain.intake import RecordError
from socialcredit.domain.text import MAX_NAME_LENGTH
from socialcredit.entrypoints.api.deps import (
    Caller,
    Svc,
    actor,
    at,
    limiter_of,
    principal,
    services_of,
)
from socialcredit.entrypoints.api.models import CheckView, ConsentGrant, Enrolment
from socialcredit.entrypoints.views import (
    access_view,
    check_view,
    consent_view,
    decision_view,
    export_html,
    export_view,
    score_view,
    stored_notice_view,
)

router = APIRouter()
SUBJECT_ACCESS = "subject access"


@router.post("/subjects/{identifier}/enrol")
async def enrol(identifier: str, body: Enrolment, who: Caller, services: Svc) -> dict[str, Any]:
    may_report(who, services.definitions.scheme(body.scheme))
    row, created = services.subjects.enrol(
        identifier, body.scheme, kind=body.kind, actor=actor(who)
    )
    return {"subject": row.masked, "scheme": body.scheme, "created": created}


@router.get("/subjects/{identifier}/scores")
async def scores(
    identifier: str,
    who: Caller,
    services: Svc,
    scheme: str | None = None,
    at_: Annotated[str | None, Query(alias="at")] = None,
) -> list[dict[str, Any]]:
    subject = services.subjects.identify(identifier)
    may_read_subject(who, subject.key, also=("admin", "reviewer"))
    within = None
    if who.role == "reviewer":  # a reviewer sees its own authority's schemes only
        within = services.definitions.schemes_of(who.authority)
    row, evaluations = services.checks.scores(
        identifier, scheme=scheme, at=at(at_), actor=actor(who), within=within
    )
    return [score_view(e, row.masked) for e in evaluations]


@router.get(
    "/subjects/{identifier}/check",
    response_model=CheckView,
    openapi_extra={
        "parameters": [
            {"name": "identifier", "in": "path", "required": True, "schema": {"type": "string"}},
            {
                "name": "action",
                "in": "query",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
            },
            {"name": "at", "in": "query", "required": False, "schema": {"type": "string"}},
        ],
        "security": [{"HTTPBearer": []}],
    },
)
async def check(request: Request) -> Response:
    # The hot path reads its path, header and query itself and serialises
    # with orjson: FastAPI's per-parameter machinery cost more than the check.
    services = services_of(request)
    identifier = request.path_params["identifier"]
    who = await principal(services, request.headers.get("authorization"), limiter_of(request))
    action = request.query_params.get("action")
    if not action or len(action) > MAX_NAME_LENGTH:
        raise RecordError("action", f"is required, 1 to {MAX_NAME_LENGTH} characters")
    may_check(who, action, services.definitions.registry.index)
    moment = at(request.query_params.get("at"))
    result = services.checks.check(identifier, action, at=moment, actor=actor(who))
    return _fast_json(check_view(result))


@router.get("/subjects/{identifier}/decisions")
async def decisions(identifier: str, who: Caller, services: Svc) -> list[dict[str, Any]]:
    _may_read(services, who, identifier)
    found = services.subjects.decisions(identifier, actor=actor(who), purpose=SUBJECT_ACCESS)
    return [decision_view(d) for d in found]


@router.get("/subjects/{identifier}/access-log")
async def access_log(identifier: str, who: Caller, services: Svc) -> list[dict[str, Any]]:
    _may_read(services, who, identifier)
    entries = services.subjects.access_log(identifier, actor=actor(who), purpose=SUBJECT_ACCESS)
    return [access_view(entry) for entry in entries]


@router.get("/subjects/{identifier}/export")
async def export(
    identifier: str, who: Caller, services: Svc, format: Literal["json", "html"] = "json"
) -> Response:
    """Everything held about the subject (GDPR art. 15); the subject only."""
    _may_read(services, who, identifier)
    held = services.export.access_export(identifier, actor=actor(who))
    if format == "html":
        return HTMLResponse(export_html(held))
    return _fast_json(export_view(held))


@router.get("/subjects/{identifier}/consents")
async def consents(identifier: str, who: Caller, services: Svc) -> list[dict[str, Any]]:
    """Each scheme and purpose the subject ever consented to, with its periods."""
    _may_read(services, who, identifier)
    found = services.consents.of(identifier, actor=actor(who), purpose=SUBJECT_ACCESS)
    return [consent_view(c) for c in found]


@router.post("/subjects/{identifier}/consents", status_code=201)
async def grant(identifier: str, body: ConsentGrant, who: Caller, services: Svc) -> dict[str, Any]:
    """Grant consent to a scheme for a purpose (GDPR art. 7; the subject)."""
    return _consent(services, who, identifier, body.scheme, body.purpose, True)


@router.delete("/subjects/{identifier}/consents/{scheme_id}/{purpose}")
async def withdraw(
    identifier: str, scheme_id: str, purpose: str, who: Caller, services: Svc
) -> dict[str, Any]:
    """Withdraw consent: one call, as easy as granting (GDPR art. 7(3))."""
    return _consent(services, who, identifier, scheme_id, purpose, False)


@router.get("/subjects/{identifier}/notices")
async def notices(identifier: str, who: Caller, services: Svc) -> list[dict[str, Any]]:
    """What the subject was told, and how to contest it (the subject)."""
    _may_read(services, who, identifier)
    stored = services.notices.of(identifier, actor=actor(who), purpose=SUBJECT_ACCESS)
    return [stored_notice_view(s) for s in stored]


def _may_read(services: Services, who: Principal, identifier: str) -> None:
    may_read_subject(who, services.subjects.identify(identifier).key)


def _consent(
    services: Services, who: Principal, identifier: str, scheme: str, purpose: str, granted: bool
) -> dict[str, Any]:
    """Grant or withdraw (the subject's own key); the consent as it now stands."""
    may_act_for(who, services.subjects.identify(identifier).key)
    done = services.consents.set(identifier, scheme, purpose, granted, actor=actor(who))
    return consent_view(done.standing)


def _fast_json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")
