"""The figures of a fairness audit, from counts per group.

The engine counts (a GROUP BY over the whole population); only those counts
reach this module, so a group too small to show never leaves the engine as
anything but a number, and is suppressed here before anything is reported.

- Shares carry a Wilson score interval, which stays inside [0, 1] and is
  sound for the small shares (a few percent on a black list) met here.
- The mean score carries the normal interval of a mean.
- The disparate-impact ratio is a group's rate of the favourable outcome (in no
  bottom grade and on no black list) over that of the most favoured group
  shown, flagged below 0.8: the four-fifths rule of the US EEOC's Uniform
  Guidelines (29 CFR 1607.4(D)). Its interval is Katz's log interval for a
  ratio of two proportions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "FOUR_FIFTHS",
    "MIN_GROUP",
    "SEPARATOR",
    "GroupCounts",
    "GroupFinding",
    "Interval",
    "findings",
    "suppressed",
    "wilson",
]

MIN_GROUP = 20  # k: a smaller group is suppressed
FOUR_FIFTHS = 0.8
_Z = 1.959963984540054  # the 97.5th percentile of the standard normal: 95 % intervals


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class GroupCounts:
    """What the engine counts for one group of one dimension."""

    group: str
    subjects: int  # enrolled in the scheme at the instant asked
    grades: Mapping[str, int] = field(default_factory=dict)  # grade -> subjects
    lists: Mapping[str, int] = field(default_factory=dict)  # black list -> subjects on it
    bottom: int = 0  # subjects in a bottom grade
    adverse: int = 0  # subjects in a bottom grade or on a black list (or both)
    scored: int = 0
    score_sum: float = 0.0
    score_squares: float = 0.0


@dataclass(frozen=True)
class GroupFinding:
    group: str
    subjects: int
    suppressed: bool
    grades: dict[str, int] = field(default_factory=dict)
    bottom_share: float | None = None
    bottom_interval: Interval | None = None
    list_shares: dict[str, tuple[float, Interval]] = field(default_factory=dict)
    mean_score: float | None = None
    mean_interval: Interval | None = None
    favourable_rate: float | None = None
    impact_ratio: float | None = None  # against the most favoured group
    impact_interval: Interval | None = None
    flagged: bool = False  # impact ratio below four fifths
    most_favoured: bool = False


def wilson(successes: int, trials: int) -> Interval:
    """The 95 % Wilson score interval of a proportion."""
    if trials <= 0:
        return Interval(0.0, 1.0)
    p = successes / trials
    denominator = 1 + _Z**2 / trials
    centre = (p + _Z**2 / (2 * trials)) / denominator
    spread = _Z * math.sqrt(p * (1 - p) / trials + _Z**2 / (4 * trials**2)) / denominator
    # At 0 and at 1 the bound is exact; rounding must not put the share outside.
    low = 0.0 if successes == 0 else max(0.0, centre - spread)
    high = 1.0 if successes == trials else min(1.0, centre + spread)
    return Interval(low, high)


def _mean(counts: GroupCounts) -> tuple[float | None, Interval | None]:
    n = counts.scored
    if n == 0:
        return None, None
    mean = counts.score_sum / n
    if n == 1:
        return mean, None
    variance = max(0.0, (counts.score_squares - n * mean * mean) / (n - 1))
    spread = _Z * math.sqrt(variance / n)
    return mean, Interval(mean - spread, mean + spread)


def _ratio_interval(a: int, n1: int, b: int, n2: int) -> Interval | None:
    """Katz's 95 % interval of (a/n1) / (b/n2); None where a share is 0 or 1,
    where the log method has no spread to give."""
    if a in (0, n1) or b in (0, n2):
        return None
    log_ratio = math.log((a / n1) / (b / n2))
    spread = _Z * math.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
    return Interval(math.exp(log_ratio - spread), math.exp(log_ratio + spread))


def findings(groups: Sequence[GroupCounts], k: int = MIN_GROUP) -> list[GroupFinding]:
    """Every group's figures; groups under ``k`` subjects suppressed, with as
    many others as keep them from being worked out by subtraction
    (:func:`suppressed`). The most favoured group is the one with the highest
    favourable rate among those shown."""
    hidden = suppressed({g.group: g.subjects for g in groups}, k)
    shown = [g for g in groups if g.group not in hidden]
    favoured = max(shown, key=lambda g: (1 - g.adverse / g.subjects, g.subjects), default=None)
    found = [_suppressed(g) if g.group in hidden else _finding(g, favoured) for g in groups]
    return sorted(found, key=lambda f: (f.suppressed, f.group))


SEPARATOR = " · "  # between the parts of a crossed dimension's group


def suppressed(sizes: Mapping[str, int], k: int) -> set[str]:
    """The groups not to show: those under ``k`` (primary suppression), and then,
    wherever the hidden groups of a total that can be worked out from what is
    shown come to fewer than ``k`` together, the smallest shown group of that
    total too (complementary suppression), until none does. The totals: all
    the groups (their sum is the report's count), and, for crossed groups
    ("a · b"), each row and column (the counts of ``a`` and of ``b`` alone)."""
    hidden = {group for group, size in sizes.items() if size < k}
    lines = [list(sizes)]
    parts = {group: group.split(SEPARATOR) for group in sizes}
    width = max((len(p) for p in parts.values()), default=1)
    for position in range(width if width > 1 else 0):
        keyed: dict[tuple[str, ...], list[str]] = {}
        for group, names in parts.items():
            rest = tuple(n for i, n in enumerate(names) if i != position)
            keyed.setdefault(rest, []).append(group)
        lines += keyed.values()
    changed = bool(hidden)
    while changed:
        changed = False
        for line in lines:
            held = [g for g in line if g in hidden]
            if held and sum(sizes[g] for g in held) < k:
                shown = sorted((sizes[g], g) for g in line if g not in hidden)
                if shown:
                    hidden.add(shown[0][1])
                    changed = True
    return hidden


def _suppressed(counts: GroupCounts) -> GroupFinding:
    return GroupFinding(counts.group, 0, True)


def _finding(counts: GroupCounts, favoured: GroupCounts | None) -> GroupFinding:
    n = counts.subjects
    favourable = n - counts.adverse
    mean, mean_interval = _mean(counts)
    ratio = interval = None
    if favoured is not None:
        best = favoured.subjects - favoured.adverse
        if best > 0:
            ratio = (favourable / n) / (best / favoured.subjects)
            if favoured is not counts:  # against itself the ratio is 1, exactly
                interval = _ratio_interval(favourable, n, best, favoured.subjects)
    return GroupFinding(
        counts.group,
        n,
        False,
        dict(counts.grades),
        counts.bottom / n,
        wilson(counts.bottom, n),
        {name: (on / n, wilson(on, n)) for name, on in sorted(counts.lists.items())},
        mean,
        mean_interval,
        favourable / n,
        ratio,
        interval,
        ratio is not None and ratio < FOUR_FIFTHS,
        favoured is counts,
    )
