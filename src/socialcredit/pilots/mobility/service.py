"""Bike sharing as use cases over a ledger: zones, trips, rider reports,
background positions and their purge (docs/mobility.md).

Like the core's use cases, this loads values, asks the pure modules
(``zones``, ``verdicts``, ``cells``, ``trips``) what follows, and writes back
only what may be kept:

- a trip is kept **minimised**: the rider's keyed hash, the bike, the times,
  the coarse cells of start and end, the verdict and the zone. The precise
  coordinates are used for the verdict and then dropped;
- precise coordinates are kept only for a rider with active consent to the
  scheme's ``precise-location`` purpose (and only where the scheme's
  ``location.precision`` is ``precise``), until the scheme's retention ends;
- a position outside a trip (a *background* position) is refused unless the
  scheme takes them and the rider consents to ``background-location``;
- the verdict becomes a record through the ledger's own import
  (``services.imports``), so consent, idempotency and the hash chain apply to
  it like to any record.

numpy and shapely (the ``mobility`` extra) load only with zones and trips;
reports, positions, retention and the export run without them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialcredit import Services
from socialcredit.domain.consent import active_at as consent_active
from socialcredit.domain.identity import IdentifierError
from socialcredit.domain.intake import RecordError
from socialcredit.domain.ledger.values import Progress, SubjectRow
from socialcredit.domain.schemes.models import Scheme
from socialcredit.domain.times import iso
from socialcredit.errors import Forbidden, UsageError
from socialcredit.pilots.mobility.reports import RiderReports, report_view
from socialcredit.pilots.mobility.rows import Position, StoredTrip
from socialcredit.pilots.mobility.store import MobilityRows
from socialcredit.pilots.mobility.trips import (
    REQUIRED_CATEGORIES,
    Trip,
    fingerprint,
    parse_position,
    parse_trip,
    record_id,
    record_line,
)
from socialcredit.plugins import ImportReport, Rejection, time_ordered_id

if TYPE_CHECKING:
    from socialcredit.pilots.mobility.verdicts import Verdict, ZoneIndex

PRECISE = "precise-location"  # the purpose a rider consents to for exact trip ends to be kept
BACKGROUND = "background-location"  # ... and for positions outside a trip to be taken at all
TRIP_BATCH = 10_000


class LocationRefused(Forbidden):
    """A position the scheme may not take: no consent, or it takes none."""


@dataclass(frozen=True, slots=True)
class ZoneSetAdded:
    scheme: str
    version: int
    zones: int
    by_kind: dict[str, int]


@dataclass(frozen=True, slots=True)
class TripResult:
    """One trip that was kept (or was already held)."""

    line: int
    trip: str
    verdict: str
    zone: str | None
    start_cell: str
    end_cell: str
    record: str
    precise_kept: bool
    duplicate: bool


@dataclass(slots=True)
class TripReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    precise_kept: int = 0
    results: list[TripResult] | None = None  # each trip's outcome, when asked for


def mobility_of(services: Services) -> Mobility:
    """The ledger's bike-share service (built once, by the plugin's ``register_services``)."""
    found = services.plugin("mobility")
    assert isinstance(found, Mobility)
    return found


class Mobility:
    """The bike share's use cases, over the ledger's services and the plugin's own rows."""

    def __init__(self, services: Services) -> None:
        self._uow = services.uow
        self._subjects = services.subjects
        self._consents = services.consents
        self._definitions = services.definitions
        self._imports = services.imports
        self.rows = MobilityRows(services.uow.database)
        self.reports = RiderReports(services, self.rows)
        # Zone indexes per scheme, kept while the zone set is current.
        self._indexes: dict[str, tuple[int, ZoneIndex]] = {}

    # -- zones ------------------------------------------------------------------------

    def add_zones(
        self,
        scheme_id: str,
        source: str | bytes | Mapping[str, Any],
        *,
        kind_property: str = "kind",
        actor: str,
    ) -> ZoneSetAdded:
        """A new zone set for a scheme (a GeoJSON FeatureCollection); trips
        imported from now on are judged against it. A ZoneError names the
        feature and rule of anything wrong, and nothing is added."""
        from socialcredit.pilots.mobility.zones import parse_zones

        self._mobility_scheme(scheme_id)
        zones = parse_zones(source, kind_property=kind_property)
        rows = [(z.id, z.kind, z.geojson()) for z in zones]
        version = self.rows.add_zone_set(scheme_id, rows, self._uow.clock(), actor)
        return ZoneSetAdded(scheme_id, version, len(zones), dict(Counter(z.kind for z in zones)))

    def zone_index(self, scheme_id: str) -> tuple[int, ZoneIndex]:
        """The scheme's current zones, indexed (kept while they stay current)."""
        from socialcredit.pilots.mobility.verdicts import ZoneIndex
        from socialcredit.pilots.mobility.zones import zones_from_rows

        version = self.rows.zone_set_version(scheme_id)
        if version is None:
            raise UsageError(
                f"scheme: {scheme_id!r} has no zones yet: import them first "
                "(socialcredit mobility zones import FILE --scheme ID)"
            )
        cached = self._indexes.get(scheme_id)
        if cached is None or cached[0] != version:
            held = self.rows.zone_set(scheme_id)
            assert held is not None
            cached = self._indexes[scheme_id] = (held[0], ZoneIndex(zones_from_rows(held[1])))
        return cached

    # -- trips --------------------------------------------------------------------------

    def import_file(
        self,
        path: str | Path,
        *,
        scheme: str | None = None,
        reporter: str | None = None,
        progress: Progress | None = None,
    ) -> TripReport:
        """Import a CSV or JSON Lines file of trips."""
        lines = self._imports.files.read(Path(path))
        return self.import_trips(lines, scheme=scheme, reporter=reporter, progress=progress)

    def import_trips(
        self,
        lines: Iterable[tuple[int, Mapping[str, Any] | str]],
        *,
        scheme: str | None = None,
        reporter: str | None = None,
        progress: Progress | None = None,
        batch_size: int = TRIP_BATCH,
        results: bool = False,
    ) -> TripReport:
        """Validate trips, judge their ends, append each verdict's record and
        keep each trip minimised. ``reporter`` defaults to the scheme's authority.
        Good lines are kept whatever the bad ones do; with ``results``, the
        report lists each kept trip's verdict and cells (for one-at-a-time callers)."""
        report = TripReport(results=[] if results else None)
        batch: list[tuple[int, Mapping[str, Any] | str]] = []
        for item in lines:
            batch.append(item)
            if len(batch) >= batch_size:
                self._batch(batch, scheme, reporter, report)
                if progress is not None:
                    progress(len(batch))
                batch = []
        if batch:
            self._batch(batch, scheme, reporter, report)
            if progress is not None:
                progress(len(batch))
        report.rejected.sort(key=lambda r: r.line)
        return report

    def _batch(
        self,
        lines: Sequence[tuple[int, Mapping[str, Any] | str]],
        scheme: str | None,
        reporter: str | None,
        report: TripReport,
    ) -> None:
        now = self._uow.clock()
        parsed: list[tuple[int, Trip, SubjectRow]] = []
        seen: dict[str, int] = {}
        for number, fields in lines:
            if isinstance(fields, str):
                report.rejected.append(Rejection(number, None, fields))
                continue
            trip_id = fields.get("id") if isinstance(fields.get("id"), str) else None
            try:
                trip = parse_trip(fields, scheme=scheme, now=now)
                self._mobility_scheme(trip.scheme)
                rider = self._rider(trip.rider)
            except RecordError as error:
                report.rejected.append(Rejection(number, trip_id, str(error)))
                continue
            except UsageError as error:
                report.rejected.append(Rejection(number, trip_id, str(error)))
                continue
            if trip.id in seen:
                report.rejected.append(
                    Rejection(
                        number,
                        trip.id,
                        f"id: trip {trip.id!r} is repeated in this import (first on line {seen[trip.id]})",
                    )
                )
                continue
            seen[trip.id] = number
            parsed.append((number, trip, rider))
        if not parsed:
            return
        from socialcredit.pilots.mobility import cells as cellmath

        held = self.rows.trips_by_id([trip.id for _, trip, _ in parsed])
        fresh: dict[str, list[tuple[int, Trip, SubjectRow]]] = {}
        zoned: dict[str, str | None] = {}  # scheme -> why it cannot judge (None: it can)
        for number, trip, rider in parsed:
            stored = held.get(trip.id)
            if stored is not None:
                cells = cellmath.cell(*trip.start), cellmath.cell(*trip.end)
                if stored.fingerprint == fingerprint(trip, rider.key, *cells):
                    report.duplicates += 1
                    if report.results is not None:
                        report.results.append(
                            TripResult(
                                number,
                                trip.id,
                                stored.verdict,
                                stored.zone,
                                stored.start_cell,
                                stored.end_cell,
                                stored.record,
                                False,
                                True,
                            )
                        )
                else:
                    report.rejected.append(
                        Rejection(
                            number,
                            trip.id,
                            (
                                f"id: trip {trip.id!r} was already imported with other contents (conflict)"
                            ),
                        )
                    )
                continue
            if trip.scheme not in zoned:
                try:
                    self.zone_index(trip.scheme)
                    zoned[trip.scheme] = None
                except UsageError as error:
                    zoned[trip.scheme] = str(error)
            if zoned[trip.scheme] is not None:
                report.rejected.append(Rejection(number, trip.id, str(zoned[trip.scheme])))
                continue
            fresh.setdefault(trip.scheme, []).append((number, trip, rider))
        for scheme_id, group in fresh.items():
            self._judge_and_keep(scheme_id, group, reporter, now, report)

    def _judge_and_keep(
        self,
        scheme_id: str,
        group: list[tuple[int, Trip, SubjectRow]],
        reporter: str | None,
        now: datetime,
        report: TripReport,
    ) -> None:
        import numpy as np

        from socialcredit.pilots.mobility import cells as cellmath
        from socialcredit.pilots.mobility.verdicts import VERDICTS

        definition = self._definitions.registry.history(scheme_id).current.definition
        zone_set, index = self.zone_index(scheme_id)
        ends = np.array([trip.end for _, trip, _ in group], dtype=np.float64)
        starts = np.array([trip.start for _, trip, _ in group], dtype=np.float64)
        codes, found = index.judge(ends[:, 0], ends[:, 1])
        end_cells = cellmath.cells(ends[:, 0], ends[:, 1])
        start_cells = cellmath.cells(starts[:, 0], starts[:, 1])
        del ends, starts  # from here on, coordinates travel only towards consented positions
        by = reporter or definition.authority.id
        lines: list[tuple[int, Mapping[str, Any] | str]] = []
        judged: dict[int, tuple[Trip, SubjectRow, Verdict, str | None, str, str]] = {}
        for position, (number, trip, rider) in enumerate(group):
            verdict: Verdict = VERDICTS[int(codes[position])]
            zone = index.zones[int(found[position])].id if found[position] >= 0 else None
            start_cell, end_cell = str(start_cells[position]), str(end_cells[position])
            lines.append((number, record_line(trip, verdict, zone, zone_set, end_cell, by)))
            judged[number] = (trip, rider, verdict, zone, start_cell, end_cell)
        # The verdict records and the trips land together, or not at all.
        with self._uow.transaction():
            imported: ImportReport = self._imports.import_records(lines)
            refused = {r.line: r for r in imported.rejected}
            report.rejected.extend(refused.values())
            duplicates = set(imported.duplicate_lines)
            consenting = self._consenting(
                definition, [j[1] for n, j in judged.items() if n not in refused], now
            )
            trips: list[StoredTrip] = []
            positions: list[Position] = []
            for number, (trip, rider, verdict, zone, start_cell, end_cell) in judged.items():
                if number in refused:
                    continue
                keep = rider.key in consenting and consent_active(
                    consenting[rider.key], trip.ended_at
                )
                trips.append(
                    StoredTrip(
                        rider.key,
                        trip.id,
                        scheme_id,
                        trip.bike,
                        trip.started_at,
                        trip.ended_at,
                        start_cell,
                        end_cell,
                        verdict,
                        zone,
                        zone_set,
                        record_id(trip.id),
                        fingerprint(trip, rider.key, start_cell, end_cell),
                        by,
                        now,
                    )
                )
                if keep:
                    until = definition.retention.after(trip.ended_at)
                    for kind, (lon, lat), moment in (
                        ("start", trip.start, trip.started_at),
                        ("end", trip.end, trip.ended_at),
                    ):
                        positions.append(
                            Position(
                                rider.key,
                                f"{trip.id}:{kind}",
                                trip.id,
                                kind,
                                lon,
                                lat,
                                moment,
                                scheme_id,
                                PRECISE,
                                now,
                                until,
                            )
                        )
                report.verdicts[verdict] += 1
                report.precise_kept += int(keep)
                if number in duplicates:
                    report.duplicates += 1
                else:
                    report.accepted += 1
                if report.results is not None:
                    report.results.append(
                        TripResult(
                            number,
                            trip.id,
                            verdict,
                            zone,
                            start_cell,
                            end_cell,
                            record_id(trip.id),
                            keep,
                            number in duplicates,
                        )
                    )
            if trips:
                self.rows.add_trips(trips, positions)

    def _consenting(
        self, scheme: Scheme, riders: Sequence[SubjectRow], now: datetime
    ) -> dict[str, list[tuple[datetime, datetime | None]]]:
        """Riders whose precise trip ends the scheme may keep: those with active
        consent to ``precise-location`` now (and, per trip, when it ended)."""
        location = scheme.location
        if location is None or location.precision != "precise" or PRECISE not in scheme.purposes:
            return {}
        found = {}
        for rider in {r.key: r for r in riders}.values():
            spans = self._consents.periods(rider.key, scheme.id, PRECISE)
            if consent_active(spans, now):
                found[rider.key] = spans
        return found

    def _rider(self, identifier: str) -> SubjectRow:
        try:
            rider = self._subjects.identify(identifier, "person")
        except IdentifierError as error:
            raise RecordError("rider", str(error)) from None
        if rider.kind != "person":
            raise RecordError("rider", f"{rider.masked} is a {rider.kind}: a rider is a person")
        return rider

    def _mobility_scheme(self, scheme_id: str) -> Scheme:
        history = self._definitions.registry.schemes.get(scheme_id)
        if history is None:
            known = ", ".join(sorted(self._definitions.registry.schemes)) or "none yet"
            raise UsageError(f"scheme: unknown scheme {scheme_id!r} (known: {known})")
        missing = [c for c in REQUIRED_CATEGORIES if c not in history.current.categories]
        if missing:
            raise UsageError(
                f"scheme: {scheme_id!r} cannot take trips: it lacks the categories "
                f"{', '.join(missing)} (docs/mobility.md)"
            )
        return history.current.definition

    # -- background positions ------------------------------------------------------------

    def add_position(
        self, identifier: str, scheme_id: str, lon: Any, lat: Any, at: Any, *, actor: str
    ) -> Position:
        """A position outside any trip: refused unless the scheme takes such
        positions and the rider consents to ``background-location``, both now and
        at the position's time."""
        scheme = self._mobility_scheme(scheme_id)
        lon_, lat_, moment = parse_position(
            {"lon": lon, "lat": lat, "at": at}, now=self._uow.clock()
        )
        rider = self._rider(identifier)
        location = scheme.location
        if location is None or not location.background:
            raise LocationRefused(
                f"scheme: {scheme_id!r} takes no positions outside trips "
                "(its location.background is not true)"
            )
        if BACKGROUND not in scheme.purposes:
            raise LocationRefused(
                f"consent: {scheme_id!r} asks no consent for {BACKGROUND!r}, so it may take no "
                "position outside a trip (GDPR art. 6(1)(a))"
            )
        now = self._uow.clock()
        spans = self._consents.periods(rider.key, scheme_id, BACKGROUND)
        if not (consent_active(spans, now) and consent_active(spans, moment)):
            raise LocationRefused(
                f"consent: {rider.masked} has no active consent to {scheme_id!r} for "
                f"{BACKGROUND!r}, both at the position's time and now: positions outside a "
                "trip are refused without it (GDPR art. 6(1)(a))"
            )
        position = Position(
            rider.key,
            f"bg-{time_ordered_id()}",
            None,
            "background",
            lon_,
            lat_,
            moment,
            scheme_id,
            BACKGROUND,
            now,
            scheme.retention.after(moment),
        )
        with self._uow.transaction():
            self._subjects.hold(rider)
            self.rows.add_positions([position])
        return position

    # -- retention ------------------------------------------------------------------------

    def purge(self, *, apply: bool, now: datetime | None = None) -> dict[str, int]:
        """Precise positions past their ``kept_until`` or whose consent was
        withdrawn, and minimised trips past their scheme's retention: counted,
        and removed with ``apply``."""
        moment = now or self._uow.clock()
        expired, withdrawn = [], []
        consented: dict[tuple[str, str, str], bool] = {}
        for pid, subject, scheme_id, purpose, kept_until in self.rows.position_holdings():
            if kept_until <= moment:
                expired.append(pid)
                continue
            asked = (subject, scheme_id, purpose)
            if asked not in consented:
                spans = self._consents.periods(subject, scheme_id, purpose)
                consented[asked] = consent_active(spans, moment)
            if not consented[asked]:
                withdrawn.append(pid)
        old_trips: list[str] = []
        for scheme_id, history in sorted(self._definitions.registry.schemes.items()):
            cutoff = history.current.definition.retention.before(moment)
            old_trips.extend(self.rows.trips_ended_before(scheme_id, cutoff))
        if apply:
            with self._uow.transaction():
                self.rows.delete_positions(expired + withdrawn)
                self.rows.delete_trips(old_trips)
        return {
            "positions_expired": len(expired),
            "positions_withdrawn": len(withdrawn),
            "trips": len(old_trips),
        }

    # -- the access export ------------------------------------------------------------------

    def export(self, subject: SubjectRow) -> dict[str, Any]:
        """What is held about a rider's movements (GDPR art. 15): only for the
        ``export_section`` hook, whose caller (the core's access export) logs
        the read. Not logged here, so nothing else may call it."""
        return {
            "trips": [trip_export(t) for t in self.rows.trips_of(subject.key)],
            "precise_positions": [position_export(p) for p in self.rows.positions_of(subject.key)],
            "reports": [report_view(r) for r in self.reports.matching(subject=subject.key)],
        }


