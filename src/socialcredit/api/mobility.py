"""HTTP endpoints of bike sharing (docs/mobility.md): trips one at a time,
zone sets, riders' reports of bad parking and their review, and positions
outside a trip (refused without consent).

Included by :func:`socialcredit.api.service.create_app`, which hands over its
``caller`` dependency so that keys are checked exactly as everywhere else.
"""

# No `from __future__ import annotations`: FastAPI must see the real
# annotations of handlers defined inside mobility_router (e.g. the local `Caller`).

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field

from socialcredit.api import problems
from socialcredit.app import SocialCredit, UsageError
from socialcredit.domain.access import AccessDenied, Principal, may_report, may_review, require

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _plain(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not hold control characters other than tabs and line breaks")
    return value


def _one_line(value: str) -> str:
    if re.search("[\x00-\x1f\x7f\ud800-\udfff]", value):
        raise ValueError("must not hold control characters")
    return value


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line)]
Moment = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_one_line)]
Statement = Annotated[str, Field(min_length=1, max_length=10_000), AfterValidator(_plain)]
Photo = Annotated[str, Field(min_length=1, max_length=2_000), AfterValidator(_one_line)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Id = Annotated[str, PathParam(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class TripBody(BaseModel):
    """One trip as the operator reports it when it ends."""

    id: Annotated[str, Field(min_length=1, max_length=190, pattern=r"^[^\s\x00-\x1f\x7f]+$")]
    scheme: Name
    rider: Name
    bike: Name
    started_at: Moment
    ended_at: Moment
    start_lon: Longitude
    start_lat: Latitude
    end_lon: Longitude
    end_lat: Latitude


class ReportBody(BaseModel):
    """A rider's report of another trip's bad parking."""

    trip: Name
    statement: Statement
    photo: Photo | None = None


class Decision(BaseModel):
    reason: Statement


class PositionBody(BaseModel):
    """A position outside any trip: refused unless the rider consented."""

    rider: Name
    scheme: Name
    lon: Longitude
    lat: Latitude
    at: Moment | None = None


def mobility_router(system: SocialCredit, caller: Callable[..., Awaitable[Principal]]) -> APIRouter:
    from socialcredit.mobility.service import LocationRefused, Mobility, report_view, trip_view
    from socialcredit.mobility.zones import ZoneError

    router = APIRouter(prefix="/mobility", tags=["mobility"])
    Caller = Annotated[Principal, Depends(caller)]

    def actor(who: Principal) -> str:
        return f"key:{who.key_id}" + (f"@{who.authority}" if who.authority else "")

    def scheme_of(scheme_id: str) -> Any:
        return system.registry.history(scheme_id).current.definition

    @router.post("/trips", status_code=201)
    async def trip(body: TripBody, who: Caller) -> JSONResponse:
        """One trip (a reporter of the scheme's authority): the end gets a
        verdict, the verdict a record; precise positions are kept only with the
        rider's consent. 201 kept, 200 already held, 409 conflict, 422 invalid."""
        may_report(who, scheme_of(body.scheme))
        report = Mobility(system).import_trips(
            [(1, body.model_dump())], reporter=who.authority, batch_size=1, results=True
        )
        if report.rejected:
            field, _, rule = report.rejected[0].reason.partition(": ")
            status = 409 if "(conflict)" in rule else 422
            return problems.problem(status, report.rejected[0].reason,
                                    [{"field": field, "rule": rule}])  # fmt: skip
        [result] = report.results or []
        return JSONResponse(trip_view(result), status_code=200 if result.duplicate else 201)

    @router.post("/zones", status_code=201)
    async def zones(
        request: Request,
        who: Caller,
        scheme: Annotated[str, Query(min_length=1, max_length=200)],
        kind_property: Annotated[str, Query(min_length=1, max_length=100)] = "kind",
    ) -> JSONResponse:
        """A new zone set for a scheme, from a GeoJSON FeatureCollection (an admin,
        or a reporter of the scheme's authority)."""
        definition = scheme_of(scheme)
        if who.role != "admin":
            may_report(who, definition)
        try:
            added = Mobility(system).add_zones(
                scheme, await request.body(), kind_property=kind_property, actor=actor(who)
            )
        except ZoneError as error:
            return problems.problem(422, str(error), [{"field": error.where, "rule": error.rule}])
        return JSONResponse({"scheme": added.scheme, "zone_set": added.version,
                             "zones": added.zones, "by_kind": added.by_kind}, status_code=201)  # fmt: skip

    @router.post("/reports", status_code=201)
    async def report(body: ReportBody, who: Caller) -> dict[str, Any]:
        """Report another rider's bad parking (a subject key, for its own rider)."""
        require(who, "subject")
        held = system.store.subject(who.subject or "")
        if held is None:
            raise UsageError("by: no rides are held for this key's subject")
        filed = Mobility(system).report(body.trip, held, body.statement, photo=body.photo,
                                        actor=actor(who))  # fmt: skip
        return report_view(filed, viewer=who.subject)

    @router.get("/reports")
    async def reports(
        who: Caller, status: Literal["pending", "verified", "rejected", "all"] = "pending"
    ) -> list[dict[str, Any]]:
        """Reports, oldest first: an admin sees all, a reviewer those its
        authority answers, a subject those it filed or is named in."""
        wanted = None if status == "all" else status
        mobility = Mobility(system)
        if who.role == "admin":
            found = mobility.reports(status=wanted)
        elif who.role == "reviewer" and who.authority:
            found = mobility.reports(status=wanted, authority=who.authority)
        elif who.role == "subject" and who.subject:
            found = mobility.reports(status=wanted, subject=who.subject)
        else:
            raise AccessDenied(
                f"a {who.role} key may not list reports; it needs an admin, reviewer or subject key"
            )
        subjects = sorted({k for r in found for k in (r.subject, r.offender_key)})
        if subjects:
            system.store.log_accesses(subjects, system.clock(), actor(who), "report review",
                                      f"rider reports ({status})")  # fmt: skip
        viewer = who.subject if who.role == "subject" else None
        return [report_view(r, viewer) for r in found]

    @router.post("/reports/{report_id}/verify")
    async def verify(report_id: Id, body: Decision, who: Caller) -> dict[str, Any]:
        """Verify a report (a reviewer of the scheme's authority): the offender
        gets an improper-parking record and the reporter a reward record."""
        mobility = Mobility(system)
        may_review(who, scheme_of(mobility.report_of(report_id).scheme))
        return report_view(mobility.verify(report_id, body.reason, actor=actor(who)))

    @router.post("/reports/{report_id}/reject")
    async def reject(report_id: Id, body: Decision, who: Caller) -> dict[str, Any]:
        """Reject a report (a reviewer of the scheme's authority); nothing is recorded."""
        mobility = Mobility(system)
        may_review(who, scheme_of(mobility.report_of(report_id).scheme))
        return report_view(mobility.reject(report_id, body.reason, actor=actor(who)))

    @router.post("/positions", status_code=201)
    async def position(body: PositionBody, who: Caller) -> JSONResponse:
        """A position outside a trip (a reporter of the scheme's authority):
        403 unless the rider consented to 'background-location'."""
        may_report(who, scheme_of(body.scheme))
        moment = body.at if body.at is not None else system.clock().isoformat()
        try:
            kept = Mobility(system).add_position(body.rider, body.scheme, body.lon, body.lat,
                                                 moment, actor=actor(who))  # fmt: skip
        except LocationRefused as error:
            field, _, rule = str(error).partition(": ")
            return problems.problem(403, str(error), [{"field": field, "rule": rule}])
        return JSONResponse({"id": kept.id, "kept_until": kept.kept_until.isoformat(),
                             "purpose": kept.purpose}, status_code=201)  # fmt: skip

    return router


__all__ = ["mobility_router"]
