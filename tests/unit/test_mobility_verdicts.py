"""Bike sharing, the pure parts: reading zones from GeoJSON, the verdict on a
trip end (edges, holes, multipolygons, overlaps), coarse cells and trip lines."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.intake import RecordError
from socialcredit.pilots.mobility import cells
from socialcredit.pilots.mobility.demo import town_box, town_zones
from socialcredit.pilots.mobility.trips import parse_trip, record_line
from socialcredit.pilots.mobility.verdicts import VERDICTS, ZoneIndex
from socialcredit.pilots.mobility.zones import ZoneError, parse_zones

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def square(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def feature(zone_id: str, kind: str, geometry: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"id": zone_id, "kind": kind, **extra},
        "geometry": geometry,
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


# A town of whole-number coordinates, so that edges are exact:
#   bay:        parking, the square 0..10 x 0..10, with a hole 4..6 x 4..6
#   compound:   no-parking, 8..12 x 8..12 (overlaps the bay's corner)
#   twin-bays:  parking, two squares 20..22 x 0..2 and 30..32 x 0..2 (a MultiPolygon)
#   plaza:      no-parking, 40..50 x 0..10 with a hole 44..46 x 4..6
TOWN = collection(
    feature("bay", "parking", polygon(square(0, 0, 10, 10), square(4, 4, 6, 6))),
    feature("compound", "no-parking", polygon(square(8, 8, 12, 12))),
    feature(
        "twin-bays",
        "parking",
        {"type": "MultiPolygon", "coordinates": [[square(20, 0, 22, 2)], [square(30, 0, 32, 2)]]},
    ),
    feature("plaza", "no-parking", polygon(square(40, 0, 50, 10), square(44, 4, 46, 6))),
)


@pytest.fixture(scope="module")
def index() -> ZoneIndex:
    return ZoneIndex(parse_zones(TOWN))


@pytest.mark.parametrize(
    ("point", "verdict", "zone"),
    [
        ((2, 2), "normal", "bay"),
        ((0, 5), "normal", "bay"),  # on the outer edge of a parking zone: the rider's benefit
        ((0, 0), "normal", "bay"),  # on a corner
        ((5, 5), "outside-parking", None),  # inside the hole
        ((4, 5), "normal", "bay"),  # on the hole's edge: still the parking zone's boundary
        ((-0.001, 5), "outside-parking", None),  # just outside
        ((9, 9), "no-parking", "compound"),  # no-parking wins over the parking zone under it
        ((8, 9), "normal", "bay"),  # on the no-parking edge, inside the bay: not in no-parking
        ((11, 11), "no-parking", "compound"),
        ((12, 10), "outside-parking", None),  # on a no-parking edge, in no parking zone
        ((21, 1), "normal", "twin-bays"),  # first part of a multipolygon
        ((31, 1), "normal", "twin-bays"),  # second part
        ((26, 1), "outside-parking", None),  # between the parts
        ((45, 1), "no-parking", "plaza"),
        ((45, 5), "outside-parking", None),  # in the no-parking zone's hole
        ((44, 5), "outside-parking", None),  # on its hole's edge: not in the no-parking zone
        ((50, 5), "outside-parking", None),  # on its outer edge
        ((100, 80), "outside-parking", None),  # far beyond every zone
    ],
)
def test_verdicts_with_edges_holes_and_multipolygons(
    index: ZoneIndex, point: tuple[float, float], verdict: str, zone: str | None
) -> None:
    judged = index.judge_one(*point)
    assert judged.verdict == verdict
    assert (judged.zone.id if judged.zone else None) == zone


def test_many_points_at_once_agree_with_one_at_a_time(index: ZoneIndex) -> None:
    rng = np.random.default_rng(5)
    xs, ys = rng.uniform(-5, 55, 5_000), rng.uniform(-5, 15, 5_000)
    xs[:20], ys[:20] = np.round(xs[:20]), np.round(ys[:20])  # some on whole-number edges
    codes, found = index.judge(xs, ys)
    for x, y, code, zone in zip(xs[:300], ys[:300], codes[:300], found[:300], strict=True):
        one = index.judge_one(float(x), float(y))
        assert one.verdict == VERDICTS[code]
        assert (one.zone.id if one.zone else None) == (index.zones[zone].id if zone >= 0 else None)


def test_not_a_number_and_empty_input_are_outside() -> None:
    index = ZoneIndex(parse_zones(TOWN))
    codes, found = index.judge([float("nan")], [1.0])
    assert VERDICTS[codes[0]] == "outside-parking" and found[0] == -1
    assert ZoneIndex([]).judge_one(1, 1).verdict == "outside-parking"
    assert index.judge([], [])[0].size == 0


def test_the_first_zone_in_the_file_names_an_overlap() -> None:
    zones = parse_zones(
        collection(
            feature("a", "parking", polygon(square(0, 0, 10, 10))),
            feature("b", "parking", polygon(square(5, 5, 15, 15))),
        )
    )
    assert ZoneIndex(zones).judge_one(7, 7).zone.id == "a"  # type: ignore[union-attr]
    assert ZoneIndex(list(reversed(zones))).judge_one(7, 7).zone.id == "b"  # type: ignore[union-attr]


def _reference(zones: list[Any], x: float, y: float) -> str:
    """The rule, spelt out with shapely's own predicates on point geometries."""
    point = shapely.Point(x, y)
    if any(z.kind == "no-parking" and z.geometry.contains(point) for z in zones):
        return "no-parking"
    if any(z.kind == "parking" and z.geometry.covers(point) for z in zones):
        return "normal"
    return "outside-parking"


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_grid_agrees_with_shapely_predicates_on_a_random_town(seed: int) -> None:
    rng = random.Random(seed)
    zones = parse_zones(town_zones(rng, rng.randint(1, 40)))
    index = ZoneIndex(zones)
    west, south, east, north = town_box()
    xs = [rng.uniform(west, east) for _ in range(200)]
    ys = [rng.uniform(south, north) for _ in range(200)]
    # And points exactly on zone vertices, where edges meet.
    for zone in zones[:10]:
        x, y = zone.geometry.exterior.coords[0]  # type: ignore[union-attr]
        xs.append(x)
        ys.append(y)
    codes, _ = index.judge(xs, ys)
    assert [VERDICTS[c] for c in codes] == [
        _reference(zones, x, y) for x, y in zip(xs, ys, strict=True)
    ]


