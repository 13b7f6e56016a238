"""Bike-sharing rows: zone sets, minimised trips, the precise positions kept
with consent, and rider reports, on the ledger's own database (so that a
trip and its verdict's record land in one transaction).

The plugin's migration 1 adds the tables (core migration 3 added them before
the pilot was a plugin). Zone sets and report events are append-only.
Trips and positions refuse UPDATE but may be deleted: retention and withdrawn
consent remove them (``socialcredit retention run``). Every table that holds
personal data is indexed by subject first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from socialcredit.domain.times import ledger_time
from socialcredit.pilots.mobility.rows import Position, ReportEvent, StoredTrip
from socialcredit.plugins import Database, Index, Migration, Table, Track, chunks, guard, parse

_TABLES = (
    Table(
        "mobility_zones",
        "scheme text, version int, n int, zone text, kind text, geometry text, added_at text, "
        "actor text",
        key=("scheme", "version", "n"),
    ),
    Table(
        "mobility_trips",
        "subject text, id text, scheme text, bike text, started_at text, ended_at text, "
        "start_cell text, end_cell text, verdict text, zone text null, zone_set int, "
        "record text, fingerprint text, reporter text, imported_at text",
    ),
    Index("mobility_trips_by_id", "mobility_trips", "id", unique=True),
    Index("mobility_trips_by_subject", "mobility_trips", "subject, ended_at"),
    Index("mobility_trips_by_scheme", "mobility_trips", "scheme, ended_at"),
    Table(
        "mobility_positions",
        "subject text, id text, trip text null, kind text, lon real, lat real, at text, "
        "scheme text, purpose text, recorded_at text, kept_until text",
    ),
    Index("mobility_positions_by_id", "mobility_positions", "id", unique=True),
    Index("mobility_positions_by_subject", "mobility_positions", "subject"),
    Index("mobility_positions_by_expiry", "mobility_positions", "kept_until"),
    Table(
        "mobility_reports",
        "report text, n int, subject text, offender text, trip text, scheme text, kind text, "
        "at text, actor text, body text",
        key=("report", "n"),
    ),
    Index("mobility_reports_by_subject", "mobility_reports", "subject"),
    Index("mobility_reports_by_offender", "mobility_reports", "offender"),
    Index("mobility_reports_by_trip", "mobility_reports", "trip"),
)
# Zone sets and report events are append-only; trips and positions are never
# changed, but retention and withdrawn consent remove them.
_APPEND_ONLY = ("mobility_zones", "mobility_reports")
_NO_UPDATE = ("mobility_trips", "mobility_positions")


def _statements(dialect: str) -> list[str]:
    statements = [part.create(dialect) for part in _TABLES]
    for table in _APPEND_ONLY:
        statements += guard(table, dialect)
    for table in _NO_UPDATE:
        message = f"{table} rows are never changed, only removed"
        statements += guard(table, dialect, delete=False, message=message)
    return statements


TRACK = Track(
    "mobility",
    (
        Migration(
            1,
            "bike sharing: zone sets, trips, consented positions, rider reports",
            _statements,
            had_with_core=3,
        ),
    ),
)


_TRIP_COLUMNS = (
    "subject, id, scheme, bike, started_at, ended_at, start_cell, end_cell, verdict, zone, "
    "zone_set, record, fingerprint, reporter, imported_at"
)
_POSITION_COLUMNS = (
    "subject, id, trip, kind, lon, lat, at, scheme, purpose, recorded_at, kept_until"
)
_REPORT_COLUMNS = "report, n, subject, offender, trip, scheme, kind, at, actor, body"


def _trip_of(row: Sequence[Any]) -> StoredTrip:
    (
        subject,
        trip_id,
        scheme,
        bike,
        started,
        ended,
        start_cell,
        end_cell,
        verdict,
        zone,
        zone_set,
        record,
        fingerprint,
        reporter,
        imported,
    ) = row
    return StoredTrip(
        subject,
        trip_id,
        scheme,
        bike,
        parse(started),
        parse(ended),
        start_cell,
        end_cell,
        verdict,
        zone,
        int(zone_set),
        record,
        fingerprint,
        reporter,
        parse(imported),
    )


def _position_of(row: Sequence[Any]) -> Position:
    subject, pid, trip, kind, lon, lat, at, scheme, purpose, recorded, kept = row
    return Position(
        subject,
        pid,
        trip,
        kind,
        float(lon),
        float(lat),
        parse(at),
        scheme,
        purpose,
        parse(recorded),
        parse(kept),
    )


def _report_of(row: Sequence[Any]) -> ReportEvent:
    report, n, subject, offender, trip, scheme, kind, at, actor, body = row
    return ReportEvent(
        report, int(n), subject, offender, trip, scheme, kind, parse(at), actor, orjson.loads(body)
    )


class MobilityRows:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._db = database.connection

    # -- zone sets ----------------------------------------------------------------

    def add_zone_set(
        self, scheme: str, zones: Sequence[tuple[str, str, str]], at: datetime, actor: str
    ) -> int:
        """A new version of a scheme's zones: (id, kind, GeoJSON geometry) each."""
        with self._database.transaction():
            (latest,) = self._db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM mobility_zones WHERE scheme = ?", (scheme,)
            ).fetchone()
            version = int(latest) + 1
            self._db.executemany(
                "INSERT INTO mobility_zones VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (scheme, version, n, zone, kind, geometry, ledger_time(at), actor)
                    for n, (zone, kind, geometry) in enumerate(zones, 1)
                ],
            )
        return version

    def zone_set_version(self, scheme: str) -> int | None:
        row = self._db.execute(
            "SELECT MAX(version) FROM mobility_zones WHERE scheme = ?", (scheme,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def zone_set(self, scheme: str) -> tuple[int, list[tuple[str, str, str]]] | None:
        """The scheme's current zones: (version, [(id, kind, geometry)]), or None."""
        row = self._db.execute(
            "SELECT MAX(version) FROM mobility_zones WHERE scheme = ?", (scheme,)
        ).fetchone()
        if row is None or row[0] is None:
            return None
        version = int(row[0])
        rows = self._db.execute(
            "SELECT zone, kind, geometry FROM mobility_zones WHERE scheme = ? AND version = ? "
            "ORDER BY n",
            (scheme, version),
        )
        return version, [(zone, kind, geometry) for zone, kind, geometry in rows]

    # -- trips and positions --------------------------------------------------------

    def add_trips(self, trips: Sequence[StoredTrip], positions: Sequence[Position]) -> None:
        """Keep minimised trips and the positions their riders consented to, together."""
        with self._database.transaction():
            self._db.executemany(
                f"INSERT OR IGNORE INTO mobility_trips ({_TRIP_COLUMNS}) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        t.subject,
                        t.id,
                        t.scheme,
                        t.bike,
                        ledger_time(t.started_at),
                        ledger_time(t.ended_at),
                        t.start_cell,
                        t.end_cell,
                        t.verdict,
                        t.zone,
                        t.zone_set,
                        t.record,
                        t.fingerprint,
                        t.reporter,
                        ledger_time(t.imported_at),
                    )
                    for t in trips
                ],
            )
            self.add_positions(positions)

    def add_positions(self, positions: Sequence[Position]) -> None:
        with self._database.transaction():
            self._db.executemany(
                f"INSERT OR IGNORE INTO mobility_positions ({_POSITION_COLUMNS}) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        p.subject,
                        p.id,
                        p.trip,
                        p.kind,
                        p.lon,
                        p.lat,
                        ledger_time(p.at),
                        p.scheme,
                        p.purpose,
                        ledger_time(p.recorded_at),
                        ledger_time(p.kept_until),
                    )
                    for p in positions
                ],
            )

    def trips_by_id(self, ids: Sequence[str]) -> dict[str, StoredTrip]:
        found: dict[str, StoredTrip] = {}
        for chunk in chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT {_TRIP_COLUMNS} FROM mobility_trips WHERE id IN ({marks})", chunk
            )
            found.update((row[1], _trip_of(row)) for row in rows)
        return found

    def trips_of(self, subject: str) -> list[StoredTrip]:
        rows = self._db.execute(
            f"SELECT {_TRIP_COLUMNS} FROM mobility_trips WHERE subject = ? ORDER BY ended_at, id",
            (subject,),
        )
        return [_trip_of(row) for row in rows]

    def positions_of(self, subject: str) -> list[Position]:
        rows = self._db.execute(
            f"SELECT {_POSITION_COLUMNS} FROM mobility_positions WHERE subject = ? ORDER BY at, id",
            (subject,),
        )
        return [_position_of(row) for row in rows]

    def position_holdings(self) -> list[tuple[str, str, str, str, datetime]]:
        """Every kept position without its coordinates: (id, subject, scheme,
        purpose, kept_until), for retention and consent checks."""
        rows = self._db.execute(
            "SELECT id, subject, scheme, purpose, kept_until FROM mobility_positions"
        )
        return [(pid, s, scheme, purpose, parse(kept)) for pid, s, scheme, purpose, kept in rows]

    def delete_positions(self, ids: Sequence[str]) -> None:
        """Remove precise positions; on SQLite their bytes are overwritten too
        (``secure_delete``), so that nothing is left in free pages."""
        with self._database.transaction():
            self._database.secure_delete()
            for chunk in chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                self._db.execute(f"DELETE FROM mobility_positions WHERE id IN ({marks})", chunk)

    def trips_ended_before(self, scheme: str, moment: datetime) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM mobility_trips WHERE scheme = ? AND ended_at <= ?",
            (scheme, ledger_time(moment)),
        )
        return [trip_id for (trip_id,) in rows]

    def delete_trips(self, ids: Sequence[str]) -> None:
        with self._database.transaction():
            for chunk in chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                self._db.execute(f"DELETE FROM mobility_trips WHERE id IN ({marks})", chunk)

    def forget_trip_of(self, record_id: str) -> int:
        """Delete the trip a verdict record was made from, and its precise positions:
        erasing the record must not leave its trip behind. Returns trips deleted."""
        with self._database.transaction():
            trips = [
                t
                for (t,) in self._db.execute(
                    "SELECT id FROM mobility_trips WHERE record = ?", (record_id,)
                ).fetchall()
            ]
            if not trips:
                return 0
            held = [
                p
                for (p,) in self._db.execute(
                    f"SELECT id FROM mobility_positions WHERE trip IN ({','.join('?' * len(trips))})",
                    trips,
                ).fetchall()
            ]
            if held:
                self.delete_positions(held)
            self.delete_trips(trips)
        return len(trips)

    # -- rider reports ------------------------------------------------------------------

    def add_report_event(self, event: ReportEvent) -> None:
        e = event
        with self._database.transaction():
            self._db.execute(
                f"INSERT INTO mobility_reports ({_REPORT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    e.report,
                    e.n,
                    e.subject,
                    e.offender,
                    e.trip,
                    e.scheme,
                    e.kind,
                    ledger_time(e.at),
                    e.actor,
                    orjson.dumps(e.body).decode(),
                ),
            )

    def report_events(
        self, report: str | None = None, *, trip: str | None = None, subject: str | None = None
    ) -> list[ReportEvent]:
        """Report events of one report, of reports on one trip, of one subject (as
        reporter or offender), or all; in order."""
        sql = f"SELECT {_REPORT_COLUMNS} FROM mobility_reports"
        if report is not None:
            rows = self._db.execute(sql + " WHERE report = ? ORDER BY n", (report,))
        elif trip is not None:
            rows = self._db.execute(sql + " WHERE trip = ? ORDER BY report, n", (trip,))
        elif subject is not None:
            rows = self._db.execute(
                sql + " WHERE subject = ? OR offender = ? ORDER BY report, n", (subject, subject)
            )
        else:
            rows = self._db.execute(sql + " ORDER BY report, n")
        return [_report_of(row) for row in rows]


__all__ = ["TRACK", "MobilityRows"]
