"""Bike sharing on a real ledger (issue 5): trips judged against zones, the
minimisation of location, consented positions and their purge, background
positions, price factors at every band boundary, rider reports, and contests
of a verdict. Real SQLite files (or PostgreSQL databases), real GeoJSON."""

from __future__ import annotations

import json
import os
import random
import struct
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ledger_support import at, line, numbered, people, shipped_system

from socialcredit.adapters.shipped import shipped_schemes_dir
from socialcredit.bootstrap import Services
from socialcredit.config import TEST_SERVER_ENV
from socialcredit.entrypoints.views import export_view, retention_view
from socialcredit.errors import NotFound, UsageError
from socialcredit.pilots.mobility.demo import run_bike_share
from socialcredit.pilots.mobility.service import LocationRefused
from socialcredit.pilots.mobility.zones import ZoneError

NOW = at(2025, 6, 15, 12)
MAY = at(2025, 5, 10, 8)

# Zones near Rongcheng. The coordinates of trip ends below are distinctive, so
# that a scan of the database can look for them.
BAY = [[122.40, 37.15], [122.41, 37.15], [122.41, 37.16], [122.40, 37.16], [122.40, 37.15]]
COMPOUND = [[122.42, 37.15], [122.43, 37.15], [122.43, 37.16], [122.42, 37.16], [122.42, 37.15]]
ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"id": "bay-1", "kind": "parking"},
            "geometry": {"type": "Polygon", "coordinates": [BAY]},
        },
        {
            "type": "Feature",
            "properties": {"id": "compound-1", "kind": "no-parking"},
            "geometry": {"type": "Polygon", "coordinates": [COMPOUND]},
        },
    ],
}
IN_BAY = (122.403217, 37.153889)
IN_COMPOUND = (122.427531, 37.158642)
NOWHERE = (122.451973, 37.171204)
START = (122.405511, 37.151733)
COORDINATES = [*IN_BAY, *IN_COMPOUND, *NOWHERE, *START]


def trip(
    trip_id: str, rider: str, end: tuple[float, float], ended: datetime = MAY, **extra: Any
) -> dict[str, Any]:
    return {
        "id": trip_id,
        "rider": rider,
        "bike": f"bike-{trip_id}",
        "started_at": (ended - timedelta(minutes=14)).isoformat(),
        "ended_at": ended.isoformat(),
        "start_lon": START[0],
        "start_lat": START[1],
        "end_lon": end[0],
        "end_lat": end[1],
        **extra,
    }


def moved(system: Services, moment: datetime) -> Services:
    system.clock.read = lambda: moment
    return system


def operator(tmp_path: Path, scheme: str = "mobike-2018", now: datetime = NOW) -> Services:
    system = shipped_system(tmp_path / "ledger.db", now=now)
    system.plugin("mobility").add_zones(scheme, ZONES, actor="cli")
    return system


def consenting_scheme(tmp_path: Path) -> Path:
    """mobike-2018 as a scheme that keeps precise trip ends and background
    positions, each for riders who consent to it."""
    text = (shipped_schemes_dir() / "mobike-2018.yaml").read_text(encoding="utf-8")
    text = text.replace("\nid: mobike-2018\n", "\nid: mobike-opt-in\n", 1).replace(
        "\nrecompute: monthly",
        "\npurposes: [scoring, precise-location, background-location]\nrecompute: monthly",
        1,
    )
    assert "id: mobike-opt-in" in text and "background-location]" in text
    path = tmp_path / "mobike-opt-in.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def held_values(system: Services) -> list[Any]:
    """Every value in every table of the ledger."""
    db = system.uow.database.connection
    if system.uow.database.dialect.name == "sqlite":
        tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        tables = [
            n
            for (n,) in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        ]
    assert "mobility_trips" in tables and "mobility_positions" in tables
    return [
        value for table in tables for row in db.execute(f"SELECT * FROM {table}") for value in row
    ]


def coordinates_in(values: list[Any]) -> list[Any]:
    """Values that are, or spell, one of the trip coordinates (to four decimals and more)."""
    spelt = [f"{c:.4f}" for c in COORDINATES]

    def matches(value: Any) -> bool:
        if isinstance(value, float):
            return any(abs(value - c) < 1e-9 for c in COORDINATES)
        return isinstance(value, str) and any(s in value for s in spelt)

    return [value for value in values if matches(value)]


