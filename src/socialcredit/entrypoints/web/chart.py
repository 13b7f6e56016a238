"""A score over time as the subject portal draws it: a step line in an SVG,
the grade bands shaded behind it, and each change marked with the records
that caused it. Coordinates only; the template draws them, server-side, so
the chart needs no script."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from socialcredit.domain.ledger.records import Record
from socialcredit.domain.schemes.models import Grade

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 28


@dataclass(frozen=True, slots=True)
class Band:
    grade: str
    y: float
    height: float
    shade: int  # 0 or 1: alternate bands are shaded


@dataclass(frozen=True, slots=True)
class Mark:
    x: float
    y: float
    at: datetime
    score: int
    grade: str | None
    causes: tuple[str, ...]  # records that occurred, were reported or expired then


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    path: str  # the step line, an SVG path
    bands: list[Band]
    marks: list[Mark]
    low: int
    high: int
    start: datetime
    end: datetime


def score_chart(
    history: Sequence[tuple[datetime, int | None, str | None]],
    grades: Sequence[Grade],
    records: Sequence[Record],
    now: datetime,
) -> Chart | None:
    """The chart of a scheme's score history up to ``now``; none without one."""
    points = [(at, score, grade) for at, score, grade in history if score is not None]
    if not points:
        return None
    scores = [score for _, score, _ in points]
    edges = [g.min for g in grades if g.min is not None]
    low = min([*scores, *edges]) - 10
    high = max([*scores, *edges]) + 10
    start, end = points[0][0], max(now, points[-1][0])
    span = max((end - start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (at - start).total_seconds() / span, 1)

    def y(score: float) -> float:
        return round(TOP + (HEIGHT - TOP - BOTTOM) * (high - score) / (high - low), 1)

    steps = [f"M{x(points[0][0])},{y(points[0][1])}"]
    for at, score, _ in points[1:]:
        steps.append(f"H{x(at)}V{y(score)}")
    steps.append(f"H{x(end)}")
    return Chart(
        WIDTH,
        HEIGHT,
        "".join(steps),
        _bands(grades, low, high, y),
        [
            Mark(x(at), y(score), at, score, grade, _causes(at, records))
            for at, score, grade in points
        ],
        low,
        high,
        start,
        end,
    )


def _bands(grades: Sequence[Grade], low: int, high: int, y: Callable[[float], float]) -> list[Band]:
    """Each grade's band of scores, top-down, clipped to the chart."""
    bands, ceiling = [], float(high)
    for index, grade in enumerate(grades):
        floor = float(grade.min) if grade.min is not None else float(low)
        top, bottom = min(ceiling, high), max(floor, low)
        if top > bottom:
            top_y, bottom_y = y(top), y(bottom)
            bands.append(Band(grade.name, top_y, round(bottom_y - top_y, 1), index % 2))
        ceiling = floor
    return bands


def _causes(at: datetime, records: Sequence[Record]) -> tuple[str, ...]:
    return tuple(
        sorted(r.id for r in records if at in (r.occurred_at, r.reported_at, r.expires_at))
    )


BAR_WIDTH, BAR_LABEL, BAR_HEIGHT, BAR_GAP, BAR_VALUE = 640, 200, 22, 8, 64


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    y: float
    length: float


@dataclass(frozen=True, slots=True)
class BarChart:
    """Horizontal bars, one per label, scaled to the largest value."""

    width: int
    height: int
    left: int  # where the bars start, after the labels
    bar_height: int
    bars: list[Bar]


def bar_chart(rows: Sequence[tuple[str, int]]) -> BarChart:
    room = BAR_WIDTH - BAR_LABEL - BAR_VALUE
    largest = max((value for _, value in rows), default=0) or 1
    bars = [
        Bar(label, value, index * (BAR_HEIGHT + BAR_GAP), round(room * value / largest, 1))
        for index, (label, value) in enumerate(rows)
    ]
    height = max(1, len(rows)) * (BAR_HEIGHT + BAR_GAP)
    return BarChart(BAR_WIDTH, height, BAR_LABEL, BAR_HEIGHT, bars)


__all__ = ["BarChart", "Chart", "bar_chart", "score_chart"]