# -------------------------------------------------------------------- zones


@pytest.mark.parametrize(
    ("change", "where", "rule"),
    [
        (lambda f: f.update(type="Feature2"), "features[1]", "must be a GeoJSON Feature"),
        (lambda f: f["properties"].pop("id"), "features[1].properties.id", "needs an id"),
        (
            lambda f: f["properties"].update(kind="bike-lane"),
            "features[1].properties.kind",
            "'parking' or 'no-parking'",
        ),
        (
            lambda f: f.update(geometry={"type": "Point", "coordinates": [1, 1]}),
            "features[1].geometry",
            "Polygon or MultiPolygon",
        ),
        (
            lambda f: f["geometry"]["coordinates"][0].pop(),
            "features[1].geometry",
            "ring 0 is not closed",
        ),
        (
            lambda f: f["geometry"]["coordinates"][0].__setitem__(1, [200, 0]),
            "features[1].geometry",
            "longitude first",
        ),
        (
            lambda f: f.update(geometry=polygon([[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]])),
            "features[1].geometry",
            "Self-intersection",
        ),
        (
            lambda f: f["properties"].update(id="first"),
            "features[1].properties.id",
            "already used by features[0]",
        ),
        (
            lambda f: f["geometry"]["coordinates"][0].__setitem__(1, ["a", 0]),
            "features[1].geometry",
            "[longitude, latitude] in numbers",
        ),
    ],
)
def test_bad_zone_files_name_the_feature_and_the_rule(change: Any, where: str, rule: str) -> None:
    features = [
        feature("first", "parking", polygon(square(0, 0, 1, 1))),
        feature("second", "no-parking", polygon(square(2, 2, 3, 3))),
    ]
    change(features[1])
    with pytest.raises(ZoneError) as raised:
        parse_zones(collection(*features))
    assert raised.value.where == where and rule in raised.value.rule, str(raised.value)


def test_a_zone_file_must_be_a_feature_collection() -> None:
    with pytest.raises(ZoneError, match="FeatureCollection"):
        parse_zones({"type": "Feature"})
    with pytest.raises(ZoneError, match="not valid JSON"):
        parse_zones("{nope")
    with pytest.raises(ZoneError, match="non-empty list"):
        parse_zones({"type": "FeatureCollection", "features": []})


def test_zones_read_from_text_with_ids_kinds_and_another_kind_property() -> None:
    text = json.dumps(
        collection(
            {
                "type": "Feature",
                "id": 7,
                "properties": {"use": "no-parking"},
                "geometry": polygon(square(0, 0, 1, 1)),
            },
        )
    )
    [zone] = parse_zones(text, kind_property="use")
    assert (zone.id, zone.kind) == ("7", "no-parking")
    assert shapely.from_geojson(zone.geojson()).equals(zone.geometry)


