"""Parking zones and no-parking zones, read from a GeoJSON FeatureCollection.

Each feature is one zone:

- ``geometry``: a ``Polygon`` or ``MultiPolygon`` (holes allowed) in
  longitude/latitude degrees (WGS 84, RFC 7946). Rings must be closed, and the
  polygon valid (no self-intersection); a zone may not cross the antimeridian
  (RFC 7946 §3.1.9 asks for such shapes to be cut in two);
- ``properties.id`` (or the feature's own ``id``): a zone id, unique in the file;
- ``properties.kind`` (the property name can be changed): ``parking`` or
  ``no-parking``.

Every problem names the feature by its index and the rule it breaks, as
``features[3].geometry: ring 0 is not closed ...``. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from socialcredit.errors import InvalidInput

ZoneKind = Literal["parking", "no-parking"]
ZONE_KINDS: tuple[ZoneKind, ...] = ("parking", "no-parking")
MAX_ZONES = 100_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


class ZoneError(InvalidInput):
    """A zone file that breaks a rule: ``where`` names the feature and field."""

    def __init__(self, where: str, rule: str) -> None:
        self.where = where
        super().__init__(where, rule)


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    kind: ZoneKind
    geometry: Polygon | MultiPolygon

    def geojson(self) -> str:
        """The geometry as GeoJSON text (how the store keeps it)."""
        return str(shapely.to_geojson(self.geometry))


def parse_zones(
    source: str | bytes | Mapping[str, Any], *, kind_property: str = "kind"
) -> list[Zone]:
    """The zones of a FeatureCollection, in file order, or a :class:`ZoneError`."""
    if isinstance(source, str | bytes):
        try:
            data = orjson.loads(source)
        except orjson.JSONDecodeError as error:
            raise ZoneError("file", f"is not valid JSON: {error.msg}") from None
    else:
        data = source
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise ZoneError("type", "the file must be a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise ZoneError("features", "must be a non-empty list of features")
    if len(features) > MAX_ZONES:
        raise ZoneError("features", f"at most {MAX_ZONES} zones per file, got {len(features)}")
    zones: list[Zone] = []
    seen: dict[str, int] = {}
    for index, feature in enumerate(features):
        zone = _zone(index, feature, kind_property)
        if zone.id in seen:
            raise ZoneError(
                f"features[{index}].properties.id",
                f"zone id {zone.id!r} is already used by features[{seen[zone.id]}]",
            )
        seen[zone.id] = index
        zones.append(zone)
    return zones


def _zone(index: int, feature: Any, kind_property: str) -> Zone:
    where = f"features[{index}]"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise ZoneError(where, "must be a GeoJSON Feature (an object with type 'Feature')")
    properties = feature.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, Mapping):
        raise ZoneError(f"{where}.properties", "must be an object")
    raw_id = properties.get("id", feature.get("id"))
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str) or not _ID.match(raw_id):
        raise ZoneError(
            f"{where}.properties.id",
            "every zone needs an id (properties.id or the feature's id): 1 to 100 letters, "
            "digits, '.', '_', ':' or '-', starting with a letter or digit",
        )
    kind = properties.get(kind_property)
    if kind not in ZONE_KINDS:
        raise ZoneError(
            f"{where}.properties.{kind_property}",
            f"must be 'parking' or 'no-parking', got {kind!r}",
        )
    return Zone(raw_id, kind, _geometry(f"{where}.geometry", feature.get("geometry")))


def _geometry(where: str, geometry: Any) -> Polygon | MultiPolygon:
    if not isinstance(geometry, Mapping) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        found = geometry.get("type") if isinstance(geometry, Mapping) else type(geometry).__name__
        raise ZoneError(where, f"must be a Polygon or MultiPolygon, got {found!r}")
    coordinates = geometry.get("coordinates")
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise ZoneError(where, "coordinates: must be a non-empty list")
    for p, rings in enumerate(polygons):
        _check_rings(where if geometry["type"] == "Polygon" else f"{where} polygon {p}", rings)
    try:
        found = shape(dict(geometry))
    except Exception as error:  # shapely raises several kinds for malformed input
        raise ZoneError(where, f"is not a valid GeoJSON {geometry['type']}: {error}") from None
    if not isinstance(found, Polygon | MultiPolygon) or found.is_empty:
        raise ZoneError(where, "is empty")
    if not found.is_valid:
        raise ZoneError(where, f"is not a valid polygon: {shapely.is_valid_reason(found)}")
    if found.area <= 0:
        raise ZoneError(where, "has no area")
    return found


def _check_rings(where: str, rings: Any) -> None:
    if not isinstance(rings, list) or not rings:
        raise ZoneError(where, "coordinates: a polygon is a non-empty list of rings")
    for r, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise ZoneError(where, f"ring {r} needs at least 4 positions (RFC 7946 §3.1.6)")
        for position in ring:
            if (
                not isinstance(position, list | tuple)
                or len(position) < 2
                or not all(_number(v) for v in position[:2])
            ):
                raise ZoneError(where, f"ring {r}: a position is [longitude, latitude] in numbers")
            lon, lat = float(position[0]), float(position[1])
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                raise ZoneError(
                    where,
                    f"ring {r}: position [{lon}, {lat}] is outside longitude -180..180 or "
                    "latitude -90..90 (GeoJSON is longitude first)",
                )
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise ZoneError(
                where,
                f"ring {r} is not closed: its first and last positions must be the same "
                "(RFC 7946 §3.1.6)",
            )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def zones_from_rows(rows: Sequence[tuple[str, str, str]]) -> list[Zone]:
    """Zones as the store keeps them: (id, kind, GeoJSON geometry text)."""
    found = []
    for zone_id, kind, text in rows:
        geometry = shapely.from_geojson(text)
        assert isinstance(geometry, Polygon | MultiPolygon)
        found.append(Zone(zone_id, kind, geometry))  # type: ignore[arg-type]
    return found


__all__ = ["ZONE_KINDS", "Zone", "ZoneError", "ZoneKind", "parse_zones", "zones_from_rows"]
