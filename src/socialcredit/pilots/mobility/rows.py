"""Row shapes of the bike-sharing tables, shared by the store protocol and both stores."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class StoredTrip(NamedTuple):
    """A trip as kept: minimised. The rider is a keyed hash, the positions are
    coarse cells, and the verdict is what the precise end position was used for."""

    subject: str  # keyed hash of the rider
    id: str
    scheme: str
    bike: str
    started_at: datetime
    ended_at: datetime
    start_cell: str
    end_cell: str
    verdict: str
    zone: str | None
    zone_set: int
    record: str
    fingerprint: str
    reporter: str
    imported_at: datetime


class Position(NamedTuple):
    """A precise position, kept only with the subject's consent to ``purpose``
    and only until ``kept_until``."""

    subject: str
    id: str
    trip: str | None  # None: a background position, outside any trip
    kind: str  # "start", "end" or "background"
    lon: float
    lat: float
    at: datetime
    scheme: str
    purpose: str
    recorded_at: datetime
    kept_until: datetime


class ReportEvent(NamedTuple):
    """One step of a rider's report of another trip's parking: filed, verified, rejected."""

    report: str
    n: int
    subject: str  # keyed hash of the reporting rider
    offender: str  # keyed hash of the rider of the reported trip
    trip: str
    scheme: str
    kind: str
    at: datetime
    actor: str
    body: dict[str, Any]


__all__ = ["Position", "ReportEvent", "StoredTrip"]
