"""Check characters of Chinese resident IDs and Unified Social Credit Codes.

Both checks are weighted sums whose weights are powers of a small number
modulo a prime, so each sum can be read as a number written in a base that is
congruent to that small number.  Python's C ``int(text, base)`` then does the
whole weighted sum in one call, which matters on the million-record import
path.  The plain weight tables are kept beside the fast form because they are
what the standards print, and the tests check one against the other.
"""

from __future__ import annotations

import datetime
import random

__all__ = [
    "RIC_WEIGHTS",
    "USCC_ALPHABET",
    "USCC_WEIGHTS",
    "generate_ric",
    "generate_uscc",
    "ric_check_char",
    "uscc_check_char",
]

# GB 11643-1999 / ISO 7064 MOD 11-2: weight of position i (1-based) is 2^(18-i) mod 11.
RIC_WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))

# Check character indexed by (weighted sum mod 11): (12 - s) mod 11, with 10 written 'X'.
_RIC_CHECK_BY_REMAINDER = "".join("0123456789X"[(12 - s) % 11] for s in range(11))

# GB 32100-2015: 31 characters, leaving out I, O, S, V and Z, which are easily misread.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Weight of position i (1-based) is 3^(i-1) mod 31.
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))

USCC_VALUES: dict[str, int] = {char: value for value, char in enumerate(USCC_ALPHABET)}

# int() reads '0'-'9' then 'a'-'z' as 0..35, so a USCC value v is written as that digit.
_INT_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

# Bytes table: every USCC character becomes its value as an int() digit; every other byte
# becomes '!', which int() rejects, so one translate both converts and validates.
_USCC_TO_BASE34 = bytes(
    ord(_INT_DIGITS[USCC_VALUES[chr(b)]]) if chr(b) in USCC_VALUES else ord("!") for b in range(256)
)

_RIC_BIRTH_FIRST = datetime.date(1940, 1, 1).toordinal()
_RIC_BIRTH_LAST = datetime.date(2008, 12, 31).toordinal()


def ric_check_char(first17: str) -> str:
    """Return the GB 11643-1999 check character for the first 17 digits of a resident ID."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError(f"resident ID body must be 17 ASCII digits, got {first17!r}")
    # 13 is 2 mod 11, so reading the digits in base 13 gives sum(d_i * 2^(17-i)) mod 11
    # once doubled; the digits are 0-9, all valid in base 13.
    return _RIC_CHECK_BY_REMAINDER[(2 * int(first17, 13)) % 11]


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a USCC."""
    if len(first17) != 17:
        raise ValueError(f"USCC body must be 17 characters, got {len(first17)}")
    if not first17.isascii():
        raise ValueError(f"USCC body {first17!r} has characters outside {USCC_ALPHABET}")
    digits = first17.encode("ascii").translate(_USCC_TO_BASE34)
    try:
        # 34 is 3 mod 31 and the first character carries weight 3^0, so the reversed
        # string read in base 34 is congruent to the weighted sum.
        total = int(digits[::-1], 34)
    except ValueError:
        raise ValueError(f"USCC body {first17!r} has characters outside {USCC_ALPHABET}") from None
    return USCC_ALPHABET[-total % 31]


def _require_region(region: str) -> None:
    if len(region) != 6 or not (region.isascii() and region.isdigit()):
        raise ValueError(f"region code must be 6 ASCII digits, got {region!r}")


def generate_ric(
    rng: random.Random, *, region: str = "371082", birth: datetime.date | None = None
) -> str:
    """Return a valid, plausible resident ID (default region: Rongcheng, Shandong)."""
    _require_region(region)
    if birth is None:
        birth = datetime.date.fromordinal(rng.randint(_RIC_BIRTH_FIRST, _RIC_BIRTH_LAST))
    # The 3-digit order number is never 000 in issued IDs; its parity encodes sex.
    body = f"{region}{birth:%Y%m%d}{rng.randint(1, 999):03d}"
    return body + ric_check_char(body)


def generate_uscc(
    rng: random.Random, *, first: str = "9", category: str = "1", region: str = "371082"
) -> str:
    """Return a valid USCC: authority, category, region, 9-char organisation code, check.

    ``first`` is the registration authority ('1' institution or government body,
    '5' social organisation, '9' business).
    """
    for name, char in (("first", first), ("category", category)):
        if len(char) != 1 or char not in USCC_VALUES:
            raise ValueError(f"{name} must be one character of {USCC_ALPHABET}, got {char!r}")
    _require_region(region)
    body = first + category + region + "".join(rng.choices(USCC_ALPHABET, k=9))
    return body + uscc_check_char(body)
