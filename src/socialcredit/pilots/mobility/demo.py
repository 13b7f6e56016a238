"""Bike sharing in the demo town: zones over a Rongcheng-sized box, a month of
trips for some residents, and what the operator's scheme then charges them.

``socialcredit demo`` calls :func:`run_bike_share`; the builders are also used
by the tests and the benchmark. Everything is synthetic and seeded.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from socialcredit import Services
from socialcredit.pilots.mobility.service import mobility_of
from socialcredit.plugins import DemoContext, DemoStep

CENTRE = (122.42, 37.16)  # Rongcheng, Shandong: longitude, latitude
HALF_SPAN_KM = 6.0  # the town box is 12 km a side
_KM_PER_DEGREE = 111.32


def town_box(
    centre: tuple[float, float] = CENTRE, half_span_km: float = HALF_SPAN_KM
) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a square town around ``centre``."""
    lon, lat = centre
    dlat = half_span_km / _KM_PER_DEGREE
    dlon = half_span_km / (_KM_PER_DEGREE * math.cos(math.radians(lat)))
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def _rectangle(lon: float, lat: float, w_m: float, h_m: float) -> list[list[float]]:
    dlat = h_m / 2 / 1000 / _KM_PER_DEGREE
    dlon = w_m / 2 / 1000 / (_KM_PER_DEGREE * math.cos(math.radians(lat)))
    return [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
        [lon - dlon, lat - dlat],
    ]


