"""Times as the system reads and writes them. Every time is UTC.

Two spellings, each with one function: :func:`iso` is how a time is shown (in
JSON, tables, notices and pages: ``2026-01-01T00:00:00Z``), and
:func:`ledger_time` is how the ledger stores and hashes it
(``datetime.isoformat()``: ``2026-01-01T00:00:00+00:00``), which must never
change, or every chain hash would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from socialcredit.errors import InvalidInput


def iso(moment: datetime | None) -> str | None:
    """A time as shown: ISO-8601 with ``Z`` for UTC; None stays None."""
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def ledger_time(moment: datetime | None) -> str | None:
    """A time as the ledger stores and hashes it; None stays None."""
    return moment.isoformat() if moment is not None else None


def parse_time(value: Any, field: str) -> datetime:
    """An ISO-8601 date or date-time as a UTC time (one without an offset is
    taken as UTC); anything else is refused naming ``field``."""
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is UTC:
            return moment  # the common case, already canonical
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(field, f"{value!r} is not an ISO-8601 date or time") from None
    else:
        raise InvalidInput(field, "must be an ISO-8601 date or time")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 falls before year 1 in UTC
        raise InvalidInput(field, f"{value!r} is outside the years 1 to 9999 in UTC") from None


__all__ = ["iso", "ledger_time", "parse_time"]
