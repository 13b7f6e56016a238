"""Subject identifiers: ``cn-ric:``, ``cn-uscc:`` and ``ext:<authority>:<id>``.

``parse_identifier`` is on the hot path of bulk imports, so the valid case is a
handful of C-level string operations; the work of explaining *what* is wrong is
done only once something is known to be wrong.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from socialcredit.domain.identity.checksums import (
    USCC_ALPHABET,
    USCC_VALUES,
    ric_check_char,
    uscc_check_char,
)
from socialcredit.domain.identity.regions import region_table
from socialcredit.errors import InvalidInput

__all__ = [
    "SUBJECT_KINDS",
    "Identifier",
    "IdentifierError",
    "SubjectKind",
    "parse_identifier",
]

SubjectKind = Literal["person", "business", "institution"]
SUBJECT_KINDS: tuple[SubjectKind, ...] = ("person", "business", "institution")

RIC = "cn-ric"
USCC = "cn-uscc"
EXT = "ext"

# USCC first character (registration authority) -> kind. '5' (social organisation) and
# the rarer authorities are absent on purpose: their kind must be stated by the caller.
_USCC_KIND_BY_AUTHORITY: dict[str, SubjectKind] = {"1": "institution", "9": "business"}

_RIC_CHECK_CHARS = frozenset("0123456789X")
_AUTHORITY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_AUTHORITY_CHARS = _AUTHORITY_FIRST | {"-"}

# Every month-day that exists in some year; 29 February is re-checked against the year.
_MONTH_DAYS = frozenset(
    f"{month:02d}{day:02d}"
    for month in range(1, 13)
    for day in range(1, calendar.monthrange(2000, month)[1] + 1)
)

_SHOWN_MAX = 40  # long garbage is cut in messages so one bad line cannot flood a log


class IdentifierError(InvalidInput):
    """An identifier is malformed, fails its check character or has the wrong kind."""

    def __init__(self, message: str) -> None:
        super().__init__("identifier", message, message)


def _cut(value: str) -> str:
    return value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX] + "..."


def _shown(value: str, namespace: str = "") -> str:
    """The value as an error message may show it: masked like a stored
    identifier, since a near-miss resident ID is nearly the real one and
    messages end up in logs, reject files and API responses."""
    if namespace == EXT:
        authority, colon, local = _cut(value).partition(":")
        return f"{authority}{colon}{_mask_middle(local)}"
    value = _cut(value)
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _fail(namespace: str, value: str, problem: str) -> IdentifierError:
    return IdentifierError(f"{namespace}:{_shown(value, namespace)}: {problem}")


@dataclass(frozen=True, slots=True, repr=False)
class Identifier:
    """A validated, canonical identifier. Build it with :func:`parse_identifier`."""

    namespace: str
    value: str
    kind: SubjectKind

    @property
    def text(self) -> str:
        """Canonical ``namespace:value`` form, the input to pseudonymisation."""
        return f"{self.namespace}:{self.value}"

    def masked(self) -> str:
        """Form that is safe to store and show: most of the value is replaced by '*'."""
        if self.namespace != EXT:
            return f"{self.namespace}:{self.value[:6]}{'*' * 8}{self.value[-4:]}"
        authority, _, local = self.value.partition(":")
        return f"{EXT}:{authority}:{_mask_middle(local)}"

    def __repr__(self) -> str:
        # Reprs end up in logs and tracebacks; the raw value must not (DESIGN §4).
        return f"Identifier({self.masked()!r}, kind={self.kind!r})"


def _mask_middle(local: str) -> str:
    # Keep at most 2 characters at each end, and never more than half of the id.
    keep = min(2, len(local) // 4) if len(local) > 4 else 0
    if keep == 0:
        return "*" * len(local)
    return local[:keep] + "*" * (len(local) - 2 * keep) + local[-keep:]


def parse_identifier(text: str, kind: SubjectKind | None = None) -> Identifier:
    """Parse and validate ``text``; ``kind`` is required where the identifier cannot tell.

    Raises IdentifierError with one sentence naming what is wrong.
    """
    namespace, colon, value = text.partition(":")
    parser = _PARSERS.get(namespace)
    if parser is None or not colon:
        parser = _slow_namespace(text, namespace, colon)
    if kind is not None and kind not in SUBJECT_KINDS:
        raise _fail(
            namespace,
            value,
            f"unknown subject kind {kind!r} (expected person, business or institution)",
        )
    return parser(value, kind)


def _slow_namespace(text: str, namespace: str, colon: str) -> _Parser:
    if not colon:
        raise IdentifierError(
            f"identifier {_shown(text)!r} has no namespace (expected cn-ric:, cn-uscc: or ext:)"
        )
    # Upper-case namespaces come from spreadsheets; accept them, canonicalise to lower.
    parser = _PARSERS.get(namespace.lower())
    if parser is None:
        raise IdentifierError(
            f"unknown identifier namespace {_cut(namespace)!r} (expected cn-ric, cn-uscc or ext)"
        )
    return parser


def _parse_ric(value: str, kind: SubjectKind | None) -> Identifier:
    if len(value) != 18:
        raise _fail(RIC, value, f"must be 18 characters, got {len(value)}")
    body = value[:17]
    check = value[17].upper()
    if not (body.isascii() and body.isdigit()) or check not in _RIC_CHECK_CHARS:
        raise _fail(RIC, value, _ric_bad_char(value))
    if value[10:14] not in _MONTH_DAYS or not _real_year(value[6:10], value[10:14]):
        raise _fail(RIC, value, f"birth date {value[6:14]} (YYYYMMDD) is not a real date")
    expected = ric_check_char(body)
    if check != expected:
        raise _fail(
            RIC, value, f"check character is {check!r} but GB 11643-1999 gives {expected!r}"
        )
    if not region_table().known(value[:6]):
        raise _fail(
            RIC,
            value,
            f"region code {value[:6]} is not a GB/T 2260 administrative division "
            "in any year of the table",
        )
    if kind is not None and kind != "person":
        raise _fail(RIC, value, f"a resident ID identifies a person, not a {kind}")
    return Identifier(RIC, value if check == value[17] else body + check, "person")


def _real_year(year: str, month_day: str) -> bool:
    if year == "0000":
        return False
    return month_day != "0229" or calendar.isleap(int(year))


def _ric_bad_char(value: str) -> str:
    for position, char in enumerate(value[:17], start=1):
        if not (char.isascii() and char.isdigit()):
            return f"character {char!r} at position {position} is not a digit"
    return f"check character {value[17]!r} must be a digit or X"


def _parse_uscc(value: str, kind: SubjectKind | None) -> Identifier:
    if len(value) != 18:
        raise _fail(USCC, value, f"must be 18 characters, got {len(value)}")
    # upper() only after isascii(): some non-ASCII letters change length when upper-cased.
    canonical = value.upper() if value.isascii() else value
    check = canonical[17]
    try:
        expected = uscc_check_char(canonical[:17])
    except ValueError:
        raise _fail(USCC, value, _uscc_bad_char(canonical)) from None
    if check != expected:
        if check not in USCC_VALUES:
            raise _fail(USCC, value, _uscc_bad_char(canonical))
        raise _fail(
            USCC, value, f"check character is {check!r} but GB 32100-2015 gives {expected!r}"
        )
    return Identifier(USCC, canonical, _uscc_kind(canonical, value, kind))


def _uscc_kind(canonical: str, value: str, kind: SubjectKind | None) -> SubjectKind:
    implied = _USCC_KIND_BY_AUTHORITY.get(canonical[0])
    if implied is None:
        if kind is None:
            raise _fail(
                USCC,
                value,
                f"registration authority {canonical[0]!r} does not fix the subject kind, "
                "so it must be given (person, business or institution)",
            )
        return kind
    if kind is not None and kind != implied:
        raise _fail(
            USCC,
            value,
            f"registration authority {canonical[0]!r} means {implied}, but kind {kind} was given",
        )
    return implied


def _uscc_bad_char(canonical: str) -> str:
    for position, char in enumerate(canonical, start=1):
        if char not in USCC_VALUES:
            return (
                f"character {char!r} at position {position} is not allowed "
                f"(GB 32100-2015 uses only {USCC_ALPHABET})"
            )
    return "has a character outside the GB 32100-2015 alphabet"  # unreachable in practice


def _parse_ext(value: str, kind: SubjectKind | None) -> Identifier:
    authority, colon, local = value.partition(":")
    if not colon or not local:
        raise _fail(EXT, value, "must be ext:<authority>:<id> with a non-empty id")
    if not authority or authority[0] not in _AUTHORITY_FIRST:
        raise _fail(EXT, value, "authority must start with a lower-case letter or digit")
    if not _AUTHORITY_CHARS.issuperset(authority):
        raise _fail(EXT, value, "authority may contain only a-z, 0-9 and '-'")
    # split() with no argument splits on every Unicode whitespace, not just ' '.
    if local.split() != [local]:
        raise _fail(EXT, value, "id must not contain whitespace")
    if kind is None:
        raise _fail(EXT, value, "needs an explicit kind (person, business or institution)")
    return Identifier(EXT, value, kind)


_Parser = Callable[[str, SubjectKind | None], Identifier]

_PARSERS: dict[str, _Parser] = {RIC: _parse_ric, USCC: _parse_uscc, EXT: _parse_ext}
