"""Endpoints of the HTTP service (see README and /docs).

Handlers are ``async`` and call the application layer directly, so they run
one at a time on the event loop: the SQLite store is one connection, and its
write transactions must not interleave.
"""

# No `from __future__ import annotations`: FastAPI must see the real
# annotations of handlers defined inside create_app (e.g. the local `Caller`).

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import fastapi_offline
import orjson
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, Field
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialcredit import __version__
from socialcredit.api import problems
from socialcredit.api.mobility import mobility_router
from socialcredit.app import AuthenticationFailed, NotFound, SocialCredit, UsageError
from socialcredit.delivery import stored_notice_view
from socialcredit.domain.access import (
    AccessDenied,
    Principal,
    may_check,
    may_read_subject,
    may_report,
    may_review,
    require,
)
from socialcredit.domain.ledger.records import Record, status_at
from socialcredit.domain.rights.cases import Case
from socialcredit.export import access_export, export_html
from socialcredit.intake import RecordError, parse_time
from socialcredit.views import (
    check_view,
    definition_summary,
    definition_view,
    entry_view,
    iso,
    latest_definitions,
    score_view,
)

MAX_BODY_BYTES = 16 * 1024 * 1024  # a batch of 10,000 records is about 3 MiB
MAX_BATCH = 10_000


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not
    they announce their length, before any handler reads them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await problems.problem(413, f"the body is over {self.limit} bytes")(
                scope, receive, send
            )
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await problems.problem(413, f"the body is over {self.limit} bytes")(
                scope, receive, send
            )


class _TooLarge(Exception):
    pass


class ReasonView(BaseModel):
    effect: str
    factor: float | None
    source: str
    scheme: str
    authority: str
    context: str
    rationale: str
    grade: str | None
    list_id: str | None = Field(alias="list")
    list_kind: str | None
    since: str | None
    until: str | None
    memorandum: str | None
    records: tuple[str, ...]
    via: str | None


class CheckView(BaseModel):
    """A check decision, as `socialcredit check --json` prints it."""

    decision_id: str
    subject: str
    action: str
    at: str
    effect: Literal["deny", "adjust", "publish", "priority", "allow"]
    factor: float | None
    reasons: list[ReasonView]


# Control characters other than tab and line breaks, and lone surrogates: no
# one types them, the ledger's hashes separate fields with one, and neither
# SQLite's UTF-8 nor PostgreSQL's text can hold all of them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _plain(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not hold control characters other than tabs and line breaks")
    return value


# Ids in paths: PostgreSQL text cannot hold NUL, and no id holds a control character.
Id = Annotated[str, PathParam(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]

# What the subject says, and a reviewer's written reasons (GDPR art. 12(3), 22(3)).
Statement = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_plain)]
Evidence = Annotated[str, Field(min_length=1, max_length=2_000), AfterValidator(_plain)]
Written = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_plain)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_plain)]
Moment = Annotated[str, Field(min_length=1, max_length=64)]

# Every outcome of every kind of case (rights.cases.OUTCOMES); which fit a case
# depends on its kind, and a wrong one is refused naming those that fit.
Outcome = Literal[
    "upheld", "overturned", "approved", "denied", "rectified", "refused", "erased", "kept",
    "confirmed", "overridden",
]  # fmt: skip


class Application(BaseModel):
    """A subject's request about a record: a contest, repair or rectification."""

    statement: Statement
    evidence: Evidence | None = None


class Plea(BaseModel):
    """A subject's request with a statement only: erasure, or review of a decision."""

    statement: Statement


class Review(BaseModel):
    outcome: Literal["uphold", "overturn"]
    reason: Written


class Extension(BaseModel):
    reason: Written


class CaseDecision(BaseModel):
    """A reviewer's answer. ``effect``, ``factor`` and ``until`` belong to an
    overridden decision review; ``category`` and ``occurred_at`` to a rectified
    record (the corrected record that replaces it)."""

    outcome: Outcome
    reason: Written
    effect: Literal["deny", "adjust", "publish", "priority", "allow"] | None = None
    factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    until: Moment | None = None
    category: Name | None = None
    occurred_at: Moment | None = None


class ConsentGrant(BaseModel):
    scheme: Name
    purpose: Name = "scoring"


class Enrolment(BaseModel):
    scheme: str = Field(min_length=1, max_length=200)
    kind: Literal["person", "business", "institution"] | None = None


