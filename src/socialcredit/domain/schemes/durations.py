"""ISO-8601 durations with calendar arithmetic.

Scheme files express validity, retention and list durations as ISO-8601
durations (``P2Y``, ``P6M``, ``P30D``).  ``datetime.timedelta`` cannot hold
years or months, and "two years after 29 February" must land on 28 February,
so durations keep their calendar parts and are added field by field.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from socialcredit.native import native

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class DurationError(ValueError):
    """A text that is not an ISO-8601 duration."""


@dataclass(frozen=True, slots=True)
class Duration:
    """A calendar duration: whole months (years folded in) plus an exact time span."""

    months: int
    span: timedelta
    text: str

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text) if isinstance(text, str) else None
        if match is None:
            raise DurationError(f"{text!r} is not an ISO-8601 duration")
        part = {name: int(value or 0) for name, value in match.groupdict().items()}
        months = part["years"] * 12 + part["months"]
        span = timedelta(
            weeks=part["weeks"],
            days=part["days"],
            hours=part["hours"],
            minutes=part["minutes"],
            seconds=part["seconds"],
        )
        if months == 0 and not span:
            raise DurationError(f"{text!r} is a zero duration")
        return cls(months=months, span=span, text=text)

    def after(self, start: datetime) -> datetime:
        """The instant this duration after ``start`` (month ends are clamped)."""
        moved = add_months(start, self.months) if self.months else start
        return moved + self.span if self.span else moved

    def before(self, end: datetime) -> datetime:
        """The instant this duration before ``end``."""
        moved = add_months(end, -self.months) if self.months else end
        return moved - self.span

    def approx_days(self) -> float:
        """Length in days for comparisons between durations (a month counts 30.44 days)."""
        return self.months * 30.436875 + self.span.total_seconds() / 86400

    def __str__(self) -> str:
        return self.text


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` moved by whole calendar months, the day clamped to the month's end."""
    if (
        native is not None
        and type(moment) is datetime
        and not moment.fold
        and type(months) is int
        and -_C <= months <= _C
    ):
        return native.add_months(moment, months)
    return _add_months(moment, months)


_C = 120_000  # the months the C spelling takes: ten thousand years either way


def _add_months(moment: datetime, months: int) -> datetime:
    """The reference for ``native.add_months``."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = moment.day
    if day > 28:  # only month ends need clamping (calendar.monthrange is slow on this hot path)
        last = 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month - 1]
        day = min(day, last)
    if type(moment) is datetime and not moment.fold:
        # The constructor takes positional arguments, twice as fast as replace's keywords.
        return datetime(
            year,
            month,
            day,
            moment.hour,
            moment.minute,
            moment.second,
            moment.microsecond,
            moment.tzinfo,
        )
    return moment.replace(year=year, month=month, day=day)
