"""The public portal: no sign-in. What the system is, the schemes in force
as a citizen would read them (with the linter's findings), the published
lists, and a business's public credit report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from socialcredit.domain.rights.repair import MINIMUM_PUBLICATION
from socialcredit.domain.schemes.models import SEVERITIES, Scheme
from socialcredit.entrypoints.web.kit import Visit, visit

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


@router.get("/")
async def home(request: Request) -> Response:
    seen = visit(request)
    registry = seen.services.definitions.registry
    schemes = sorted(registry.current_schemes.values(), key=lambda s: s.title)
    published = [
        (scheme, lst)
        for scheme in schemes
        for lst in scheme.lists
        if registry.published(scheme.id, lst.id)
    ]
    return seen.page("home.html", schemes=schemes, published=published)


@router.get("/catalogue/{scheme_id}")
async def catalogue(request: Request, scheme_id: str) -> Response:
    seen = visit(request)
    definitions = seen.services.definitions
    scheme = definitions.scheme(scheme_id)
    registry = definitions.registry
    memoranda = [m for m in registry.memoranda.values() if m.on.scheme == scheme.id]
    findings = definitions.findings(scheme.id, seen.services.keys.platform())
    return seen.page(
        "catalogue.html",
        scheme=scheme,
        memoranda=memoranda,
        findings=findings,
        repair=_repair_waits(scheme),
        published={lst.id for lst in scheme.lists if registry.published(scheme.id, lst.id)},
    )


def _repair_waits(scheme: Scheme) -> list[tuple[str, str | None]]:
    """How long after its report a record of each severity may be repaired."""
    own = scheme.repair.wait if scheme.repair is not None else (lambda severity: None)
    waits: list[tuple[str, str | None]] = []
    for severity in SEVERITIES:
        wait = own(severity) or MINIMUM_PUBLICATION[severity]
        waits.append((severity, wait.text if wait is not None else None))
    return waits


@router.get("/published/{scheme_id}/{list_id}")
async def published(
    request: Request,
    scheme_id: str,
    list_id: str,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    seen = visit(request)
    return _published(seen, scheme_id, list_id, page=page, search=None)


@router.post("/published/{scheme_id}/{list_id}")
async def published_search(
    request: Request,
    scheme_id: str,
    list_id: str,
    q: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A search by identifier is posted, not put in the address: an identifier
    in a URL ends up in logs, histories and referrers."""
    seen = visit(request)
    seen.check_form({"csrf": csrf})
    return _published(seen, scheme_id, list_id, page=1, search=q.strip() or None)


def _published(
    seen: Visit, scheme_id: str, list_id: str, *, page: int, search: str | None
) -> Response:
    scheme = seen.services.definitions.scheme(scheme_id)
    found = seen.services.checks.published_page(
        scheme_id, list_id, search=search, page=page, per_page=PER_PAGE, actor=seen.actor
    )
    listed = next(lst for lst in scheme.lists if lst.id == list_id)
    return seen.page(
        "published.html", scheme=scheme, listed=listed, found=found, searched=search is not None
    )


@router.get("/report/{identifier}")
async def report(request: Request, identifier: str) -> Response:
    seen = visit(request)
    found = seen.services.checks.public_report(identifier, actor=seen.actor)
    registry = seen.services.definitions.registry
    schemes = {e.scheme: registry.history(e.scheme).current.definition for e in found.entries}
    return seen.page("report.html", report=found, schemes=schemes)