# -------------------------------------------------------------------- cells


def test_cells_are_geohashes_of_six_characters() -> None:
    # The worked example of geohash: 57.64911 N, 10.40744 E is u4pruydqqvj.
    assert cells.cell(10.40744, 57.64911) == "u4pruy"
    assert cells.cell(10.40744, 57.64911, precision=11) == "u4pruydqqvj"
    west, south, east, north = cells.bounds("u4pruy")
    assert west <= 10.40744 < east and south <= 57.64911 < north
    # About a kilometre at Rongcheng: 0.011 degrees of longitude, 0.0055 of latitude.
    assert east - west == pytest.approx(360 / 2**15) and north - south == pytest.approx(180 / 2**15)


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(-180, 180), lat=st.floats(-90, 90))
def test_the_vectorised_cells_agree_with_the_single_one(lon: float, lat: float) -> None:
    assert str(cells.cells([lon], [lat])[0]) == cells.cell(lon, lat)


def test_a_cell_never_spells_a_coordinate() -> None:
    code = cells.cell(122.421376, 37.164512)
    assert code.isalnum() and len(code) == 6 and not any(c in code for c in ".-")


# -------------------------------------------------------------------- trips


def trip_line(**changes: Any) -> dict[str, Any]:
    line = {
        "id": "t1",
        "rider": "ext:mobike:rider-1",
        "bike": "b1",
        "started_at": "2025-05-01T08:00:00Z",
        "ended_at": "2025-05-01T08:20:00Z",
        "start_lon": "122.41",
        "start_lat": "37.15",
        "end_lon": 122.42,
        "end_lat": 37.16,
    }
    line.update(changes)
    return {k: v for k, v in line.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"id": None}, "id", "required"),
        ({"id": "a b"}, "id", "spaces"),
        ({"bike": ""}, "bike", "required"),
        ({"ended_at": "2025-05-01T07:00:00Z"}, "ended_at", "before started_at"),
        (
            {"ended_at": "2030-01-01T00:00:00Z", "started_at": "2030-01-01T00:00:00Z"},
            "ended_at",
            "future",
        ),
        ({"end_lon": 181}, "end_lon", "between -180 and 180"),
        ({"end_lat": "north"}, "end_lat", "not a number"),
        ({"start_lat": float("nan")}, "start_lat", "between -90 and 90"),
        ({"speed": 12}, "speed", "not a field of a trip"),
        ({"rider_kind": "business"}, "rider_kind", "a rider is a person"),
    ],
)
def test_bad_trip_lines_name_the_field(changes: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(RecordError) as raised:
        parse_trip(trip_line(**changes), scheme="mobike-2018", now=NOW)
    assert raised.value.field == field and rule in raised.value.rule


def test_a_trip_needs_a_scheme_and_json_may_give_positions_as_pairs() -> None:
    with pytest.raises(RecordError, match="scheme: is required"):
        parse_trip(trip_line(), scheme=None, now=NOW)
    pairs = trip_line(
        start_lon=None,
        start_lat=None,
        end_lon=None,
        end_lat=None,
        start=[122.41, 37.15],
        end=[122.42, 37.16],
    )
    trip = parse_trip(pairs, scheme="mobike-2018", now=NOW)
    assert trip.start == (122.41, 37.15) and trip.end == (122.42, 37.16)
    with pytest.raises(RecordError, match=r"end: must be \[longitude, latitude\]"):
        parse_trip({**pairs, "end": [1]}, scheme="mobike-2018", now=NOW)


def test_the_record_line_of_a_verdict_holds_no_coordinate() -> None:
    trip = parse_trip(trip_line(), scheme="mobike-2018", now=NOW)
    end_cell = cells.cell(*trip.end)
    line = record_line(trip, "no-parking", "np-7", 3, end_cell, "mobike")
    assert line["id"] == "trip:t1" and line["category"] == "parking-no-parking-zone"
    assert line["occurred_at"] == "2025-05-01T08:20:00+00:00" and line["subject_kind"] == "person"
    text = json.dumps(line)
    assert "122.4" not in text and "37.1" not in text
    assert "np-7" in line["evidence"] and end_cell in line["evidence"]


def test_a_malformed_coordinate_is_refused_without_repeating_it() -> None:
    from socialcredit.pilots.mobility.trips import _coordinate

    with pytest.raises(RecordError) as refused:
        _coordinate({"end_lat": "37.153889 N"}, "end_lat", 90)
    assert "37.15" not in str(refused.value) and "end_lat" in str(refused.value)
