"""What anyone may read: the service's health, the definitions in force, and
the lists a ``publish`` measure makes public (masked identifiers only)."""

# No `from __future__ import annotations`: FastAPI reads these annotations.

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from socialcredit import __version__
from socialcredit.domain.access import require
from socialcredit.entrypoints.api.deps import Caller, Svc, at
from socialcredit.entrypoints.views import definition_summary, definition_view, listed_view

router = APIRouter()


@router.get("/health")
async def health(services: Svc) -> dict[str, Any]:
    return {
        "status": "ok",
        "version": __version__,
        "schemes": len(services.definitions.registry.schemes),
    }


@router.get("/schemes")
async def schemes(services: Svc) -> list[dict[str, Any]]:
    return [definition_summary(r) for r in services.definitions.latest()]


@router.get("/schemes/{scheme_id}")
async def scheme(scheme_id: str, services: Svc) -> dict[str, Any]:
    found = services.definitions.versions(scheme_id)
    return definition_view(found[-1], [r.version for r in found])


@router.post("/schemes", status_code=201)
async def add_scheme(request: Request, who: Caller, services: Svc) -> list[dict[str, Any]]:
    require(who, "admin")
    text = (await request.body()).decode("utf-8", errors="replace")
    added = services.definitions.add_text(text, source="request body")
    return [{"id": a.id, "type": a.type, "version": a.version} for a in added]


@router.get("/lists/{scheme_id}/{list_id}")
async def published_list(
    scheme_id: str,
    list_id: str,
    services: Svc,
    at_: Annotated[str | None, Query(alias="at")] = None,
) -> list[dict[str, Any]]:
    """A list a ``publish`` measure covers: masked identifiers only (403 otherwise)."""
    services.checks.check_published(scheme_id, list_id)  # before ``at`` is parsed
    entries = services.checks.published_list(scheme_id, list_id, at=at(at_), actor="public")
    return [listed_view(e) for e in entries]
