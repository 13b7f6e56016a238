"""The subject's own portal: everything held, with every reason, and each
right one form away. A subject key only, and only its own subject's data:
the pages are one access export, logged as the subject's own read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from socialcredit.domain.access import may_act_for
from socialcredit.domain.ledger.values import SubjectRow
from socialcredit.entrypoints.views import describe_reason, export_view
from socialcredit.entrypoints.web.chart import score_chart
from socialcredit.entrypoints.web.kit import Visit, visit
from socialcredit.errors import NotFound, RepairRefused, SocialCreditError

router = APIRouter(include_in_schema=False)
OWN_PAGE = "subject access (web)"
Text = Annotated[str, Form(max_length=10_000)]
Short = Annotated[str, Form(max_length=200)]


def own_subject(seen: Visit) -> SubjectRow:
    who = seen.require("subject")
    held = seen.services.subjects.by_key(who.subject or "")
    if held is None:
        raise NotFound(seen.gettext("Nothing is held about you yet."))
    return held


@router.get("/me")
async def me(request: Request) -> Response:
    seen = visit(request)
    return _page(seen, own_subject(seen))


def _page(
    seen: Visit,
    subject: SubjectRow,
    *,
    form: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    done: str | None = None,
) -> Response:
    held = seen.services.export.access_export(subject, actor=seen.actor, purpose=OWN_PAGE)
    charts = {
        part.scheme.id: score_chart(
            part.score_history,
            part.scheme.grades,
            [h.record for h in held.records if h.record.scheme == part.scheme.id],
            held.exported_at,
        )
        for part in held.schemes
    }
    active = {(c.scheme, c.purpose): c.active for c in held.consents}
    consent_options = [
        (part.scheme.id, purpose, active.get((part.scheme.id, purpose), False))
        for part in held.schemes
        if part.scheme.lawful_basis == "consent" or part.scheme.purposes != ("scoring",)
        for purpose in part.scheme.purposes
    ]
    return seen.page(
        "me.html",
        status=status,
        held=held,
        charts=charts,
        consent_options=consent_options,
        reasons_of=lambda decision: [
            describe_reason(r) for r in orjson.loads(decision.reasons_json)
        ],
        form=form,
        error=error,
        values=values or {},
        done=done or seen.request.query_params.get("done"),
    )


async def _act(request: Request, form: str, values: dict[str, str], action: object) -> Response:
    """Run one of the subject's rights: on success, back to the page with what
    was done; on a refusal, the page again with the message beside the form and
    the input kept."""
    seen = visit(request)
    seen.check_form(values)
    subject = own_subject(seen)
    try:
        done = action(seen, subject)  # type: ignore[operator]
    except RepairRefused as refused:
        return _page(seen, subject, form=form, error=str(refused), values=values, status=422)
    except SocialCreditError as refused:
        if isinstance(refused, NotFound):
            raise
        return _page(seen, subject, form=form, error=str(refused), values=values, status=400)
    return seen.redirect(f"/me?done={form}:{done}#{form}")


def _own(seen: Visit) -> Callable[[Any], None]:
    """The rule the use cases apply to the record or decision: the subject's own."""
    principal = seen.require("subject")
    return lambda found: may_act_for(principal, found.subject)


@router.post("/me/refer")
async def refer(
    request: Request, decision: Short = "", statement: Text = "", csrf: Short = ""
) -> Response:
    values = {"decision": decision, "statement": statement, "csrf": csrf}

    def run(seen: Visit, _: SubjectRow) -> str:
        return seen.services.casework.refer_decision(
            decision, statement, actor=seen.actor, authorize=_own(seen)
        ).id

    return await _act(request, "refer", values, run)


@router.post("/me/consent")
async def consent(
    request: Request, choice: Short = "", grant: Short = "", csrf: Short = ""
) -> Response:
    values = {"choice": choice, "grant": grant, "csrf": csrf}
    scheme, _, purpose = choice.partition(" ")

    def run(seen: Visit, subject: SubjectRow) -> str:
        changed = seen.services.consents.set(
            subject, scheme, purpose, grant == "yes", actor=seen.actor
        )
        return "granted" if changed.change.granted else "withdrawn"

    return await _act(request, "consent", values, run)


@router.get("/me/export.json")
async def export(request: Request) -> Response:
    """Everything held, as the JSON the API's access export gives (GDPR art. 15)."""
    seen = visit(request)
    held = seen.services.export.access_export(own_subject(seen), actor=seen.actor)
    body = orjson.dumps(export_view(held), option=orjson.OPT_INDENT_2)
    return Response(
        body,
        media_type="application/json",
        headers={"content-disposition": 'attachment; filename="my-data.json"'},
    )


@router.get("/me/proof/{record_id}.json")
async def proof(request: Request, record_id: str) -> Response:
    """One of the subject's records' inclusion proof, with the head it leads to."""
    seen = visit(request)
    own_subject(seen)
    found = seen.services.log.prove_record(record_id, actor=seen.actor, authorize=_own(seen))
    body = orjson.dumps(
        {**found.proof.to_json(), "head": found.head.to_json()}, option=orjson.OPT_INDENT_2
    )
    return Response(
        body,
        media_type="application/json",
        headers={"content-disposition": f'attachment; filename="proof-{record_id}.json"'},
    )


# The rights over one record, each its own form, and the use case that carries it
# out. Declared last: the path would otherwise also match /me/refer and /me/consent.
RECORD_RIGHTS = {
    "contest": "contest",
    "repair": "apply_for_repair",
    "rectify": "request_rectification",
    "erase": "request_erasure",
}


@router.post("/me/{right}")
async def record_right(
    request: Request, right: str, record: Short = "", statement: Text = "", csrf: Short = ""
) -> Response:
    if right not in RECORD_RIGHTS:
        raise NotFound(f"no such form: {right!r}")
    values = {"record": record, "statement": statement, "csrf": csrf}

    def run(seen: Visit, _: SubjectRow) -> str:
        carry_out = getattr(seen.services.casework, RECORD_RIGHTS[right])
        case = carry_out(record, statement, actor=seen.actor, authorize=_own(seen))
        return str(case.id)

    return await _act(request, right, values, run)
