"""ISO-8601 durations and their calendar arithmetic."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import at
from socialcredit.domain.schemes.durations import Duration, DurationError, add_months


@pytest.mark.parametrize(
    ("text", "months", "span"),
    [
        ("P2Y", 24, timedelta()),
        ("P6M", 6, timedelta()),
        ("P30D", 0, timedelta(days=30)),
        ("P1W", 0, timedelta(weeks=1)),
        ("PT12H", 0, timedelta(hours=12)),
        ("PT30M", 0, timedelta(minutes=30)),
        ("P1M", 1, timedelta()),
        ("P1Y2M3DT4H5M6S", 14, timedelta(days=3, hours=4, minutes=5, seconds=6)),
    ],
)
def test_parses_iso_8601_durations(text: str, months: int, span: timedelta) -> None:
    duration = Duration.parse(text)
    assert (duration.months, duration.span, duration.text, str(duration)) == (
        months,
        span,
        text,
        text,
    )


@pytest.mark.parametrize(
    "text", ["P5", "P", "2Y", "PT", "", "P0D", "PT0S", "p1y", "P1.5Y", " P1Y", "P1Y "]
)
def test_rejects_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(DurationError, match=r"ISO-8601 duration|zero duration"):
        Duration.parse(text)


def test_rejection_names_the_text() -> None:
    with pytest.raises(DurationError) as error:
        Duration.parse("P5")
    assert str(error.value) == "'P5' is not an ISO-8601 duration"


@pytest.mark.parametrize("value", [None, 5, 2.0, b"P1Y"])
def test_rejects_non_text(value: object) -> None:
    with pytest.raises(DurationError):
        Duration.parse(value)  # type: ignore[arg-type]


def test_years_and_months_are_the_same_calendar_unit() -> None:
    assert Duration.parse("P1Y").months == Duration.parse("P12M").months == 12


@pytest.mark.parametrize(
    ("start", "text", "end"),
    [
        (at(2024, 2, 29), "P1Y", at(2025, 2, 28)),
        (at(2024, 2, 29), "P4Y", at(2028, 2, 29)),
        (at(2025, 1, 31), "P1M", at(2025, 2, 28)),
        (at(2024, 1, 31), "P1M", at(2024, 2, 29)),
        (at(2024, 3, 31), "P1M", at(2024, 4, 30)),
        (at(2024, 11, 30), "P3M", at(2025, 2, 28)),
        (at(2024, 12, 15), "P1M", at(2025, 1, 15)),
        (at(2025, 1, 31), "P30D", at(2025, 3, 2)),
        (at(2025, 1, 31), "P1M1D", at(2025, 3, 1)),
        (at(2024, 3, 1, 12, 30), "P2Y", at(2026, 3, 1, 12, 30)),
        (at(2024, 12, 31, 18), "PT12H", at(2025, 1, 1, 6)),
        (at(2024, 1, 1), "P1Y2M3DT4H5M6S", at(2025, 3, 4, 4, 5, 6)),
    ],
)
def test_calendar_arithmetic(start, text: str, end) -> None:
    assert Duration.parse(text).after(start) == end


def test_after_keeps_the_timezone_and_the_time_of_day() -> None:
    end = Duration.parse("P1M").after(at(2025, 1, 31, 23, 59, 59, 999999))
    assert end == at(2025, 2, 28, 23, 59, 59, 999999)
    assert end.tzinfo is not None


def test_before_goes_back_by_calendar_months() -> None:
    assert Duration.parse("P1M").before(at(2025, 3, 31)) == at(2025, 2, 28)
    assert Duration.parse("P1Y").before(at(2025, 2, 28)) == at(2024, 2, 28)
    assert Duration.parse("P1D").before(at(2025, 3, 1)) == at(2025, 2, 28)


def test_add_months_clamps_to_the_month_end_in_both_directions() -> None:
    assert add_months(at(2024, 3, 31), -1) == at(2024, 2, 29)
    assert add_months(at(2024, 1, 31), 13) == at(2025, 2, 28)
    assert add_months(at(2024, 1, 15), -13) == at(2022, 12, 15)


def test_approx_days_orders_durations() -> None:
    days = [Duration.parse(t).approx_days() for t in ("P1W", "P30D", "P1M", "P1Y", "P2Y")]
    assert days == sorted(days)
    assert Duration.parse("P3M").approx_days() > 90
