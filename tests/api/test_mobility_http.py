"""Bike sharing over HTTP (issue 5): zones, trips one at a time, rider reports
and their review, background positions refused without consent; each endpoint
with the roles that may and may not call it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from socialcredit import bootstrap
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric
from socialcredit.testing import location, serving

NOW = datetime.now(UTC).replace(microsecond=0)
_rng = random.Random(77)
OFFENDER, REPORTER = ("cn-ric:" + generate_ric(_rng) for _ in range(2))
BAY = [[122.40, 37.15], [122.41, 37.15], [122.41, 37.16], [122.40, 37.16], [122.40, 37.15]]
ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"id": "bay-1", "kind": "parking"},
            "geometry": {"type": "Polygon", "coordinates": [BAY]},
        },
    ],
}


def trip(trip_id: str, rider: str, end: tuple[float, float], **extra: Any) -> dict[str, Any]:
    ended = NOW - timedelta(hours=2)
    return {
        "id": trip_id,
        "scheme": "mobike-2018",
        "rider": rider,
        "bike": "b-1",
        "started_at": (ended - timedelta(minutes=9)).isoformat(),
        "ended_at": ended.isoformat(),
        "start_lon": 122.405,
        "start_lat": 37.155,
        "end_lon": end[0],
        "end_lat": end[1],
        **extra,
    }


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("mobility-api")
    system = bootstrap.open(
        location(folder / "bikes.db"), create=True, env={"SOCIALCREDIT_KEY": "ab" * 32}
    )
    system.definitions.add_files(shipped_scheme_files())
    keys = {
        "admin": system.keys.create("admin", actor="cli")[1],
        "operator": system.keys.create("reporter", authority="mobike", actor="cli")[1],
        "city": system.keys.create("reporter", authority="rongcheng-gov", actor="cli")[1],
        "reviewer": system.keys.create("reviewer", authority="mobike", actor="cli")[1],
        "city-reviewer": system.keys.create("reviewer", authority="rongcheng-gov", actor="cli")[1],
        "offender": system.keys.create("subject", subject=OFFENDER, actor="cli")[1],
        "reporter": system.keys.create("subject", subject=REPORTER, actor="cli")[1],
    }
    try:
        with serving(system) as url:
            yield url, keys
    finally:
        system.close()


def client(http: tuple[str, dict[str, str]], who: str) -> httpx.Client:
    url, keys = http
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys[who]}"}, timeout=30)


def test_zones_are_added_by_an_admin_or_the_operator_and_bad_ones_are_named(
    http: tuple[str, dict[str, str]],
) -> None:
    with client(http, "city") as other:
        refused = other.post("/mobility/zones", params={"scheme": "mobike-2018"}, json=ZONES)
        assert refused.status_code == 403
    with client(http, "operator") as operator:
        bad = operator.post(
            "/mobility/zones",
            params={"scheme": "mobike-2018"},
            json={"type": "FeatureCollection", "features": [{"type": "Feature"}]},
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "features[0].properties.id"
        added = operator.post("/mobility/zones", params={"scheme": "mobike-2018"}, json=ZONES)
        assert added.status_code == 201 and added.json()["zones"] == 1
    with client(http, "admin") as admin:
        again = admin.post("/mobility/zones", params={"scheme": "mobike-2018"}, json=ZONES)
        assert again.status_code == 201 and again.json()["zone_set"] == 2
        assert (
            admin.post("/mobility/zones", params={"scheme": "nope"}, json=ZONES).status_code == 404
        )


def test_trips_one_at_a_time(http: tuple[str, dict[str, str]]) -> None:
    with client(http, "city") as other:
        assert (
            other.post("/mobility/trips", json=trip("h1", OFFENDER, (122.45, 37.17))).status_code
            == 403
        )
    with client(http, "operator") as operator:
        made = operator.post("/mobility/trips", json=trip("h1", OFFENDER, (122.451973, 37.171204)))
        assert made.status_code == 201, made.text
        view = made.json()
        assert (view["verdict"], view["record"], view["precise_kept"]) == (
            "outside-parking",
            "trip:h1",
            False,
        )
        assert "122.451973" not in made.text
        assert (
            operator.post(
                "/mobility/trips", json=trip("h1", OFFENDER, (122.451973, 37.171204))
            ).status_code
            == 200
        )
        conflict = operator.post(
            "/mobility/trips", json=trip("h1", OFFENDER, (122.403, 37.153), bike="b-2")
        )
        assert conflict.status_code == 409
        invalid = operator.post(
            "/mobility/trips", json=trip("h2", OFFENDER, (122.4, 37.1), ended_at="yesterday")
        )
        assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "ended_at"
        out_of_range = operator.post("/mobility/trips", json=trip("h3", OFFENDER, (200, 37.1)))
        assert out_of_range.status_code == 422
        ok = operator.post("/mobility/trips", json=trip("h4", REPORTER, (122.403117, 37.153531)))
        assert ok.status_code == 201 and ok.json()["verdict"] == "normal"


def test_a_rider_reports_and_a_reviewer_verifies(http: tuple[str, dict[str, str]]) -> None:
    body = {"trip": "h1", "statement": "It blocks the bus stop.", "photo": "p-9"}
    with client(http, "operator") as operator:
        assert operator.post("/mobility/reports", json=body).status_code == 403
    with client(http, "offender") as offender:
        own = offender.post("/mobility/reports", json=body)
        assert own.status_code == 400 and "own trip" in own.json()["detail"]
    with client(http, "reporter") as reporter:
        filed = reporter.post("/mobility/reports", json=body)
        assert filed.status_code == 201, filed.text
        assert filed.json()["offender"] == "another rider"  # a rider learns nothing of who rode
        report_id = filed.json()["id"]
        assert [r["id"] for r in reporter.get("/mobility/reports").json()] == [report_id]
    with client(http, "city-reviewer") as other:
        assert (
            other.post(f"/mobility/reports/{report_id}/verify", json={"reason": "seen"}).status_code
            == 403
        )
        assert other.get("/mobility/reports").json() == []
    with client(http, "reviewer") as reviewer:
        assert (
            reviewer.post("/mobility/reports/nope/verify", json={"reason": "x"}).status_code == 404
        )
        done = reviewer.post(
            f"/mobility/reports/{report_id}/verify", json={"reason": "The photo shows it."}
        )
        assert done.status_code == 200 and done.json()["status"] == "verified"
        again = reviewer.post(f"/mobility/reports/{report_id}/reject", json={"reason": "no"})
        assert again.status_code == 400
    with client(http, "offender") as offender:
        records = offender.get(f"/subjects/{OFFENDER}/export").json()["records"]
        assert "parking-reported" in {r["category"] for r in records}
        [seen] = offender.get("/mobility/reports", params={"status": "all"}).json()
        assert seen["reporter"] == "another rider" and seen["offender"].count("*") == 8


def test_background_positions_are_refused_without_consent(http: tuple[str, dict[str, str]]) -> None:
    body = {"rider": REPORTER, "scheme": "mobike-2018", "lon": 122.41, "lat": 37.15}
    with client(http, "city") as other:
        assert other.post("/mobility/positions", json=body).status_code == 403
    with client(http, "operator") as operator:
        refused = operator.post("/mobility/positions", json=body)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["field"] == "consent"