def create_app(system: SocialCredit) -> FastAPI:
    app = FastAPI(
        docs_url=None,  # served below from bundled assets, so /docs works without internet
        title="socialcredit",
        version=__version__,
        description="Many schemes, no single score: every score explained, every record "
        "contestable, every decision logged.",
    )
    problems.install(app)
    app.add_middleware(BodyLimit)
    _offline_docs(app)

    # async, like every handler: a plain `def` dependency would cost a hop to a
    # worker thread on every request, and the store must stay on one thread.
    async def principal(authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationFailed("send an API key as 'Authorization: Bearer <key>'")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <key>'")
        return system.authenticate(token.strip())

    # Declared as HTTP bearer security, so the docs page offers an Authorize button.
    bearer = HTTPBearer(auto_error=False, description="An API key from `socialcredit keys create`.")

    async def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Principal:
        if credentials is None:
            return await principal(authorization)  # names what is wrong with the header
        return system.authenticate(credentials.credentials.strip())

    Caller = Annotated[Principal, Depends(caller)]

    def actor(who: Principal) -> str:
        return f"key:{who.key_id}" + (f"@{who.authority}" if who.authority else "")

    def at(value: str | None) -> datetime | None:
        return parse_time(value, "at") if value is not None else None

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "schemes": len(system.registry.schemes)}

    @app.get("/schemes")
    async def schemes() -> list[dict[str, Any]]:
        return [definition_summary(r) for r in latest_definitions(system.store.definitions())]

    @app.get("/schemes/{scheme_id}")
    async def scheme(scheme_id: str) -> dict[str, Any]:
        found = [r for r in system.store.definitions() if r.id == scheme_id]
        if not found:
            raise NotFound(f"no scheme or memorandum {scheme_id!r}")
        return definition_view(found[-1], [r.version for r in found])

    @app.post("/schemes", status_code=201)
    async def add_scheme(request: Request, who: Caller) -> list[dict[str, Any]]:
        require(who, "admin")
        text = (await request.body()).decode("utf-8", errors="replace")
        added = system.add_definition_text(text, source="request body")
        return [{"id": a.id, "type": a.type, "version": a.version} for a in added]

    @app.post("/records")
    async def report(request: Request, who: Caller) -> JSONResponse:
        require(who, "reporter")
        body = _json(await request.body())
        items = body if isinstance(body, list) else [body]
        if isinstance(body, list) and not 1 <= len(body) <= MAX_BATCH:
            raise UsageError(f"body: a batch holds 1 to {MAX_BATCH} records, got {len(body)}")
        results = _report(system, who, items)
        if isinstance(body, list):
            return JSONResponse({"results": results})
        result = results[0]
        return JSONResponse(result.get("record") or _problem_body(result), status_code=result["status"],
                            media_type=None if result["status"] < 400 else problems.PROBLEM)  # fmt: skip

    @app.get("/records/{record_id}")
    async def record(record_id: Id, who: Caller) -> dict[str, Any]:
        found = _record_or_404(system, record_id)
        _may_see_record(system, who, found)
        system.store.log_access(found.subject, system.clock(), actor(who), "record enquiry",
                                f"record {record_id}")  # fmt: skip
        return _record_view(system, found)

    @app.post("/records/{record_id}/contest")
    async def contest(record_id: Id, body: Application, who: Caller) -> dict[str, Any]:
        """Contest a record (the record's subject): its effect freezes at once
        (GDPR art. 18) and a reviewer must answer within one month."""
        found = _record_or_404(system, record_id)
        _own(who, found.subject)
        case = system.casework.contest(
            record_id, body.statement, evidence=body.evidence, actor=actor(who)
        )
        return {**_record_view(system, _record_or_404(system, record_id)),
                "case": system.casework.view(case)}  # fmt: skip

    @app.post("/records/{record_id}/review")
    async def review(record_id: Id, body: Review, who: Caller) -> dict[str, Any]:
        """Decide a contested record, or a record restricted on a request for
        erasure (a reviewer of the scheme's authority). On an erasure request,
        ``uphold`` keeps the record and ``overturn`` erases it, as `socialcredit
        review` does. A record contested before cases were kept is decided directly."""
        found = _record_or_404(system, record_id)
        may_review(who, system.registry.history(found.scheme).current.definition)
        work = system.casework
        decided = work.review(record_id, uphold=body.outcome == "uphold", reason=body.reason,
                              actor=actor(who))  # fmt: skip
        return {**_record_view(system, _record_or_404(system, record_id)),
                "case": work.view(decided) if decided else None}  # fmt: skip

    @app.post("/records/{record_id}/repair", status_code=201)
    async def repair(record_id: Id, body: Application, who: Caller) -> dict[str, Any]:
        """Apply for credit repair (the record's subject). Too early under the
        PRC rules: 422, with ``available_from`` saying when it becomes possible."""
        found = _record_or_404(system, record_id)
        _own(who, found.subject)
        case = system.casework.apply_for_repair(
            record_id, body.statement, evidence=body.evidence, actor=actor(who)
        )
        return system.casework.view(case)

    @app.post("/records/{record_id}/rectification", status_code=201)
    async def rectification(record_id: Id, body: Application, who: Caller) -> dict[str, Any]:
        """Ask for a wrong record to be corrected (GDPR art. 16; the record's subject)."""
        found = _record_or_404(system, record_id)
        _own(who, found.subject)
        case = system.casework.request_rectification(
            record_id, body.statement, evidence=body.evidence, actor=actor(who)
        )
        return system.casework.view(case)

    @app.post("/records/{record_id}/erasure")
    async def erasure(record_id: Id, body: Plea, who: Caller) -> dict[str, Any]:
        """Ask for a record to be erased (GDPR art. 17; the record's subject).
        Erased at once where the lawful basis allows it; otherwise restricted
        (art. 18) and put to a reviewer as a case."""
        found = _record_or_404(system, record_id)
        _own(who, found.subject)
        done = system.casework.request_erasure(record_id, body.statement, actor=actor(who))
        return {"record": done.record, "erased": done.erased, "why": done.why,
                "case": system.casework.view(done.case) if done.case else None}  # fmt: skip

    @app.post("/decisions/{decision_id}/review", status_code=201)
    async def decision_review(decision_id: Id, body: Plea, who: Caller) -> dict[str, Any]:
        """Ask for a person to review an adverse automated decision (GDPR art.
        22(3); the decision's subject)."""
        found = system.store.decision(decision_id)
        if found is None:
            raise NotFound(f"no decision with id {decision_id!r}")
        _own(who, found.subject)
        case = system.casework.refer_decision(decision_id, body.statement, actor=actor(who))
        return system.casework.view(case)

    @app.get("/cases")
    async def cases(
        who: Caller, status: Literal["open", "overdue", "all"] = "open"
    ) -> list[dict[str, Any]]:
        """Cases, oldest first (overdue: the longest overdue first). An admin
        sees all, a reviewer those its authority answers, a subject its own."""
        open_only, overdue_only = status == "open", status == "overdue"
        work = system.casework
        # Never a None filter for a reviewer or subject: that would mean every case.
        if who.role == "admin":
            found = work.cases(open_only=open_only, overdue_only=overdue_only)
        elif who.role == "reviewer" and who.authority:
            found = work.cases(
                authority=who.authority, open_only=open_only, overdue_only=overdue_only
            )
        elif who.role == "subject" and who.subject:
            found = work.cases(subject=who.subject, open_only=open_only, overdue_only=overdue_only)
        else:
            raise AccessDenied(
                f"a {who.role} key may not list cases; it needs an admin, reviewer or subject key"
            )
        if found:
            system.store.log_accesses(sorted({c.subject for c in found}), system.clock(),
                                      actor(who), _case_purpose(who), f"cases ({status})")  # fmt: skip
        return [system.casework.view(c) for c in found]

    @app.get("/cases/{case_id}")
    async def case(case_id: Id, who: Caller) -> dict[str, Any]:
        found = system.casework.case(case_id)
        _may_see_case(who, found)
        system.store.log_access(found.subject, system.clock(), actor(who), _case_purpose(who),
                                f"case {case_id}")  # fmt: skip
        return system.casework.view(found)

    @app.post("/cases/{case_id}/extend")
    async def extend(case_id: Id, body: Extension, who: Caller) -> dict[str, Any]:
        """Extend the deadline once, by two months, telling the subject why
        (GDPR art. 12(3); a reviewer of one of the case's authorities)."""
        work = system.casework
        _may_answer(who, work.case(case_id))
        return system.casework.view(work.extend(case_id, body.reason, actor=actor(who)))

    @app.post("/cases/{case_id}/decision")
    async def decide(case_id: Id, body: CaseDecision, who: Caller) -> dict[str, Any]:
        """Decide a case with a written reason (a reviewer of one of its authorities)."""
        work = system.casework
        found = work.case(case_id)
        _may_answer(who, found)
        decided = work.decide(
            case_id, body.outcome, body.reason, actor=actor(who), effect=body.effect,
            factor=body.factor, category=body.category,
            until=parse_time(body.until, "until") if body.until is not None else None,
            occurred_at=(parse_time(body.occurred_at, "occurred_at")
                         if body.occurred_at is not None else None),
        )  # fmt: skip
        return system.casework.view(decided)

    @app.post("/subjects/{identifier}/enrol")
    async def enrol(identifier: str, body: Enrolment, who: Caller) -> dict[str, Any]:
        may_report(who, system.registry.history(body.scheme).current.definition)
        row, created = system.enrol(identifier, body.scheme, kind=body.kind, actor=actor(who))
        return {"subject": row.masked, "scheme": body.scheme, "created": created}

    @app.get("/subjects/{identifier}/scores")
    async def scores(
        identifier: str,
        who: Caller,
        scheme: str | None = None,
        at_: Annotated[str | None, Query(alias="at")] = None,
    ) -> list[dict[str, Any]]:
        subject = system.subject_row(identifier)
        may_read_subject(who, subject.key, also=("admin", "reviewer"))
        within = None
        if who.role == "reviewer":  # a reviewer sees its own authority's schemes only
            within = frozenset(sid for sid, h in system.registry.schemes.items()
                               if h.current.definition.authority.id == who.authority)  # fmt: skip
        row, evaluations = system.scores(identifier, scheme=scheme, at=at(at_), actor=actor(who),
                                         purpose="score enquiry", within=within)  # fmt: skip
        return [score_view(e, row.masked) for e in evaluations]

    @app.get(
        "/subjects/{identifier}/check",
        response_model=CheckView,
        openapi_extra={"parameters": [
            {"name": "identifier", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "action", "in": "query", "required": True,
             "schema": {"type": "string", "minLength": 1, "maxLength": 200}},
            {"name": "at", "in": "query", "required": False, "schema": {"type": "string"}},
        ], "security": [{"HTTPBearer": []}]},
    )  # fmt: skip
    async def check(request: Request) -> Response:
        # The hot path reads its path, header and query itself and serialises
        # with orjson: FastAPI's per-parameter machinery cost more than the check.
        identifier = request.path_params["identifier"]
        who = await principal(request.headers.get("authorization"))
        action = request.query_params.get("action")
        if not action or len(action) > 200:
            raise RecordError("action", "is required, 1 to 200 characters")
        may_check(who, action, system.registry.index)
        moment = at(request.query_params.get("at"))
        result = system.check(identifier, action, at=moment, actor=actor(who), purpose="check")
        return _fast_json(check_view(result.decision_id, result.subject, result.decision))

    @app.get("/subjects/{identifier}/decisions")
    async def decisions(identifier: str, who: Caller) -> list[dict[str, Any]]:
        subject = system.subject_row(identifier)
        may_read_subject(who, subject.key)
        system.store.log_access(
            subject.key, system.clock(), actor(who), "subject access", "decisions"
        )
        return [{"decision_id": d.id, "action": d.action, "at": iso(d.at), "effect": d.effect,
                 "factor": d.factor, "reasons": orjson.loads(d.reasons_json),
                 "asked_at": iso(d.asked_at), "asked_by": d.asked_by, "purpose": d.purpose}
                for d in system.store.decisions(subject.key)]  # fmt: skip

    @app.get("/subjects/{identifier}/access-log")
    async def access_log(identifier: str, who: Caller) -> list[dict[str, Any]]:
        subject = system.subject_row(identifier)
        may_read_subject(who, subject.key)
        entries = [{"at": iso(when), "by": by, "purpose": purpose, "what": what}
                   for when, by, purpose, what in system.store.access_log(subject.key)]  # fmt: skip
        system.store.log_access(
            subject.key, system.clock(), actor(who), "subject access", "access log"
        )
        return entries

    @app.get("/subjects/{identifier}/export")
    async def export(
        identifier: str, who: Caller, format: Literal["json", "html"] = "json"
    ) -> Response:
        """Everything held about the subject (GDPR art. 15); the subject only."""
        may_read_subject(who, system.subject_row(identifier).key)
        found = access_export(system, identifier, actor=actor(who))
        if format == "html":
            return HTMLResponse(export_html(found))
        return _fast_json(found)

    @app.get("/subjects/{identifier}/consents")
    async def consents(identifier: str, who: Caller) -> list[dict[str, Any]]:
        """Each scheme and purpose the subject ever consented to, with its periods."""
        subject = system.subject_row(identifier)
        may_read_subject(who, subject.key)
        found = system.casework.consents(subject)
        system.store.log_access(
            subject.key, system.clock(), actor(who), "subject access", "consents"
        )
        return found

    @app.post("/subjects/{identifier}/consents", status_code=201)
    async def grant(identifier: str, body: ConsentGrant, who: Caller) -> dict[str, Any]:
        """Grant consent to a scheme for a purpose (GDPR art. 7; the subject)."""
        return _consent(system, who, actor(who), identifier, body.scheme, body.purpose, True)

    @app.delete("/subjects/{identifier}/consents/{scheme_id}/{purpose}")
    async def withdraw(
        identifier: str, scheme_id: str, purpose: str, who: Caller
    ) -> dict[str, Any]:
        """Withdraw consent: one call, as easy as granting (GDPR art. 7(3))."""
        return _consent(system, who, actor(who), identifier, scheme_id, purpose, False)

    @app.get("/subjects/{identifier}/notices")
    async def notices(identifier: str, who: Caller) -> list[dict[str, Any]]:
        """What the subject was told, and how to contest it (the subject)."""
        subject = system.subject_row(identifier)
        may_read_subject(who, subject.key)
        stored = system.casework.notices(subject)
        system.store.log_access(
            subject.key, system.clock(), actor(who), "subject access", "notices"
        )
        return [stored_notice_view(s) for s in stored]

    @app.post("/notices/sweep")
    async def sweep(who: Caller) -> dict[str, Any]:
        """Build the notices the ledger calls for and the outbox lacks (an admin)."""
        require(who, "admin")
        return {"built": dict(system.casework.sweep().built)}

    @app.post("/retention/run")
    async def retention(who: Caller, apply: bool = False) -> dict[str, Any]:
        """Records past their scheme's retention period: listed, and with
        ``apply=true`` erased (an admin)."""
        require(who, "admin")
        report = system.casework.retention(apply=apply, actor=actor(who))
        return {
            "applied": report.applied,
            "removed": [{"record": i.record, "scheme": i.scheme, "subject": i.subject,
                         "kept_until": iso(i.kept_until)} for i in report.items],
            "by_scheme": report.by_scheme(),
            "mobility": report.mobility,
        }  # fmt: skip

    @app.get("/lists/{scheme_id}/{list_id}")
    async def published_list(
        scheme_id: str, list_id: str, at_: Annotated[str | None, Query(alias="at")] = None
    ) -> list[dict[str, Any]]:
        if not system.published(scheme_id, list_id):
            raise AccessDenied(
                f"{scheme_id}/{list_id} is not published: no 'publish' measure covers it"
            )
        entries = system.lists(
            scheme_id, list_id, at=at(at_), actor="public", purpose="publication"
        )
        return [
            {"subject": e.subject, "subject_kind": e.kind, **entry_view(e.entry)} for e in entries
        ]

    # Checks are the most frequent call. The route above documents them in
    # the OpenAPI schema; requests are served by a plain Starlette route with
    # the same handler, placed first, which skips FastAPI's per-request
    # dependency solving (the handler reads its own parameters anyway).
    app.router.routes.insert(0, Route("/subjects/{identifier}/check", check, methods=["GET"]))
    app.include_router(mobility_router(system, caller))  # bike sharing: api/mobility.py
    return app