def file_bytes_hold_coordinates(path: Path) -> list[str]:
    """The SQLite file and its write-ahead log, searched byte by byte for the
    coordinates as text and as the 8-byte floats SQLite stores."""
    found = []
    for name in (path, Path(f"{path}-wal")):
        if not name.exists():
            continue
        data = name.read_bytes()
        for c in COORDINATES:
            if struct.pack(">d", c) in data or f"{c:.4f}".encode() in data:
                found.append(f"{name.name}: {c}")
    return found


# ------------------------------------------------------------------------ verdicts


def test_each_trip_end_gets_a_verdict_and_becomes_a_record(tmp_path: Path) -> None:
    system = operator(tmp_path)
    a, b, c = people(3, seed=501)
    report = system.plugin("mobility").import_trips(
        numbered(
            [
                trip("t1", a, IN_BAY),
                trip("t2", b, IN_COMPOUND),
                trip("t3", c, NOWHERE),
            ]
        ),
        scheme="mobike-2018",
    )
    assert (report.accepted, report.rejected) == (3, [])
    assert dict(report.verdicts) == {"normal": 1, "no-parking": 1, "outside-parking": 1}
    records = {r: system.uow.ledger.record(f"trip:{r}") for r in ("t1", "t2", "t3")}
    assert {k: (v.category, v.points) for k, v in records.items() if v} == {
        "t1": ("ride-normal", 1),
        "t2": ("parking-no-parking-zone", -20),
        "t3": ("parking-outside-zone", -20),
    }
    t2 = records["t2"]
    assert t2 is not None and t2.occurred_at == MAY and t2.reporter == "mobike"
    assert "compound-1" in (t2.evidence or "") and "zone set 1" in (t2.evidence or "")
    assert system.integrity.verify() == []


def test_trips_are_idempotent_and_a_changed_trip_is_a_conflict(tmp_path: Path) -> None:
    system = operator(tmp_path)
    [rider] = people(1, seed=502)
    mobility = system.plugin("mobility")
    mobility.import_trips(numbered([trip("t1", rider, IN_BAY)]), scheme="mobike-2018")
    again = mobility.import_trips(
        numbered(
            [
                trip("t1", rider, IN_BAY),
                trip("t1", rider, NOWHERE, ended=MAY + timedelta(hours=1)),
                trip("t9", rider, IN_BAY, end_lat=95),
                "line is not valid JSON: unexpected character at column 1",
            ]
        ),
        scheme="mobike-2018",
    )
    assert (again.accepted, again.duplicates) == (0, 1)
    reasons = {r.line: r.reason for r in again.rejected}
    assert "repeated in this import" in reasons[2]
    assert reasons[3].startswith("end_lat: must be between -90 and 90")
    assert "not valid JSON" in reasons[4]
    changed = mobility.import_trips(
        numbered([trip("t1", rider, NOWHERE, bike="other")]), scheme="mobike-2018"
    )
    assert "(conflict)" in changed.rejected[0].reason
    assert len(system.plugin("mobility").rows.trips_of(system.subjects.identify(rider).key)) == 1


def test_a_scheme_without_zones_or_the_categories_refuses_trips(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=NOW)
    [rider] = people(1, seed=503)
    mobility = system.plugin("mobility")
    refused = mobility.import_trips(numbered([trip("t1", rider, IN_BAY)]), scheme="mobike-2017")
    assert "has no zones yet" in refused.rejected[0].reason
    other = mobility.import_trips(
        numbered([trip("t1", rider, IN_BAY)]), scheme="rongcheng-personal"
    )
    assert "cannot take trips: it lacks the categories" in other.rejected[0].reason
    with pytest.raises(ZoneError, match=r"features\[0\]\.properties\.kind"):
        mobility.add_zones(
            "mobike-2017",
            {
                "type": "FeatureCollection",
                "features": [{**ZONES["features"][0], "properties": {"id": "x"}}],
            },
            actor="cli",
        )


# ------------------------------------------------------------------- minimisation


