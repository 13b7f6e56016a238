"""Where a bike was left: the verdict on each trip end, many at a time.

A trip end gets one of three verdicts:

- ``no-parking``: the point lies inside a no-parking zone;
- ``normal``: otherwise, the point lies in a parking zone;
- ``outside-parking``: it lies in neither.

A no-parking zone wins over a parking zone that overlaps it.

**The boundary rule.** A zone's edge, the edges of its holes included, goes to
the rider: a point on a parking zone's edge is *in* the parking zone (shapely's
``covers``), and a point on a no-parking zone's edge is *not* in the no-parking
zone (``contains``: interior only). Positions come from phones and bike locks
that are seldom better than a few metres, so a point on a line is the case in
which the operator knows least, and the doubt is the rider's. A point inside a
hole is outside the zone. Where zones of one kind overlap, the verdict names
the first of them in the zone file.

Coordinates are longitude and latitude in degrees, and edges are straight in
those coordinates, as RFC 7946 says for GeoJSON.

**How it is fast.** The points are bucketed into a uniform grid sized to the
zones, with one argsort. Each zone then takes the points of the grid cells its
bounding box covers, which lie in one contiguous slice of the sorted order for
each row of cells, and tests them with shapely's vectorised ``intersects_xy``
(parking) or ``contains_xy`` (no-parking) against its prepared geometry. No
point geometries are built at all, which is what a plain ``STRtree.query``
spends most of its time on (``bench/mobility.py`` compares the two).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import shapely

from socialcredit.pilots.mobility.zones import Zone

Verdict = Literal["normal", "outside-parking", "no-parking"]
# Verdict codes in the arrays :meth:`ZoneIndex.judge` returns.
VERDICTS: tuple[Verdict, ...] = ("normal", "outside-parking", "no-parking")
NORMAL, OUTSIDE, NO_PARKING = 0, 1, 2
MAX_CELLS = 4_000_000  # grid cells, whatever the spread of the zones


@dataclass(frozen=True, slots=True)
class Judged:
    verdict: Verdict
    zone: Zone | None  # the parking or no-parking zone the point is in


class ZoneIndex:
    """The zones of one scheme, ready to judge trip ends. Build once per zone set."""

    def __init__(self, zones: Sequence[Zone]) -> None:
        self.zones = tuple(zones)
        self._geometries = np.array([z.geometry for z in self.zones], dtype=object)
        self._parking = np.array([z.kind == "parking" for z in self.zones], dtype=bool)
        if not self.zones:
            return
        shapely.prepare(self._geometries)
        box = shapely.bounds(self._geometries)
        self._x0, self._y0 = float(box[:, 0].min()), float(box[:, 1].min())
        width, height = float(box[:, 2].max()) - self._x0, float(box[:, 3].max()) - self._y0
        # Cells about the size of a typical zone, so that a zone takes a few cells.
        size = float(np.median(np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])))
        size = max(size, 1e-9, math.sqrt(max(width * height, 0.0) / MAX_CELLS))
        self._size = size
        self._nx = int(width / size) + 1
        self._ny = int(height / size) + 1
        self._ranges = np.stack(
            [
                self._cell_x(box[:, 0]),
                self._cell_x(box[:, 2]),
                self._cell_y(box[:, 1]),
                self._cell_y(box[:, 3]),
            ],
            axis=1,
        )

    def _cell_x(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        return np.floor((x - self._x0) / self._size).astype(np.int64)

    def _cell_y(self, y: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        return np.floor((y - self._y0) / self._size).astype(np.int64)

    def judge(
        self, lons: npt.ArrayLike, lats: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int64]]:
        """Verdict codes (:data:`VERDICTS` by index) and the index of the zone
        each point is in (-1: none), for arrays of longitudes and latitudes."""
        x = np.asarray(lons, dtype=np.float64)
        y = np.asarray(lats, dtype=np.float64)
        codes = np.full(x.shape, OUTSIDE, dtype=np.int8)
        found = np.full(x.shape, -1, dtype=np.int64)
        if not self.zones or not x.size:
            return codes, found
        with np.errstate(invalid="ignore"):  # NaN falls outside every cell
            ix, iy = self._cell_x(x), self._cell_y(y)
        inside = (ix >= 0) & (ix < self._nx) & (iy >= 0) & (iy < self._ny)
        beyond = self._nx * self._ny
        cell = np.where(inside, iy * self._nx + ix, beyond)
        order = np.argsort(cell, kind="stable")
        starts = np.searchsorted(cell[order], np.arange(beyond + 1))
        # Parking first, then no-parking over it; within a kind the zones go in
        # reverse so that the first zone in the file is the last to write.
        for parking, test, code in (
            (True, shapely.intersects_xy, NORMAL),
            (False, shapely.contains_xy, NO_PARKING),
        ):
            for index in np.nonzero(self._parking == parking)[0][::-1]:
                x0, x1, y0, y1 = self._ranges[index]
                parts = [
                    order[starts[row * self._nx + x0] : starts[row * self._nx + x1 + 1]]
                    for row in range(y0, y1 + 1)
                ]
                candidates = parts[0] if len(parts) == 1 else np.concatenate(parts)
                if not candidates.size:
                    continue
                hit = candidates[test(self._geometries[index], x[candidates], y[candidates])]
                codes[hit] = code
                found[hit] = index
        return codes, found

    def judge_one(self, lon: float, lat: float) -> Judged:
        codes, found = self.judge([lon], [lat])
        zone = self.zones[int(found[0])] if found[0] >= 0 else None
        return Judged(VERDICTS[int(codes[0])], zone)


__all__ = ["NORMAL", "NO_PARKING", "OUTSIDE", "VERDICTS", "Judged", "Verdict", "ZoneIndex"]
