"""Bike-sharing rows, shared by both stores: zone sets, minimised trips, the
precise positions kept with consent, and rider reports. Mixed into
:class:`SQLiteStore` (and so into the PostgreSQL store), which supplies the
connection and the write transactions.

Migration 3 adds the tables. Zone sets and report events are append-only.
Trips and positions refuse UPDATE but may be deleted: retention and withdrawn
consent remove them (``socialcredit retention run``). Every table that holds
personal data is indexed by subject first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from socialcredit.mobility.rows import Position, ReportEvent, StoredTrip
from socialcredit.store.common import chunks, iso, parse

_TABLES = """
CREATE TABLE IF NOT EXISTS mobility_zones (
    scheme TEXT NOT NULL, version INTEGER NOT NULL, n INTEGER NOT NULL, zone TEXT NOT NULL,
    kind TEXT NOT NULL, geometry TEXT NOT NULL, added_at TEXT NOT NULL, actor TEXT NOT NULL,
    PRIMARY KEY (scheme, version, n)
);
CREATE TABLE IF NOT EXISTS mobility_trips (
    subject TEXT NOT NULL, id TEXT NOT NULL, scheme TEXT NOT NULL, bike TEXT NOT NULL,
    started_at TEXT NOT NULL, ended_at TEXT NOT NULL, start_cell TEXT NOT NULL,
    end_cell TEXT NOT NULL, verdict TEXT NOT NULL, zone TEXT, zone_set INTEGER NOT NULL,
    record TEXT NOT NULL, fingerprint TEXT NOT NULL, reporter TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS mobility_trips_by_id ON mobility_trips (id);
CREATE INDEX IF NOT EXISTS mobility_trips_by_subject ON mobility_trips (subject, ended_at);
CREATE INDEX IF NOT EXISTS mobility_trips_by_scheme ON mobility_trips (scheme, ended_at);
CREATE TABLE IF NOT EXISTS mobility_positions (
    subject TEXT NOT NULL, id TEXT NOT NULL, trip TEXT, kind TEXT NOT NULL,
    lon REAL NOT NULL, lat REAL NOT NULL, at TEXT NOT NULL, scheme TEXT NOT NULL,
    purpose TEXT NOT NULL, recorded_at TEXT NOT NULL, kept_until TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS mobility_positions_by_id ON mobility_positions (id);
CREATE INDEX IF NOT EXISTS mobility_positions_by_subject ON mobility_positions (subject);
CREATE INDEX IF NOT EXISTS mobility_positions_by_expiry ON mobility_positions (kept_until);
CREATE TABLE IF NOT EXISTS mobility_reports (
    report TEXT NOT NULL, n INTEGER NOT NULL, subject TEXT NOT NULL, offender TEXT NOT NULL,
    trip TEXT NOT NULL, scheme TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,
    actor TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (report, n)
);
CREATE INDEX IF NOT EXISTS mobility_reports_by_subject ON mobility_reports (subject);
CREATE INDEX IF NOT EXISTS mobility_reports_by_offender ON mobility_reports (offender);
CREATE INDEX IF NOT EXISTS mobility_reports_by_trip ON mobility_reports (trip)
"""
_APPEND_ONLY = ("mobility_zones", "mobility_reports")
_NO_UPDATE = ("mobility_trips", "mobility_positions")


def _tables() -> list[str]:
    return [s.strip() for s in _TABLES.split(";") if s.strip()]


def sqlite_statements() -> list[str]:
    """Migration 3 for SQLite."""
    triggers = [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for table in _APPEND_ONLY
        for verb in ("UPDATE", "DELETE")
    ] + [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} rows are never changed, only removed'); END"
        for table in _NO_UPDATE
    ]
    return [*_tables(), *triggers]


def postgres_statements() -> list[str]:
    """Migration 3 for PostgreSQL: the same tables (coordinates as double
    precision: PostgreSQL's REAL has only six digits) and the same triggers."""
    tables = [s.replace(" REAL ", " DOUBLE PRECISION ") for s in _tables()]
    triggers = [
        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE "
        f"{'UPDATE OR DELETE' if table in _APPEND_ONLY else 'UPDATE'} ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION socialcredit_append_only()"
        for table in (*_APPEND_ONLY, *_NO_UPDATE)
    ]
    return [*tables, *triggers]


_TRIP_COLUMNS = (
    "subject, id, scheme, bike, started_at, ended_at, start_cell, end_cell, verdict, zone, "
    "zone_set, record, fingerprint, reporter, imported_at"
)
_POSITION_COLUMNS = (
    "subject, id, trip, kind, lon, lat, at, scheme, purpose, recorded_at, kept_until"
)
_REPORT_COLUMNS = "report, n, subject, offender, trip, scheme, kind, at, actor, body"


def _trip_of(row: Sequence[Any]) -> StoredTrip:
    (subject, trip_id, scheme, bike, started, ended, start_cell, end_cell, verdict, zone,
     zone_set, record, fingerprint, reporter, imported) = row  # fmt: skip
    return StoredTrip(subject, trip_id, scheme, bike, parse(started), parse(ended), start_cell,
                      end_cell, verdict, zone, int(zone_set), record, fingerprint, reporter,
                      parse(imported))  # fmt: skip


def _position_of(row: Sequence[Any]) -> Position:
    subject, pid, trip, kind, lon, lat, at, scheme, purpose, recorded, kept = row
    return Position(subject, pid, trip, kind, float(lon), float(lat), parse(at), scheme, purpose,
                    parse(recorded), parse(kept))  # fmt: skip


def _report_of(row: Sequence[Any]) -> ReportEvent:
    report, n, subject, offender, trip, scheme, kind, at, actor, body = row
    return ReportEvent(report, int(n), subject, offender, trip, scheme, kind, parse(at), actor,
                       orjson.loads(body))  # fmt: skip


class MobilityRows:
    _db: sqlite3.Connection  # or the PostgreSQL store's look-alike

    def _write(self) -> Any:  # supplied by the store
        raise NotImplementedError

    # -- zone sets ----------------------------------------------------------------

    def add_zone_set(
        self, scheme: str, zones: Sequence[tuple[str, str, str]], at: datetime, actor: str
    ) -> int:
        """A new version of a scheme's zones: (id, kind, GeoJSON geometry) each."""
        with self._write():
            (latest,) = self._db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM mobility_zones WHERE scheme = ?", (scheme,)
            ).fetchone()
            version = int(latest) + 1
            self._db.executemany(
                "INSERT INTO mobility_zones VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(scheme, version, n, zone, kind, geometry, iso(at), actor)
                 for n, (zone, kind, geometry) in enumerate(zones, 1)],
            )  # fmt: skip
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
        with self._write():
            self._db.executemany(
                f"INSERT OR IGNORE INTO mobility_trips ({_TRIP_COLUMNS}) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(t.subject, t.id, t.scheme, t.bike, iso(t.started_at), iso(t.ended_at),
                  t.start_cell, t.end_cell, t.verdict, t.zone, t.zone_set, t.record,
                  t.fingerprint, t.reporter, iso(t.imported_at)) for t in trips],
            )  # fmt: skip
            self.add_positions(positions)

    def add_positions(self, positions: Sequence[Position]) -> None:
        with self._write():
            self._db.executemany(
                f"INSERT OR IGNORE INTO mobility_positions ({_POSITION_COLUMNS}) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?)",
                [(p.subject, p.id, p.trip, p.kind, p.lon, p.lat, iso(p.at), p.scheme, p.purpose,
                  iso(p.recorded_at), iso(p.kept_until)) for p in positions],
            )  # fmt: skip

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
        with self._write():
            if getattr(self, "dialect", "sqlite") == "sqlite":
                self._db.execute("PRAGMA secure_delete = ON")
            for chunk in chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                self._db.execute(f"DELETE FROM mobility_positions WHERE id IN ({marks})", chunk)

    def trips_ended_before(self, scheme: str, moment: datetime) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM mobility_trips WHERE scheme = ? AND ended_at <= ?",
            (scheme, iso(moment)),
        )
        return [trip_id for (trip_id,) in rows]

    def delete_trips(self, ids: Sequence[str]) -> None:
        with self._write():
            for chunk in chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                self._db.execute(f"DELETE FROM mobility_trips WHERE id IN ({marks})", chunk)

    def forget_trip_of(self, record_id: str) -> int:
        """Delete the trip a verdict record was made from, and its precise positions:
        erasing the record must not leave its trip behind. Returns trips deleted."""
        with self._write():
            trips = [t for (t,) in self._db.execute(
                "SELECT id FROM mobility_trips WHERE record = ?", (record_id,)
            ).fetchall()]  # fmt: skip
            if not trips:
                return 0
            held = [p for (p,) in self._db.execute(
                f"SELECT id FROM mobility_positions WHERE trip IN ({','.join('?' * len(trips))})",
                trips,
            ).fetchall()]  # fmt: skip
            if held:
                self.delete_positions(held)
            self.delete_trips(trips)
        return len(trips)

    # -- rider reports ------------------------------------------------------------------

    def add_report_event(self, event: ReportEvent) -> None:
        e = event
        with self._write():
            self._db.execute(
                f"INSERT INTO mobility_reports ({_REPORT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (e.report, e.n, e.subject, e.offender, e.trip, e.scheme, e.kind, iso(e.at),
                 e.actor, orjson.dumps(e.body).decode()),
            )  # fmt: skip

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


__all__ = ["MobilityRows", "postgres_statements", "sqlite_statements"]