def test_without_consent_no_precise_coordinate_survives_in_any_table_or_export(
    tmp_path: Path,
) -> None:
    system = operator(tmp_path)
    riders = people(3, seed=504)
    report = system.plugin("mobility").import_trips(
        numbered(
            [
                trip("t1", riders[0], IN_BAY),
                trip("t2", riders[1], IN_COMPOUND),
                trip("t3", riders[2], NOWHERE),
            ]
        ),
        scheme="mobike-2018",
    )
    assert report.accepted == 3 and report.precise_kept == 0
    system.notices.sweep()  # notices repeat records: they must not hold coordinates either
    assert coordinates_in(held_values(system)) == []
    for rider in riders:
        held = system.export.access_export(rider, actor="cli")
        export = export_view(held)
        assert coordinates_in([json.dumps(export)]) == []
        [kept] = export["mobility"]["trips"]
        assert kept["end_cell"] and len(kept["end_cell"]) == 6
        assert export["mobility"]["precise_positions"] == []
    if not os.environ.get(TEST_SERVER_ENV):
        system.uow.database.checkpoint()
        assert file_bytes_hold_coordinates(tmp_path / "ledger.db") == []


def test_with_consent_precise_ends_are_kept_then_purged_by_retention(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=NOW)
    system.definitions.add_files([consenting_scheme(tmp_path)])
    mobility = system.plugin("mobility")
    mobility.add_zones("mobike-opt-in", ZONES, actor="cli")
    agreeing, declining = people(2, seed=505)
    moved(system, MAY - timedelta(days=1))
    system.consents.set(agreeing, "mobike-opt-in", "precise-location", True, actor="cli")
    moved(system, NOW)
    report = mobility.import_trips(
        numbered(
            [
                trip("t1", agreeing, IN_BAY),
                trip("t2", declining, IN_COMPOUND),
            ]
        ),
        scheme="mobike-opt-in",
    )
    assert report.precise_kept == 1
    kept = system.plugin("mobility").rows.positions_of(system.subjects.identify(agreeing).key)
    assert {(p.kind, p.lon, p.lat, p.purpose) for p in kept} == {
        ("start", *START, "precise-location"),
        ("end", *IN_BAY, "precise-location"),
    }
    assert {p.kept_until for p in kept} == {at(2027, 5, 10, 8)}  # the scheme's P2Y retention
    assert (
        system.plugin("mobility").rows.positions_of(system.subjects.identify(declining).key) == []
    )
    # Only the consenting rider's coordinates are held, and the export shows them (art. 15).
    assert set(coordinates_in(held_values(system))) == {*IN_BAY, *START}
    held = system.export.access_export(agreeing, actor="cli")
    export = export_view(held)
    assert {p["kind"] for p in export["mobility"]["precise_positions"]} == {"start", "end"}

    assert retention_view(system.retention.run(actor="cli"))["mobility"]["positions_expired"] == 0
    moved(system, at(2027, 5, 10, 8))  # retention over: records, trips and positions go
    report_ = system.retention.run(apply=True, actor="cli")
    assert retention_view(report_)["mobility"] == {
        "positions_expired": 2,
        "positions_withdrawn": 0,
        "trips": 2,
    }
    assert {i.record for i in report_.items} >= {"trip:t1", "trip:t2"}
    assert coordinates_in(held_values(system)) == []
    assert system.integrity.verify() == []
    if not os.environ.get(TEST_SERVER_ENV):
        system.uow.database.checkpoint()
        assert file_bytes_hold_coordinates(tmp_path / "ledger.db") == []


def test_withdrawn_consent_removes_the_kept_positions_at_the_next_purge(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=MAY - timedelta(days=1))
    system.definitions.add_files([consenting_scheme(tmp_path)])
    mobility = system.plugin("mobility")
    mobility.add_zones("mobike-opt-in", ZONES, actor="cli")
    [rider] = people(1, seed=506)
    system.consents.set(rider, "mobike-opt-in", "precise-location", True, actor="cli")
    moved(system, NOW)
    mobility.import_trips(numbered([trip("t1", rider, IN_BAY)]), scheme="mobike-opt-in")
    system.consents.set(rider, "mobike-opt-in", "precise-location", False, actor="cli")
    dry = system.retention.run(actor="cli")
    assert retention_view(dry)["mobility"]["positions_withdrawn"] == 2
    assert (
        len(system.plugin("mobility").rows.positions_of(system.subjects.identify(rider).key)) == 2
    )  # a dry run
    system.retention.run(apply=True, actor="cli")
    assert system.plugin("mobility").rows.positions_of(system.subjects.identify(rider).key) == []
    # A trip imported after the withdrawal keeps nothing precise.
    later = mobility.import_trips(
        numbered([trip("t2", rider, IN_BAY, ended=NOW)]), scheme="mobike-opt-in"
    )
    assert later.accepted == 1 and later.precise_kept == 0


