"""HTTP routes of bike sharing (docs/mobility.md): trips one at a time, zone
sets, riders' reports of bad parking and their review, and positions outside
a trip (refused without consent). Keys are checked exactly as everywhere else,
with the API's own dependencies (``socialcredit.plugins.api``)."""

# No `from __future__ import annotations`: FastAPI reads these annotations.

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from socialcredit.domain.access import AccessDenied, may_report, may_review, require
from socialcredit.domain.text import MAX_NAME_LENGTH
from socialcredit.pilots.mobility.service import (
    LocationRefused,
    mobility_of,
    report_view,
    trip_view,
)
from socialcredit.pilots.mobility.trips import MAX_TRIP_ID
from socialcredit.plugins.api import (
    Caller,
    Id,
    Line,
    LineMoment,
    Reference,
    Statement,
    Svc,
    actor,
    problem,
)

Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


class TripBody(BaseModel):
    """One trip as the operator reports it when it ends."""

    id: Annotated[
        str, Field(min_length=1, max_length=MAX_TRIP_ID, pattern=r"^[^\s\x00-\x1f\x7f]+$")
    ]
    scheme: Line
    rider: Line
    bike: Line
    started_at: LineMoment
    ended_at: LineMoment
    start_lon: Longitude
    start_lat: Latitude
    end_lon: Longitude
    end_lat: Latitude


class ReportBody(BaseModel):
    """A rider's report of another trip's bad parking."""

    trip: Line
    statement: Statement
    photo: Reference | None = None


class Decision(BaseModel):
    reason: Statement


class PositionBody(BaseModel):
    """A position outside any trip: refused unless the rider consented."""

    rider: Line
    scheme: Line
    lon: Longitude
    lat: Latitude
    at: LineMoment | None = None


router = APIRouter(prefix="/mobility", tags=["mobility"])


@router.post("/trips", status_code=201)
async def trip(body: TripBody, who: Caller, services: Svc) -> JSONResponse:
    """One trip (a reporter of the scheme's authority): the end gets a
    verdict, the verdict a record; precise positions are kept only with the
    rider's consent. 201 kept, 200 already held, 409 conflict, 422 invalid."""
    may_report(who, services.definitions.scheme(body.scheme))
    report = mobility_of(services).import_trips(
        [(1, body.model_dump())], reporter=who.authority, batch_size=1, results=True
    )
    if report.rejected:
        reason = report.rejected[0].reason
        field, _, rule = reason.partition(": ")
        status = 409 if "(conflict)" in rule else 422
        return problem(status, reason, [{"field": field, "rule": rule}])
    [result] = report.results or []
    return JSONResponse(trip_view(result), status_code=200 if result.duplicate else 201)


@router.post("/zones", status_code=201)
async def zones(
    request: Request,
    who: Caller,
    services: Svc,
    scheme: Annotated[str, Query(min_length=1, max_length=MAX_NAME_LENGTH)],
    kind_property: Annotated[str, Query(min_length=1, max_length=100)] = "kind",
) -> JSONResponse:
    """A new zone set for a scheme, from a GeoJSON FeatureCollection (an admin,
    or a reporter of the scheme's authority)."""
    definition = services.definitions.scheme(scheme)
    if who.role != "admin":
        may_report(who, definition)
    added = mobility_of(services).add_zones(
        scheme, await request.body(), kind_property=kind_property, actor=actor(who)
    )
    body = {
        "scheme": added.scheme,
        "zone_set": added.version,
        "zones": added.zones,
        "by_kind": added.by_kind,
    }
    return JSONResponse(body, status_code=201)


@router.post("/reports", status_code=201)
async def report(body: ReportBody, who: Caller, services: Svc) -> dict[str, Any]:
    """Report another rider's bad parking (a subject key, for its own rider)."""
    require(who, "subject")
    filed = mobility_of(services).reports.file_as(
        who.subject or "", body.trip, body.statement, photo=body.photo, actor=actor(who)
    )
    return report_view(filed, viewer=who.subject)


@router.get("/reports")
async def reports(
    who: Caller,
    services: Svc,
    status: Literal["pending", "verified", "rejected", "all"] = "pending",
) -> list[dict[str, Any]]:
    """Reports, oldest first: an admin sees all, a reviewer those its
    authority answers, a subject those it filed or is named in. Logged."""
    wanted = None if status == "all" else status
    reading: dict[str, Any] = {"actor": actor(who), "status": wanted}
    if who.role == "admin":
        found = mobility_of(services).reports.find(**reading)
    elif who.role == "reviewer" and who.authority:
        found = mobility_of(services).reports.find(authority=who.authority, **reading)
    elif who.role == "subject" and who.subject:
        found = mobility_of(services).reports.find(subject=who.subject, **reading)
    else:
        raise AccessDenied(
            f"a {who.role} key may not list reports; it needs an admin, reviewer or subject key"
        )
    viewer = who.subject if who.role == "subject" else None
    return [report_view(r, viewer) for r in found]


@router.post("/reports/{report_id}/verify")
async def verify(report_id: Id, body: Decision, who: Caller, services: Svc) -> dict[str, Any]:
    """Verify a report (a reviewer of the scheme's authority): the offender
    gets an improper-parking record and the reporter a reward record."""
    rides = mobility_of(services)
    may_review(who, rides.reports.scheme_of(report_id))
    return report_view(rides.reports.verify(report_id, body.reason, actor=actor(who)))


@router.post("/reports/{report_id}/reject")
async def reject(report_id: Id, body: Decision, who: Caller, services: Svc) -> dict[str, Any]:
    """Reject a report (a reviewer of the scheme's authority); nothing is recorded."""
    rides = mobility_of(services)
    may_review(who, rides.reports.scheme_of(report_id))
    return report_view(rides.reports.reject(report_id, body.reason, actor=actor(who)))


@router.post("/positions", status_code=201)
async def position(body: PositionBody, who: Caller, services: Svc) -> JSONResponse:
    """A position outside a trip (a reporter of the scheme's authority):
    403 unless the rider consented to 'background-location'."""
    may_report(who, services.definitions.scheme(body.scheme))
    moment = body.at if body.at is not None else services.clock().isoformat()
    try:
        kept = mobility_of(services).add_position(
            body.rider, body.scheme, body.lon, body.lat, moment, actor=actor(who)
        )
    except LocationRefused as error:
        field, _, rule = str(error).partition(": ")
        return problem(403, str(error), [{"field": field, "rule": rule}])
    kept_until = kept.kept_until.isoformat()
    answer = {"id": kept.id, "kept_until": kept_until, "purpose": kept.purpose}
    return JSONResponse(answer, status_code=201)


def add_routes(app: FastAPI) -> None:
    app.include_router(router)
