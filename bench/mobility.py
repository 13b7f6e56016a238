"""Trip-end verdicts benchmark: 1,000,000 trip ends against 1,000 zones.

The zones (parking bays of 20-60 m and no-parking areas of 100-300 m, some
with holes) and the trip ends are generated over a 12 km town box around
Rongcheng; 60% of the ends fall in or near a zone, the rest anywhere.

- ``verdict_trips_per_s``: ``ZoneIndex.judge`` (socialcredit.pilots.mobility.verdicts),
  from arrays of longitudes and latitudes to verdicts and zones;
- ``baseline_strtree_trips_per_s``: a plain shapely ``STRtree.query`` of the
  same positions with ``predicate="intersects"``, from the same arrays: the
  point geometries it needs are built inside the timing, as any caller
  starting from coordinates must; ``baseline_query_only_trips_per_s`` leaves
  that out, for comparison.

Both are measured in the same run, best of three. Index and tree building are
timed apart. The verdicts are also derived from the baseline's hits and
compared, so the fast path is checked against shapely on every run.

Prints one JSON line. Usage: python bench/mobility.py [--trips N] [--zones N]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

from socialcredit.pilots.mobility.demo import town_box, town_zones
from socialcredit.pilots.mobility.verdicts import NO_PARKING, NORMAL, OUTSIDE, ZoneIndex
from socialcredit.pilots.mobility.zones import parse_zones


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=1_000_000)
    parser.add_argument("--zones", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args()  # ./dev bench passes every bench the same arguments
    sys.stdout.write(json.dumps(run(args.trips, args.zones, args.repeat)) + "\n")


def _best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def run(n_trips: int, n_zones: int, repeat: int) -> dict[str, object]:
    rng = random.Random(2018)
    zones = parse_zones(town_zones(rng, n_zones))
    west, south, east, north = town_box()
    gen = np.random.default_rng(2018)
    lons = gen.uniform(west, east, n_trips)
    lats = gen.uniform(south, north, n_trips)
    near = int(n_trips * 0.6)
    centres = shapely.get_coordinates(shapely.centroid([z.geometry for z in zones]))
    picked = gen.integers(0, len(zones), near)
    lons[:near] = centres[picked, 0] + gen.normal(0, 0.0004, near)
    lats[:near] = centres[picked, 1] + gen.normal(0, 0.0003, near)

    started = time.perf_counter()
    index = ZoneIndex(zones)
    index_s = time.perf_counter() - started
    geometries = [z.geometry for z in zones]
    started = time.perf_counter()
    tree = shapely.STRtree(geometries)
    tree_s = time.perf_counter() - started

    verdict_s, (codes, _found) = _best(repeat, lambda: index.judge(lons, lats))
    baseline_s, hits = _best(
        repeat, lambda: tree.query(shapely.points(lons, lats), predicate="intersects")
    )
    points = shapely.points(lons, lats)
    query_s, _ = _best(repeat, lambda: tree.query(points, predicate="intersects"))

    # The same verdicts from the baseline's hits (a boundary point would be the
    # only difference, and random positions do not land on one).
    banned = np.array([z.kind == "no-parking" for z in zones])
    expected = np.full(n_trips, OUTSIDE, dtype=np.int8)
    point_ids, zone_ids = hits
    expected[point_ids[~banned[zone_ids]]] = NORMAL
    expected[point_ids[banned[zone_ids]]] = NO_PARKING
    disagreements = int(np.count_nonzero(expected != codes))

    verdict_rate = n_trips / verdict_s
    baseline_rate = n_trips / baseline_s
    return {
        "trips": n_trips,
        "zones": len(zones),
        "verdict_trips_per_s": round(verdict_rate),
        "baseline_strtree_trips_per_s": round(baseline_rate),
        "baseline_query_only_trips_per_s": round(n_trips / query_s),
        "ratio_to_baseline": round(verdict_rate / baseline_rate, 2),
        "target_met": verdict_rate >= 0.5 * baseline_rate,
        "index_build_s": round(index_s, 4),
        "strtree_build_s": round(tree_s, 4),
        "verdicts": {
            "normal": int(np.count_nonzero(codes == NORMAL)),
            "outside-parking": int(np.count_nonzero(codes == OUTSIDE)),
            "no-parking": int(np.count_nonzero(codes == NO_PARKING)),
        },
        "disagreements_with_baseline": disagreements,
        "shapely": shapely.__version__,
        "numpy": np.__version__,
    }


if __name__ == "__main__":
    main()