def test_background_positions_are_refused_without_consent(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=NOW)
    system.definitions.add_files([consenting_scheme(tmp_path)])
    mobility = system.plugin("mobility")
    [rider] = people(1, seed=507)
    when = (NOW - timedelta(hours=1)).isoformat()
    # The 2018 scheme declares background location but asks no consent for it.
    with pytest.raises(LocationRefused, match="asks no consent for 'background-location'"):
        mobility.add_position(rider, "mobike-2018", *NOWHERE, when, actor="cli")
    with pytest.raises(LocationRefused, match="takes no positions outside trips"):
        mobility.add_position(rider, "mobike-2018-minimised", *NOWHERE, when, actor="cli")
    with pytest.raises(LocationRefused, match="has no active consent"):
        mobility.add_position(rider, "mobike-opt-in", *NOWHERE, when, actor="cli")
    assert coordinates_in(held_values(system)) == []
    moved(system, NOW - timedelta(days=1))
    system.consents.set(rider, "mobike-opt-in", "background-location", True, actor="cli")
    moved(system, NOW)
    kept = mobility.add_position(rider, "mobike-opt-in", *NOWHERE, when, actor="cli")
    assert (kept.trip, kept.kind, kept.purpose) == (None, "background", "background-location")
    # Before the consent was given, a position is still refused.
    with pytest.raises(LocationRefused, match="both at the position's time and now"):
        mobility.add_position(
            rider, "mobike-opt-in", *NOWHERE, (NOW - timedelta(days=2)).isoformat(), actor="cli"
        )
    with pytest.raises(Exception, match="lat: must be between"):
        mobility.add_position(rider, "mobike-opt-in", 122.4, 91, when, actor="cli")


# ------------------------------------------------------------------- price factors


