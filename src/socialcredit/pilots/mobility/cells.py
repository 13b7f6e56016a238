"""Coarse cells: where a trip ended, to about a kilometre, and no finer.

A cell is a geohash of six characters: 30 bits, 15 for longitude and 15 for
latitude, so a cell spans 360/2^15 = 0.011° of longitude and 180/2^15 =
0.0055° of latitude. At the latitude of Rongcheng (37° N) that is about
0.98 km east-west by 0.61 km north-south; at the equator 1.22 km by 0.61 km.
Geohash is a public scheme, so anyone can draw a cell on a map, and a longer
code names a smaller cell inside it (a prefix is always a coarser cell).

Pure functions: a single position, and a vectorised form for arrays.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz"
PRECISION = 6  # characters; 30 bits
_DECODE = {c: i for i, c in enumerate(BASE32)}


def _bits(precision: int) -> tuple[int, int]:
    total = 5 * precision
    return (total + 1) // 2, total // 2  # longitude gets the odd bit


def cell(lon: float, lat: float, precision: int = PRECISION) -> str:
    """The geohash cell of one position (longitude, latitude in degrees)."""
    lon_bits, lat_bits = _bits(precision)
    x = min(max(int((lon + 180.0) / 360.0 * (1 << lon_bits)), 0), (1 << lon_bits) - 1)
    y = min(max(int((lat + 90.0) / 180.0 * (1 << lat_bits)), 0), (1 << lat_bits) - 1)
    code = 0
    for i in range(5 * precision):  # interleave from the top: longitude first
        bit = (
            (x >> (lon_bits - 1 - i // 2)) & 1 if i % 2 == 0 else (y >> (lat_bits - 1 - i // 2)) & 1
        )
        code = (code << 1) | bit
    return "".join(BASE32[(code >> (5 * (precision - 1 - k))) & 31] for k in range(precision))


def cells(
    lons: npt.ArrayLike, lats: npt.ArrayLike, precision: int = PRECISION
) -> npt.NDArray[np.str_]:
    """The cells of many positions at once (the same answer as :func:`cell`)."""
    lon_bits, lat_bits = _bits(precision)
    x = np.floor((np.asarray(lons, dtype=np.float64) + 180.0) / 360.0 * (1 << lon_bits))
    y = np.floor((np.asarray(lats, dtype=np.float64) + 90.0) / 180.0 * (1 << lat_bits))
    xi = np.clip(x, 0, (1 << lon_bits) - 1).astype(np.int64)
    yi = np.clip(y, 0, (1 << lat_bits) - 1).astype(np.int64)
    code = np.zeros(xi.shape, dtype=np.int64)
    for i in range(5 * precision):
        source, width = (xi, lon_bits) if i % 2 == 0 else (yi, lat_bits)
        code = (code << 1) | ((source >> (width - 1 - i // 2)) & 1)
    alphabet = np.array(list(BASE32))
    chars = [alphabet[(code >> (5 * (precision - 1 - k))) & 31] for k in range(precision)]
    if not chars:
        return np.array([], dtype=np.str_)
    joined = chars[0].astype(object)
    for part in chars[1:]:
        joined = joined + part.astype(object)
    return joined.astype(np.str_)


def bounds(code: str) -> tuple[float, float, float, float]:
    """The box a cell covers: (west, south, east, north) in degrees."""
    if not code or any(c not in _DECODE for c in code):
        raise ValueError(f"{code!r} is not a geohash")
    lon_bits, lat_bits = _bits(len(code))
    value = 0
    for c in code:
        value = (value << 5) | _DECODE[c]
    x = y = 0
    for i in range(5 * len(code)):
        bit = (value >> (5 * len(code) - 1 - i)) & 1
        if i % 2 == 0:
            x = (x << 1) | bit
        else:
            y = (y << 1) | bit
    width, height = 360.0 / (1 << lon_bits), 180.0 / (1 << lat_bits)
    west, south = -180.0 + x * width, -90.0 + y * height
    return west, south, west + width, south + height


__all__ = ["PRECISION", "bounds", "cell", "cells"]