def trip_export(trip: StoredTrip) -> dict[str, Any]:
    t = trip
    return {
        "id": t.id,
        "scheme": t.scheme,
        "bike": t.bike,
        "started_at": iso(t.started_at),
        "ended_at": iso(t.ended_at),
        "start_cell": t.start_cell,
        "end_cell": t.end_cell,
        "verdict": t.verdict,
        "zone": t.zone,
        "zone_set": t.zone_set,
        "record": t.record,
    }


def position_export(position: Position) -> dict[str, Any]:
    p = position
    return {
        "id": p.id,
        "trip": p.trip,
        "kind": p.kind,
        "lon": p.lon,
        "lat": p.lat,
        "at": iso(p.at),
        "scheme": p.scheme,
        "purpose": p.purpose,
        "kept_until": iso(p.kept_until),
    }


def trip_view(result: TripResult) -> dict[str, Any]:
    return {
        "trip": result.trip,
        "verdict": result.verdict,
        "zone": result.zone,
        "start_cell": result.start_cell,
        "end_cell": result.end_cell,
        "record": result.record,
        "precise_kept": result.precise_kept,
        "duplicate": result.duplicate,
    }


__all__ = [
    "BACKGROUND",
    "PRECISE",
    "LocationRefused",
    "Mobility",
    "TripReport",
    "TripResult",
    "ZoneSetAdded",
    "mobility_of",
    "trip_view",
]
