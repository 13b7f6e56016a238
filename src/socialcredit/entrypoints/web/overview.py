"""The ledger as a whole, in the console: each scheme's grade distribution
and list sizes as charts (counts only, no subject's data), and, for an admin
key, ``verify``: every hash chain walked and the ledger root shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from socialcredit.entrypoints.web.chart import bar_chart
from socialcredit.entrypoints.web.kit import visit

router = APIRouter(include_in_schema=False)


@router.get("/console/statistics")
async def statistics(request: Request, scheme: str | None = None) -> Response:
    seen = visit(request)
    seen.require("reviewer", "admin")
    registry = seen.services.definitions.registry
    schemes = sorted(registry.current_schemes.values(), key=lambda s: s.title)
    chosen = scheme or (schemes[0].id if schemes else None)
    found = seen.services.checks.distribution(chosen) if chosen else None
    return seen.page(
        "statistics.html",
        schemes=schemes,
        chosen=chosen,
        found=found,
        grades=bar_chart(found.grades) if found else None,
        lists=bar_chart(found.lists) if found and found.lists else None,
    )


@router.get("/console/integrity")
async def integrity_form(request: Request) -> Response:
    seen = visit(request)
    seen.require("admin")
    return seen.page("integrity.html", result=None, kept="")


@router.post("/console/integrity")
async def verify(
    request: Request,
    root: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """``socialcredit verify [--root]``, from the console."""
    seen = visit(request)
    seen.check_form({"csrf": csrf})
    seen.require("admin")
    result = seen.services.integrity.check(root or None)
    return seen.page("integrity.html", result=result, kept=root.strip())


__all__ = ["router"]
