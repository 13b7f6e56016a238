"""Scorecard factors: pure functions of a scheme's scorecard, the records that
count at t, and t (docs/schemes.md, *Scorecards*).

A factor's value is measured over the counted records of its categories
(optionally only those inside its window), then binned into points. The engine
adds the points of every factor to the scheme's base instead of the records'
own points. Nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil
from typing import NamedTuple, Protocol

from socialcredit.domain.schemes.models import Bin, Factor, Scorecard

DAY = timedelta(days=1)
MISSING = "missing"


class CountedRecord(Protocol):
    """What a factor reads of a counted record (the engine's ``Counted``)."""

    @property
    def category(self) -> str: ...
    @property
    def points(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...


class FactorContribution(NamedTuple):
    """One factor's part of a score: its value, the bin it fell in, the points."""

    dimension: str
    factor: str
    value: float | None  # None: missing (a ratio over nothing, no record for an age or recency)
    bin: str  # e.g. "0.5 ≤ x < 0.9", or "missing"
    points: int


@dataclass(frozen=True, slots=True)
class CompiledFactor:
    dimension: str
    factor: Factor
    codes: frozenset[str]
    numerator: frozenset[str]  # ratio only
    denominator: frozenset[str]  # ratio only


@dataclass(frozen=True, slots=True)
class CompiledScorecard:
    factors: tuple[CompiledFactor, ...]


def compile_scorecard(card: Scorecard) -> CompiledScorecard:
    return CompiledScorecard(
        tuple(
            CompiledFactor(
                dimension.id,
                factor,
                frozenset(factor.codes),
                frozenset(factor.ratio.numerator if factor.ratio is not None else ()),
                frozenset(factor.ratio.denominator if factor.ratio is not None else ()),
            )
            for dimension, factor in card.factors
        )
    )


def contributions(
    card: CompiledScorecard, counted: Sequence[CountedRecord], t: datetime
) -> tuple[FactorContribution, ...]:
    """Every factor's contribution at ``t``, in scorecard order."""
    return tuple(_contribution(item, counted, t) for item in card.factors)


def _contribution(
    item: CompiledFactor, counted: Sequence[CountedRecord], t: datetime
) -> FactorContribution:
    factor = item.factor
    value = factor_value(item, counted, t)
    label, points = bin_for(factor, value)
    return FactorContribution(item.dimension, factor.id, value, label, points)


def factor_value(
    item: CompiledFactor, counted: Sequence[CountedRecord], t: datetime
) -> float | None:
    """The factor's measure over the counted records of its categories inside its window.

    ``count``: how many; ``sum``: the sum of their points; ``ratio``: numerator
    records per denominator record (missing with no denominator record);
    ``age``/``recency``: whole days since the earliest/latest (missing with none)."""
    factor = item.factor
    window = factor.window
    mine = [
        r
        for r in counted
        if r.category in item.codes and (window is None or t < window.after(r.occurred_at))
    ]
    measure = factor.measure
    if measure == "count":
        return len(mine)
    if measure == "sum":
        return sum(r.points for r in mine)
    if measure == "ratio":
        below = sum(1 for r in mine if r.category in item.denominator)
        if below == 0:
            return None
        return sum(1 for r in mine if r.category in item.numerator) / below
    if not mine:
        return None
    pick = min if measure == "age" else max
    return (t - pick(r.occurred_at for r in mine)) // DAY


def bin_for(factor: Factor, value: float | None) -> tuple[str, int]:
    """The label and points of the bin ``value`` falls in: the first whose
    ``below`` is above it (a value equal to a ``below`` falls in the next bin)."""
    if value is None:
        return MISSING, factor.missing
    lower: float | None = None
    for found in factor.bins:
        if found.below is None or value < found.below:
            return bin_label(lower, found), found.points
        lower = found.below
    # Unreachable for a validated factor (its last bin has no below).
    raise ValueError(f"factor {factor.id!r}: {value} falls in no bin")


def bin_label(lower: float | None, found: Bin) -> str:
    if lower is None and found.below is None:
        return "any"
    if lower is None:
        return f"x < {found.below:g}"
    if found.below is None:
        return f"x ≥ {lower:g}"
    return f"{lower:g} ≤ x < {found.below:g}"


def bin_labels(factor: Factor) -> list[str]:
    """Every bin's label, in order."""
    labels = []
    lower: float | None = None
    for found in factor.bins:
        labels.append(bin_label(lower, found))
        lower = found.below
    return labels


def dimension_points(found: Iterable[FactorContribution]) -> dict[str, int]:
    """Points per dimension, in the order the dimensions first appear."""
    totals: dict[str, int] = {}
    for item in found:
        totals[item.dimension] = totals.get(item.dimension, 0) + item.points
    return totals


def change_instants(
    card: CompiledScorecard, occurred: Iterable[tuple[str, datetime]]
) -> set[datetime]:
    """Instants, beyond those of the records themselves, at which a factor can
    change: a record leaving a window, and an age or recency crossing a bin edge."""
    found: set[datetime] = set()
    occurred = list(occurred)
    for item in card.factors:
        factor = item.factor
        edges = [ceil(b.below) for b in factor.bins if b.below is not None and b.below > 0]
        for category, moment in occurred:
            if category not in item.codes:
                continue
            if factor.window is not None:
                found.add(factor.window.after(moment))
            if factor.measure in ("age", "recency"):
                found.update(moment + edge * DAY for edge in edges)
    return found