def _records_to(
    scheme: str, rider: str, base: int, target: int, prefix: str
) -> list[dict[str, str]]:
    """Records that take a rider from ``base`` to exactly ``target`` points."""
    lines = []
    deductions = max(0, -(-(base - target) // 20))
    rides = target - (base - 20 * deductions)
    for n in range(deductions):
        lines.append(
            line(
                f"{prefix}-p{n}",
                rider,
                "parking-outside-zone",
                MAY + timedelta(minutes=n),
                scheme=scheme,
                reported_at=MAY + timedelta(minutes=n),
            )
        )
    for n in range(rides):
        lines.append(
            line(
                f"{prefix}-r{n}",
                rider,
                "ride-normal",
                MAY + timedelta(hours=1, minutes=n),
                scheme=scheme,
                reported_at=MAY + timedelta(hours=1, minutes=n),
            )
        )
    return lines


@pytest.mark.parametrize(
    ("scheme", "base", "score", "grade", "effect", "factor"),
    [
        ("mobike-2017", 100, 101, "standard", "allow", None),
        ("mobike-2017", 100, 80, "standard", "allow", None),
        ("mobike-2017", 100, 79, "below-80", "adjust", 100.0),
        ("mobike-2017", 100, 0, "below-80", "adjust", 100.0),
        ("mobike-2018", 550, 701, "outstanding", "allow", None),
        ("mobike-2018", 550, 700, "excellent", "allow", None),
        ("mobike-2018", 550, 601, "excellent", "allow", None),
        ("mobike-2018", 550, 600, "good", "allow", None),
        ("mobike-2018", 550, 501, "good", "allow", None),
        ("mobike-2018", 550, 500, "fair", "adjust", 2.0),
        ("mobike-2018", 550, 301, "fair", "adjust", 2.0),
        ("mobike-2018", 550, 300, "poor", "adjust", 100.0),
        ("mobike-2018", 550, 0, "poor", "adjust", 100.0),
        ("mobike-2018-minimised", 550, 501, "good", "allow", None),
        ("mobike-2018-minimised", 550, 500, "fair", "adjust", 1.2),
        ("mobike-2018-minimised", 550, 301, "fair", "adjust", 1.2),
        ("mobike-2018-minimised", 550, 300, "poor", "adjust", 1.5),
    ],
)
def test_the_price_factor_at_each_band_boundary(
    tmp_path: Path,
    scheme: str,
    base: int,
    score: int,
    grade: str,
    effect: str,
    factor: float | None,
) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=NOW)
    [rider] = people(1, seed=score + base)
    imported = system.imports.import_records(numbered(_records_to(scheme, rider, base, score, "b")))
    assert imported.rejected == []
    _, [evaluation] = system.checks.scores(rider, scheme=scheme, actor="cli")
    assert (evaluation.explanation.score, evaluation.explanation.grade) == (score, grade)
    decided = system.checks.check(rider, "mobility.ride.price", actor="cli").decision
    assert (decided.effect, decided.factor) == (effect, factor)
    if scheme == "mobike-2018":
        passes = system.checks.check(rider, "mobility.pass", actor="cli").decision.effect
        assert passes == ("deny" if grade in ("fair", "poor") else "allow")


def test_the_2018_score_is_recomputed_monthly(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=NOW)
    [rider] = people(1, seed=508)
    june = at(2025, 6, 3)
    lines = _records_to("mobike-2018", rider, 550, 300, "m")
    lines = [
        {**item, "occurred_at": june.isoformat(), "reported_at": june.isoformat()} for item in lines
    ]
    system.imports.import_records(numbered(lines))
    assert (
        system.checks.check(rider, "mobility.ride.price", actor="cli").decision.factor is None
    )  # as at June 1
    later = system.checks.check(
        rider, "mobility.ride.price", at=at(2025, 7, 2), actor="cli"
    ).decision
    assert (later.effect, later.factor) == ("adjust", 100.0)
    # The 2017 rules answer at once.
    [other] = people(1, seed=509)
    system.imports.import_records(numbered(_records_to("mobike-2017", other, 100, 79, "c")))
    assert system.checks.check(other, "mobility.ride.price", actor="cli").decision.factor == 100.0


# ------------------------------------------------------------------- rider reports


def test_a_verified_report_records_the_offence_and_rewards_the_reporter(tmp_path: Path) -> None:
    system = operator(tmp_path)
    offender, reporter, bystander = people(3, seed=510)
    mobility = system.plugin("mobility")
    mobility.import_trips(numbered([trip("t1", offender, IN_BAY)]), scheme="mobike-2018")
    with pytest.raises(UsageError, match="cannot report their own trip"):
        mobility.reports.file("t1", offender, "I parked badly.", actor="cli")
    with pytest.raises(NotFound):
        mobility.reports.file("t404", reporter, "Blocking the pavement.", actor="cli")
    filed = mobility.reports.file(
        "t1", reporter, "The bike blocks the school gate.", photo="img-77", actor="cli"
    )
    assert (filed.status, filed.records) == ("pending", ())
    with pytest.raises(UsageError, match="already reported"):
        mobility.reports.file("t1", reporter, "Again.", actor="cli")
    # Pending: it counts for no one.
    assert system.uow.ledger.record(f"report:{filed.id}:parking") is None

    done = mobility.reports.verify(
        filed.id, "The photo shows the bike in the gateway.", actor="cli"
    )
    assert done.status == "verified" and len(done.records) == 2
    offence = system.uow.ledger.record(f"report:{filed.id}:parking")
    reward = system.uow.ledger.record(f"report:{filed.id}:reward")
    assert offence is not None and reward is not None
    assert (offence.category, offence.points, offence.subject) == (
        "parking-reported",
        -20,
        system.subjects.identify(offender).key,
    )
    assert (reward.category, reward.points, reward.subject) == (
        "report-verified",
        5,
        system.subjects.identify(reporter).key,
    )
    with pytest.raises(UsageError, match="already verified"):
        mobility.reports.reject(filed.id, "changed my mind", actor="cli")

    other = mobility.reports.file("t1", bystander, "It is in the way.", actor="cli")
    rejected = mobility.reports.reject(other.id, "The bike is inside the bay.", actor="cli")
    assert rejected.status == "rejected" and rejected.records == ()
    assert [r.id for r in mobility.reports.find(status="pending", actor="cli")] == []
    assert {r.id for r in mobility.reports.find(authority="mobike", actor="cli")} == {
        filed.id,
        other.id,
    }
    assert [
        r.id
        for r in mobility.reports.find(subject=system.subjects.identify(bystander).key, actor="cli")
    ] == [other.id]
    assert system.integrity.verify() == []


def test_a_verdict_record_can_be_contested_and_overturned(tmp_path: Path) -> None:
    system = operator(tmp_path, "mobike-2017")
    [rider] = people(1, seed=511)
    imported = system.plugin("mobility").import_trips(
        numbered([trip("t1", rider, IN_COMPOUND)]), scheme="mobike-2017"
    )
    assert imported.accepted == 1
    _, [before] = system.checks.scores(rider, scheme="mobike-2017", actor="cli")
    assert before.explanation.score == 80
    case = system.casework.contest(
        "trip:t1", "The gate was open to the public car park.", actor="cli"
    )
    _, [frozen] = system.checks.scores(rider, scheme="mobike-2017", actor="cli")
    assert frozen.explanation.score == 100
    assert [x.reason for x in frozen.explanation.excluded] == ["contested"]
    system.casework.decide(
        case.id, "overturned", "The area was a public car park that day.", actor="cli"
    )
    _, [after] = system.checks.scores(rider, scheme="mobike-2017", actor="cli")
    assert after.explanation.score == 100


def test_the_mobility_tables_come_with_the_plugins_migration(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=NOW)
    assert ("mobility", 1) in system.migrated
    assert system.uow.database.meta("schema_version:mobility") == "1"
    mobility = system.plugin("mobility")
    assert mobility.add_zones("mobike-2018", ZONES, actor="cli").version == 1
    assert mobility.add_zones("mobike-2018", ZONES, actor="cli").version == 2
    version, index = mobility.zone_index("mobike-2018")
    assert version == 2 and [z.id for z in index.zones] == ["bay-1", "compound-1"]
    with pytest.raises(Exception, match="append-only"):
        system.uow.database.connection.execute("DELETE FROM mobility_zones")


def test_the_demo_helper_builds_a_month_of_trips_and_prices_the_worst_riders(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=NOW)
    riders = people(60, seed=512)
    shown = run_bike_share(system, riders, random.Random(7), now=NOW, zones=60, shown=3)
    assert shown["scheme"] == "mobike-2018" and shown["rejected"] == 0
    assert shown["trips"] == sum(shown["verdicts"].values()) > 60 * 8 - 1
    assert set(shown["verdicts"]) == {"normal", "outside-parking", "no-parking"}
    assert shown["precise_positions_kept"] == 0
    lowest = shown["lowest_scores"]
    assert len(lowest) == 3 and lowest[0]["score"] <= lowest[-1]["score"]
    for rider in lowest:
        expected = {"poor": 100.0, "fair": 2.0}.get(rider["grade"])
        assert rider["factor"] == expected
    assert system.integrity.verify() == []


def test_a_trip_and_its_verdict_record_land_together_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = operator(tmp_path)
    [rider] = people(1, seed=520)

    def broken(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(system.plugin("mobility").rows, "add_trips", broken)
    with pytest.raises(OSError, match="disk full"):
        system.plugin("mobility").import_trips(
            numbered([trip("h1", rider, IN_BAY)]), scheme="mobike-2018"
        )
    assert system.uow.ledger.record("trip:h1") is None  # the record went with the trip
    monkeypatch.undo()
    system.plugin("mobility").add_zones(
        "mobike-2018", ZONES, actor="cli"
    )  # a new zone set meanwhile
    again = system.plugin("mobility").import_trips(
        numbered([trip("h1", rider, IN_BAY)]), scheme="mobike-2018"
    )
    assert (again.accepted, again.rejected) == (1, [])
    assert system.integrity.verify() == []


def test_erasing_a_verdict_record_takes_its_trip_with_it(tmp_path: Path) -> None:
    system = operator(tmp_path)
    [rider] = people(1, seed=521)
    system.plugin("mobility").import_trips(
        numbered([trip("e1", rider, IN_BAY)]), scheme="mobike-2018"
    )
    outcome = system.casework.request_erasure("trip:e1", "Forget this ride.", actor="cli")
    assert outcome.case is not None  # a contract scheme: restricted, then a reviewer decides
    system.casework.decide(
        outcome.case.id, "erased", "The ride was logged by mistake.", actor="cli"
    )
    assert system.plugin("mobility").rows.trips_by_id(["e1"]) == {}
    assert export_view(system.export.access_export(rider, actor="cli"))["mobility"]["trips"] == []
    assert system.integrity.verify() == []