def town_zones(
    rng: random.Random,
    count: int = 200,
    *,
    box: tuple[float, float, float, float] | None = None,
    no_parking_share: float = 0.25,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: parking bays of 20-60 m and no-parking
    areas (residential compounds, squares) of 100-300 m, some with a hole."""
    west, south, east, north = box or town_box()
    features = []
    for n in range(count):
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        banned = rng.random() < no_parking_share
        size = rng.uniform(100, 300) if banned else rng.uniform(20, 60)
        rings = [_rectangle(lon, lat, size, size * rng.uniform(0.5, 1.5))]
        if banned and rng.random() < 0.3:  # a courtyard where parking is allowed after all
            rings.append(list(reversed(_rectangle(lon, lat, size / 4, size / 4))))
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": f"{'np' if banned else 'p'}-{n:05d}",
                    "kind": "no-parking" if banned else "parking",
                },
                "geometry": {"type": "Polygon", "coordinates": rings},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _inside(rng: random.Random, feature: dict[str, Any]) -> tuple[float, float]:
    outer = feature["geometry"]["coordinates"][0]
    lons, lats = [p[0] for p in outer], [p[1] for p in outer]
    # Clear of the edges, and of a hole (which sits in the middle).
    lo, hi = min(lons), max(lons)
    la, ha = min(lats), max(lats)
    return (
        rng.uniform(lo + (hi - lo) * 0.1, lo + (hi - lo) * 0.3),
        rng.uniform(la + (ha - la) * 0.1, la + (ha - la) * 0.3),
    )


def month_of_trips(
    rng: random.Random,
    riders: Sequence[str],
    zones: dict[str, Any],
    *,
    start: datetime,
    careless: float = 0.1,
    rides: tuple[int, int] = (8, 40),
) -> list[dict[str, Any]]:
    """Trips over the 30 days from ``start``. Most riders park in bays; the
    ``careless`` share leaves half their bikes anywhere or in no-parking areas."""
    parking = [f for f in zones["features"] if f["properties"]["kind"] == "parking"]
    banned = [f for f in zones["features"] if f["properties"]["kind"] == "no-parking"]
    west, south, east, north = town_box()
    trips: list[dict[str, Any]] = []
    for r, rider in enumerate(riders):
        sloppy = rng.random() < careless
        for _ in range(rng.randint(*rides)):
            began = start + timedelta(seconds=rng.uniform(0, 30 * 86_400 - 7_200))
            ended = began + timedelta(minutes=rng.uniform(3, 60))
            roll = rng.random()
            if roll < (0.5 if sloppy else 0.95):
                end = _inside(rng, rng.choice(parking))
            elif banned and roll < (0.8 if sloppy else 0.98):
                end = _inside(rng, rng.choice(banned))
            else:
                end = (rng.uniform(west, east), rng.uniform(south, north))
            begin = _inside(rng, rng.choice(parking))
            trips.append(
                {
                    "id": f"t{r:05d}-{len(trips):07d}",
                    "rider": rider,
                    "bike": f"bike-{rng.randrange(100_000):05d}",
                    "started_at": began.isoformat(),
                    "ended_at": ended.isoformat(),
                    "start_lon": round(begin[0], 6),
                    "start_lat": round(begin[1], 6),
                    "end_lon": round(end[0], 6),
                    "end_lat": round(end[1], 6),
                }
            )
    return trips


def run_bike_share(
    services: Services,
    riders: Sequence[str],
    rng: random.Random,
    *,
    now: datetime,
    scheme: str = "mobike-2018",
    zones: int = 200,
    shown: int = 5,
) -> dict[str, Any]:
    """Zones, last month's trips for ``riders`` and the price each now pays:
    what the demo prints. The scheme recomputes monthly, so last month counts."""

    rides = mobility_of(services)
    collection = town_zones(rng, zones)
    added = rides.add_zones(scheme, collection, actor="demo-operator")
    this_month = datetime(now.year, now.month, 1, tzinfo=UTC)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    trips = month_of_trips(rng, riders, collection, start=last_month)
    # The operator reports trips as they end; here last month's arrive in one
    # batch as the month closes, so that they are known when it is recomputed.
    with services.clock.held_at(this_month):
        report = rides.import_trips(enumerate(trips, 1), scheme=scheme)
    prices = []
    for rider in riders:
        _, evaluations = services.checks.scores(rider, scheme=scheme, actor="demo", purpose="demo")
        e = evaluations[0].explanation
        prices.append((e.score if e.score is not None else 0, rider, e.grade))
    prices.sort()
    factors = []
    for score, rider, grade in prices[:shown]:
        result = services.checks.check(rider, "mobility.ride.price", actor="demo", purpose="demo")
        decision = result.decision
        factors.append(
            {
                "rider": result.subject,
                "score": score,
                "grade": grade,
                "effect": decision.effect,
                "factor": decision.factor,
            }
        )
    return {
        "scheme": scheme,
        "zone_set": added.version,
        "zones": added.by_kind,
        "trips": report.accepted + report.duplicates,
        "rejected": len(report.rejected),
        "verdicts": dict(sorted(report.verdicts.items())),
        "precise_positions_kept": report.precise_kept,
        "lowest_scores": factors,
    }


BIKE_SHARE = "mobike-2018"
RIDER_SHARE = 0.1  # of residents who ride shared bikes


def bike_share(context: DemoContext) -> dict[str, Any]:
    """A month of rides under the 2018 rules: zones, verdicts, and the fares the
    lowest-scoring riders now pay (docs/mobility.md shows the minimised rules)."""
    services, people, say = context.services, context.people, context.say
    if BIKE_SHARE not in services.definitions.registry.schemes or not people:
        return {}
    riders = context.rng.sample(people, k=max(1, int(len(people) * RIDER_SHARE)))
    shown = run_bike_share(services, riders, context.rng, now=context.now, scheme=BIKE_SHARE)
    verdicts = ", ".join(f"{n:,} {v}" for v, n in shown["verdicts"].items())
    say(
        f"{BIKE_SHARE}: {len(riders):,} riders, {shown['trips']:,} trips last month over "
        f"{sum(shown['zones'].values()):,} zones ({verdicts}); precise positions kept: "
        f"{shown['precise_positions_kept']} (no rider consented)",
        highlight=False,
    )
    for rider in shown["lowest_scores"][:3]:
        factor = f" x{rider['factor']:g}" if rider["factor"] is not None else ""
        say(
            f"  {rider['rider']} scores {rider['score']} ({rider['grade']}): a ride costs "
            f"{rider['effect']}{factor}",
            highlight=False,
        )
    return shown


# After the scorecard pilot's step, as the demo has always shown them.
bike_share_step = DemoStep("bike_share", 20, bike_share)


__all__ = [
    "CENTRE",
    "bike_share_step",
    "month_of_trips",
    "run_bike_share",
    "town_box",
    "town_zones",
]
