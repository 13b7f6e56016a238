"""Trips as an operator reports them, and the record a trip end becomes.

A trip line (CSV row, JSON object, HTTP body) has the fields

    id, rider, bike, started_at, ended_at, start_lon, start_lat, end_lon, end_lat

and optionally ``scheme`` (else the one the import names). A JSON line may give
``start`` and ``end`` as ``[longitude, latitude]`` instead of the four
coordinate fields. Every refusal names the field and the rule, like a record's.

The verdict on the trip end becomes one record in the scheme:

| verdict | category |
|---|---|
| ``normal`` | ``ride-normal`` |
| ``outside-parking`` | ``parking-outside-zone`` |
| ``no-parking`` | ``parking-no-parking-zone`` |

Its id is ``trip:<trip id>``, it occurred when the trip ended, and its evidence
names the verdict, the zone, the zone set and the coarse cell: never a
coordinate. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from socialcredit.domain.intake import CLOCK_SKEW, RecordError
from socialcredit.domain.ledger.chain import canonical
from socialcredit.domain.text import LINE_CONTROL, MAX_NAME_LENGTH
from socialcredit.domain.times import parse_time

if TYPE_CHECKING:
    from socialcredit.pilots.mobility.verdicts import Verdict

TRIP_FIELDS = (
    "id",
    "scheme",
    "rider",
    "bike",
    "started_at",
    "ended_at",
    "start_lon",
    "start_lat",
    "end_lon",
    "end_lat",
)
_JSON_POSITIONS = frozenset({"start", "end"})
_OPTIONAL = frozenset({"scheme", "rider_kind"})
MAX_TRIP_ID = 190  # the record id adds "trip:"
MAX_TEXT = MAX_NAME_LENGTH
_CONTROL = LINE_CONTROL

# The categories a scheme must have to take trips and rider reports.
VERDICT_CATEGORIES: dict[str, str] = {
    "normal": "ride-normal",
    "outside-parking": "parking-outside-zone",
    "no-parking": "parking-no-parking-zone",
}
REPORTED_PARKING = "parking-reported"  # the offender's record when a rider report is verified
REPORT_REWARD = "report-verified"  # the reporter's record
REQUIRED_CATEGORIES = (*VERDICT_CATEGORIES.values(), REPORTED_PARKING, REPORT_REWARD)


@dataclass(frozen=True, slots=True)
class Trip:
    id: str
    scheme: str
    rider: str  # the identifier as sent (hashed before anything is kept)
    rider_kind: str | None
    bike: str
    started_at: datetime
    ended_at: datetime
    start: tuple[float, float]  # (longitude, latitude)
    end: tuple[float, float]


def parse_trip(line: Mapping[str, Any], *, scheme: str | None, now: datetime) -> Trip:
    """The trip a line reports, or a :class:`RecordError` naming field and rule."""
    positions = _JSON_POSITIONS & line.keys()
    allowed = set(TRIP_FIELDS) | _OPTIONAL
    if positions:
        allowed = (allowed - {"start_lon", "start_lat", "end_lon", "end_lat"}) | _JSON_POSITIONS
    unknown = sorted(str(k) for k in line.keys() - allowed)
    if unknown:
        raise RecordError(
            unknown[0], f"is not a field of a trip (fields: {', '.join(TRIP_FIELDS)})"
        )
    trip_id = _text(line, "id", MAX_TRIP_ID)
    if " " in trip_id:
        raise RecordError("id", "must not contain spaces")
    named = line.get("scheme")
    chosen = _text(line, "scheme", MAX_TEXT) if named not in (None, "") else scheme
    if not chosen:
        raise RecordError("scheme", "is required (in the line or for the whole import)")
    rider = _text(line, "rider", MAX_TEXT)
    kind = line.get("rider_kind")
    if kind not in (None, "", "person"):
        raise RecordError("rider_kind", "a rider is a person")
    bike = _text(line, "bike", MAX_TEXT)
    started = parse_time(line.get("started_at"), "started_at")
    ended = parse_time(line.get("ended_at"), "ended_at")
    if ended < started:
        raise RecordError("ended_at", "must not be before started_at")
    if ended > now + CLOCK_SKEW:
        raise RecordError("ended_at", "is in the future")
    if positions:
        start, end = _pair(line, "start"), _pair(line, "end")
    else:
        start = (_coordinate(line, "start_lon", 180.0), _coordinate(line, "start_lat", 90.0))
        end = (_coordinate(line, "end_lon", 180.0), _coordinate(line, "end_lat", 90.0))
    return Trip(trip_id, chosen, rider, "person", bike, started, ended, start, end)


def _text(line: Mapping[str, Any], field: str, limit: int) -> str:
    value = line.get(field)
    if isinstance(value, int) and not isinstance(value, bool) and field in ("id", "bike"):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(field, "is required")
    value = value.strip()
    if len(value) > limit:
        raise RecordError(field, f"must be at most {limit} characters")
    if _CONTROL.search(value):
        raise RecordError(field, "must not contain control characters")
    return value


def _coordinate(line: Mapping[str, Any], field: str, bound: float) -> float:
    value = line.get(field)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            # The value is not echoed: it is (nearly) a position, and rejects are kept.
            raise RecordError(field, "is not a number of degrees") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(field, "is required, a number of degrees")
    number = float(value)
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise RecordError(field, f"must be between -{bound:g} and {bound:g} degrees")
    return number


def _pair(line: Mapping[str, Any], field: str) -> tuple[float, float]:
    value = line.get(field)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise RecordError(field, "must be [longitude, latitude]")
    lon = _coordinate({field: value[0]}, field, 180.0)
    lat = _coordinate({field: value[1]}, field, 90.0)
    return lon, lat


def parse_position(line: Mapping[str, Any], *, now: datetime) -> tuple[float, float, datetime]:
    """A position outside a trip: (longitude, latitude, time), fields ``lon``, ``lat``, ``at``."""
    lon = _coordinate(line, "lon", 180.0)
    lat = _coordinate(line, "lat", 90.0)
    moment = parse_time(line.get("at"), "at")
    if moment > now + CLOCK_SKEW:
        raise RecordError("at", "is in the future")
    return lon, lat, moment


def record_id(trip_id: str) -> str:
    return f"trip:{trip_id}"


def evidence(trip: Trip, verdict: Verdict, zone: str | None, zone_set: int, end_cell: str) -> str:
    where = f"zone {zone}" if zone else "no zone"
    return (
        f"trip {trip.id}, bike {trip.bike}: {verdict} ({where}, zone set {zone_set}), "
        f"ended in cell {end_cell}"
    )


def record_line(
    trip: Trip, verdict: Verdict, zone: str | None, zone_set: int, end_cell: str, reporter: str
) -> dict[str, str]:
    """The record line the verdict becomes (imported like any other record)."""
    line = {
        "id": record_id(trip.id),
        "scheme": trip.scheme,
        "category": VERDICT_CATEGORIES[verdict],
        "subject": trip.rider,
        "occurred_at": trip.ended_at.isoformat(),
        "reporter": reporter,
        "evidence": evidence(trip, verdict, zone, zone_set, end_cell),
    }
    if trip.rider.startswith("ext:"):  # a rider is a person, whatever else the scheme rates
        line["subject_kind"] = "person"
    return line


def fingerprint(trip: Trip, rider_key: str, start_cell: str, end_cell: str) -> str:
    """What tells a repeated trip from a conflicting reuse of its id. Built from
    the coarse cells, never the coordinates: a hash of a position is no
    better hidden than the position, since positions are few enough to try."""
    sent = canonical(
        (
            trip.scheme,
            rider_key,
            trip.bike,
            trip.started_at.isoformat(),
            trip.ended_at.isoformat(),
            start_cell,
            end_cell,
        )
    )
    return hashlib.sha256(sent.encode()).hexdigest()[:32]


__all__ = [
    "REPORTED_PARKING",
    "REPORT_REWARD",
    "REQUIRED_CATEGORIES",
    "TRIP_FIELDS",
    "VERDICT_CATEGORIES",
    "Trip",
    "evidence",
    "fingerprint",
    "parse_position",
    "parse_trip",
    "record_id",
    "record_line",
]
