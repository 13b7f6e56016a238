"""The fairness audit's figures from counts: intervals, the disparate-impact
ratio and its four-fifths flag, and suppression of small groups."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.fairness import (
    AuditAttributes,
    GroupCounts,
    findings,
    group_label,
    parse_dimensions,
    suppressed,
    wilson,
)


def test_wilson_interval_of_worked_examples() -> None:
    # Wilson (1927); the figures as Newcombe (1998), table I, gives them:
    # 81/263 -> 0.2553-0.3662 and 0/10 -> 0-0.2775.
    found = wilson(81, 263)
    assert (round(found.low, 4), round(found.high, 4)) == (0.2553, 0.3662)
    none = wilson(0, 10)
    assert none.low == 0.0 and round(none.high, 4) == 0.2775


@settings(max_examples=200)
@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_a_wilson_interval_holds_its_share_inside_zero_and_one(case: tuple[int, int]) -> None:
    successes, trials = case
    found = wilson(successes, trials)
    assert 0.0 <= found.low <= successes / trials <= found.high <= 1.0


def _group(name: str, n: int, adverse: int, **more: object) -> GroupCounts:
    return GroupCounts(name, n, adverse=adverse, bottom=adverse, **more)  # type: ignore[arg-type]


def test_the_impact_ratio_is_against_the_most_favoured_group_and_flags_below_four_fifths() -> None:
    # Favourable rates: a 90 %, b 70 %, c 76 %. b/a = 0.778 (flagged), c/a = 0.844 (not).
    found = {
        f.group: f
        for f in findings([_group("a", 100, 10), _group("b", 100, 30), _group("c", 50, 12)])
    }
    assert found["a"].most_favoured and found["a"].impact_ratio == 1.0
    assert found["a"].impact_interval is None
    assert found["b"].impact_ratio == pytest.approx(0.7 / 0.9)
    assert found["b"].flagged and not found["c"].flagged
    assert found["c"].impact_ratio == pytest.approx(0.76 / 0.9)
    # Katz: exp(ln(0.7/0.9) +- 1.96 sqrt(1/70 - 1/100 + 1/90 - 1/100)).
    spread = 1.959963984540054 * math.sqrt(1 / 70 - 1 / 100 + 1 / 90 - 1 / 100)
    interval = found["b"].impact_interval
    assert interval is not None
    assert interval.low == pytest.approx(math.exp(math.log(0.7 / 0.9) - spread))
    assert interval.high == pytest.approx(math.exp(math.log(0.7 / 0.9) + spread))


def test_groups_under_k_are_suppressed_and_never_the_most_favoured() -> None:
    # Both small groups are hidden, though "mid" is the most favoured of all.
    found = findings([_group("tiny", 9, 0), _group("mid", 12, 0), _group("big", 400, 40)], k=20)
    tiny = next(f for f in found if f.group == "tiny")
    assert tiny.suppressed and tiny.subjects == 0 and tiny.bottom_share is None
    assert tiny.impact_ratio is None and not tiny.most_favoured
    assert next(f for f in found if f.group == "mid").suppressed
    big = next(f for f in found if f.group == "big")
    assert big.most_favoured and big.subjects == 400


def test_a_suppressed_group_cannot_be_worked_out_by_subtraction() -> None:
    # 23 women and 2 men: the report's count (25) less the women shown would give
    # the men, so the women are suppressed too.
    assert suppressed({"female": 23, "male": 2}, 20) == {"female", "male"}
    # Hidden groups that come to k together may stay the only ones hidden.
    assert suppressed({"a": 100, "b": 12, "c": 9}, 20) == {"b", "c"}
    # Crossed: a row's or a column's total is another report's count, so each
    # hidden cell takes another of its row and of its column with it.
    cells = {"f · x": 50, "f · y": 3, "m · x": 60, "m · y": 40}
    hidden = suppressed(cells, 20)
    assert "f · y" in hidden and "f · x" in hidden  # the row f: 50 + 3 = f's count
    assert "m · y" in hidden  # the column y: 3 + 40 = y's count
    for line in (["f · x", "f · y"], ["m · x", "m · y"], ["f · x", "m · x"], ["f · y", "m · y"]):
        held = [c for c in line if c in hidden]
        assert not held or sum(cells[c] for c in held) >= 20 or len(held) == len(line)
    found = findings([_group(g, n, 0) for g, n in cells.items()], k=20)
    assert {f.group for f in found if f.suppressed} == hidden


def test_a_ratio_of_shares_at_one_has_no_interval() -> None:
    (a, b) = sorted(findings([_group("a", 30, 0), _group("b", 40, 0)]), key=lambda f: f.group)
    assert a.impact_ratio == b.impact_ratio == 1.0
    assert a.impact_interval is None and b.impact_interval is None


def test_the_mean_score_and_its_interval() -> None:
    scores = [990, 1000, 1010, 1000]
    counts = GroupCounts(
        "g", 20, scored=4, score_sum=sum(scores), score_squares=sum(s * s for s in scores)
    )
    (found,) = findings([counts])
    assert found.mean_score == 1000
    sd = math.sqrt(sum((s - 1000) ** 2 for s in scores) / 3)
    assert found.mean_interval is not None
    assert found.mean_interval.high - 1000 == pytest.approx(1.959963984540054 * sd / 2)


def test_dimensions_are_named_and_crossed() -> None:
    assert parse_dimensions("sex, age_band,sex+region") == [
        ("sex",),
        ("age_band",),
        ("sex", "region"),
    ]
    with pytest.raises(ValueError, match="'income' is not one of"):
        parse_dimensions("sex,income")
    with pytest.raises(ValueError):
        parse_dimensions("sex,,region")


def test_group_labels() -> None:
    person = AuditAttributes("k", 1980, "female", "3710")
    at = datetime(2026, 12, 7, tzinfo=UTC)
    assert group_label(person, ("age_band",), at, "3710") == "born 1980s (aged 36-46)"
    assert group_label(person, ("region",), at, "3710") == "3710 山东省 威海市"
    assert group_label(person, ("province",), at, "3710") == "37 山东省"
    assert group_label(person, ("registered",), at, "3710") == "registered here"
    assert group_label(person, ("registered",), at, "1101") == "registered elsewhere"
    assert group_label(person, ("sex", "registered"), at, "37") == "female · registered here"
    beijing = AuditAttributes("k", 1950, "male", "1101")
    assert group_label(beijing, ("region",), at, "") == "1101 北京市"