# Swagger UI (recent enough for OpenAPI 3.1) as the fastapi-offline package ships it.
_DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI from bundled assets instead of a CDN: many deployments of a
    system like this run on networks without internet."""
    app.mount("/docs-assets", StaticFiles(directory=_DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="socialcredit API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )


def _fast_json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise UsageError(f"body: is not valid JSON ({error.msg})") from None


def _report(system: SocialCredit, who: Principal, items: list[Any]) -> list[dict[str, Any]]:
    """Per-item results: 201 created, 200 already held, 403, 409 conflict, 422 invalid."""
    results: list[dict[str, Any]] = [{} for _ in items]
    lines = []
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            results[number] = {
                "status": 422,
                "errors": [{"field": "record", "rule": "must be a JSON object"}],
            }
            continue
        # Judge the scheme exactly as the importer will read it (trimmed), and
        # record the key's authority as the reporter: a body cannot claim either.
        named = item.get("scheme")
        history = system.registry.schemes.get(
            named.strip() if isinstance(named, str) else str(named)
        )
        if history is not None:
            try:
                may_report(who, history.current.definition)
            except AccessDenied as error:
                results[number] = {
                    "status": 403,
                    "errors": [{"field": "scheme", "rule": str(error)}],
                }
                continue
        lines.append((number, {**item, "reporter": who.authority}))
    report = system.import_records(lines)
    refused = {r.line: r for r in report.rejected}
    duplicates = set(report.duplicate_lines)
    for number, item in lines:
        if number in refused:
            field, _, rule = refused[number].reason.partition(": ")
            status = 409 if "(conflict)" in rule else 422
            results[number] = {"status": status, "errors": [{"field": field, "rule": rule}]}
        else:
            found = system.store.record(str(item["id"]).strip())  # as the importer reads it
            assert found is not None
            results[number] = {"status": 200 if number in duplicates else 201,
                               "record": _record_view(system, found)}  # fmt: skip
    for number, result in enumerate(results):
        result["index"] = number
    return results


def _problem_body(result: dict[str, Any]) -> dict[str, Any]:
    error = result["errors"][0]
    return {"type": "about:blank", "title": "Record refused", "status": result["status"],
            "detail": f"{error['field']}: {error['rule']}", "errors": result["errors"]}  # fmt: skip


def _record_or_404(system: SocialCredit, record_id: str) -> Record:
    found = system.store.record(record_id)
    if found is None:
        raise NotFound(f"no record with id {record_id!r}")
    return found


def _may_see_record(system: SocialCredit, who: Principal, record: Record) -> None:
    """The record's subject, a reporter or reviewer of the scheme's authority."""
    authority = system.registry.history(record.scheme).current.definition.authority.id
    if who.role == "subject" and who.subject == record.subject:
        return
    if who.role in ("reporter", "reviewer") and who.authority == authority:
        return
    raise AccessDenied(
        "only the record's subject, and reporters and reviewers of its scheme, may read it"
    )


def _own(who: Principal, subject: str) -> None:
    """Only the subject's own key may ask on the subject's behalf."""
    require(who, "subject")
    if who.subject != subject:
        raise AccessDenied("a subject key may act only for its own subject")


def _may_see_case(who: Principal, case: Case) -> None:
    if who.role == "admin" or (who.role == "subject" and who.subject == case.subject):
        return
    if who.role == "reviewer" and who.authority in case.authorities:
        return
    raise AccessDenied(
        "only the case's subject, reviewers of the authorities that answer it, and admins may "
        "read it"
    )


def _may_answer(who: Principal, case: Case) -> None:
    require(who, "reviewer")
    if who.authority not in case.authorities:
        raise AccessDenied(
            f"a reviewer of {who.authority!r} may not answer case {case.id}: reviewers of "
            f"{', '.join(case.authorities) or 'no authority'} answer it"
        )


def _case_purpose(who: Principal) -> str:
    return "subject access" if who.role == "subject" else "case review"


def _consent(system: SocialCredit, who: Principal, by: str, identifier: str, scheme: str,
             purpose: str, granted: bool) -> dict[str, Any]:  # fmt: skip
    """Grant or withdraw (the subject's own key); the consent as it now stands."""
    subject = system.subject_row(identifier)
    _own(who, subject.key)
    work = system.casework
    work.set_consent(identifier, scheme, purpose, granted, actor=by)
    [view] = [v for v in work.consents(subject) if (v["scheme"], v["purpose"]) == (scheme, purpose)]
    return view


def _record_view(system: SocialCredit, record: Record) -> dict[str, Any]:
    events = system.store.record_events(record.id)
    held = system.store.subject(record.subject)
    latest = status_at(events, system.clock())
    return {
        "id": record.id, "scheme": record.scheme, "scheme_version": record.scheme_version,
        "category": record.category, "subject": held.masked if held else None,
        "occurred_at": iso(record.occurred_at), "reported_at": iso(record.reported_at),
        "expires_at": iso(record.expires_at), "points": record.points,
        "reporter": record.reporter, "evidence": record.evidence, "status": latest or "standing",
        "events": [{"kind": e.kind, "at": iso(e.at), "actor": e.actor, "reason": e.reason}
                   for e in events],
    }  # fmt: skip


__all__ = ["MAX_BATCH", "MAX_BODY_BYTES", "RecordError", "create_app"]
