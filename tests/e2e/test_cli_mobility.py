"""Bike sharing from the command line: zones, trips with a rejects file, rider
reports and their review, background positions, retention (issue 5)."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest
from test_cli import NOW, Cli, days_ago

from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric

_rng = random.Random(2018)
OFFENDER, REPORTER = ("cn-ric:" + generate_ric(_rng) for _ in range(2))
BAY = [[122.40, 37.15], [122.41, 37.15], [122.41, 37.16], [122.40, 37.16], [122.40, 37.15]]
COMPOUND = [[122.42, 37.15], [122.43, 37.15], [122.43, 37.16], [122.42, 37.16], [122.42, 37.15]]


def _zones(folder: Path) -> str:
    path = folder / "zones.geojson"
    path.write_text(
        json.dumps(
            {
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
        ),
        encoding="utf-8",
    )
    return str(path)


def _trips_csv(folder: Path) -> str:
    ended = NOW - timedelta(days=3)
    started = (ended - timedelta(minutes=20)).isoformat()
    rows = [
        "id,rider,bike,started_at,ended_at,start_lon,start_lat,end_lon,end_lat",
        f"t1,{OFFENDER},b1,{started},{ended.isoformat()},122.405,37.152,122.425117,37.155531",
        f"t2,{REPORTER},b2,{started},{ended.isoformat()},122.405,37.152,122.403117,37.153531",
        f"t3,{REPORTER},b3,{started},{ended.isoformat()},122.405,37.152,122.403117,97",
        f"t4,{OFFENDER},b4,{started},{ended.isoformat()},122.405,37.152,122.461177,37.171531",
    ]
    path = folder / "trips.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    folder = tmp_path_factory.mktemp("mobility")
    cli = Cli(folder, folder / "mobility.db")
    cli.run("init")
    cli.run("schemes", "add", *map(str, shipped_scheme_files()))
    return cli


def test_zones_then_trips_with_verdicts_and_a_rejects_file(cli: Cli) -> None:
    bad = cli.folder / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}')
    failed = cli.run("mobility", "zones", "import", str(bad), "--scheme", "mobike-2017", code=1)
    assert "error: features[0].properties.id" in failed.stderr
    added = cli.json("mobility", "zones", "import", _zones(cli.folder), "--scheme", "mobike-2017")
    assert added == {
        "scheme": "mobike-2017",
        "zone_set": 1,
        "zones": 2,
        "by_kind": {"parking": 1, "no-parking": 1},
    }

    done = cli.json(
        "mobility", "trips", "import", _trips_csv(cli.folder), "--scheme", "mobike-2017"
    )
    assert (done["accepted"], done["rejected"], done["precise_positions_kept"]) == (3, 1, 0)
    assert done["verdicts"] == {"no-parking": 1, "normal": 1, "outside-parking": 1}
    [reject] = [json.loads(x) for x in Path(done["rejects_file"]).read_text().splitlines()]
    assert reject["line"] == 4 and reject["reason"].startswith(
        "end_lat: must be between -90 and 90"
    )
    again = cli.run(
        "mobility", "trips", "import", _trips_csv(cli.folder), "--scheme", "mobike-2017"
    )
    assert "accepted 0, duplicates 3, rejected 1" in again.stdout

    scores = cli.json("score", OFFENDER, "--scheme", "mobike-2017")
    assert scores["score"] == 60  # 100 - 20 (no-parking zone) - 20 (outside every bay)
    price = cli.json("check", OFFENDER, "mobility.ride.price")
    assert (price["effect"], price["factor"]) == ("adjust", 100.0)
    exported = cli.run("export", OFFENDER).stdout
    assert "122.425117" not in exported and "37.155531" not in exported
    assert {t["verdict"] for t in json.loads(exported)["mobility"]["trips"]} == {
        "no-parking",
        "outside-parking",
    }


def test_a_rider_report_is_verified_or_rejected(cli: Cli) -> None:
    assert (
        "own trip"
        in cli.run(
            "mobility", "report", "t1", "--by", OFFENDER, "--statement", "Mine.", code=1
        ).stderr
    )
    filed = cli.json(
        "mobility",
        "report",
        "t1",
        "--by",
        REPORTER,
        "--statement",
        "The bike blocks the gate.",
        "--photo",
        "photo-1",
    )
    assert filed["status"] == "pending"
    assert [r["id"] for r in cli.json("mobility", "reports", "list")] == [filed["id"]]
    verified = cli.json("mobility", "reports", "verify", filed["id"], "--reason", "Photo checked.")
    assert verified["status"] == "verified" and len(verified["records"]) == 2
    assert cli.json("score", REPORTER, "--scheme", "mobike-2017")["score"] == 103  # +1 ride, +2
    assert (
        "already verified"
        in cli.run("mobility", "reports", "reject", filed["id"], "--reason", "no", code=1).stderr
    )
    assert cli.json("mobility", "reports", "list", "--status", "pending") == []


def test_background_positions_are_refused_without_consent(cli: Cli) -> None:
    refused = cli.run(
        "mobility",
        "positions",
        "add",
        REPORTER,
        "--scheme",
        "mobike-2018",
        "--lon",
        "122.41",
        "--lat",
        "37.15",
        "--at",
        days_ago(1),
        code=1,
    )
    assert "background-location" in refused.stderr and "GDPR art. 6(1)(a)" in refused.stderr


def test_retention_reports_the_bike_sharing_purge(cli: Cli) -> None:
    dry = cli.json("retention", "run")
    assert dry["mobility"] == {"positions_expired": 0, "positions_withdrawn": 0, "trips": 0}
