"""Rescoring under a new version is explicit and takes effect from its own time (DESIGN.md §3)."""

from __future__ import annotations

from conftest import at, explain, record, scheme
from socialcredit.domain.schemes.compiled import SchemeHistory

V1 = """\
score: {base: 100}
categories:
  - {code: litter, title: Littering, points: -5, severity: minor, validity: P1Y}
  - {code: dropped, title: Dropped later, points: -7, severity: minor, validity: P1Y}
"""
V2 = """\
score: {base: 100}
categories:
  - {code: litter, title: Littering, points: -2, severity: minor, validity: P1Y}
"""


def _history(rescore_at=None) -> SchemeHistory:
    rescorings = [(rescore_at, 2)] if rescore_at is not None else []
    return SchemeHistory.of([(1, scheme(V1)), (2, scheme(V2))], rescorings)


def test_records_keep_the_points_of_their_version_without_a_rescoring() -> None:
    hist = _history()
    old = record(hist, "litter", at(2025, 1, 1), version=1)
    assert explain(hist, [old], at(2025, 6, 1)).score == 95


def test_a_rescoring_applies_the_new_points_from_its_time_on() -> None:
    hist = _history(rescore_at=at(2025, 3, 1))
    old = record(hist, "litter", at(2025, 1, 1), version=1)
    assert explain(hist, [old], at(2025, 2, 28)).score == 95  # before: its own points
    after = explain(hist, [old], at(2025, 3, 1))
    assert after.score == 98
    assert after.counted[0].points == -2  # the explanation shows the points that count


def test_a_category_the_new_version_dropped_keeps_its_recorded_points() -> None:
    hist = _history(rescore_at=at(2025, 3, 1))
    gone = record(hist, "dropped", at(2025, 1, 1), version=1)
    assert explain(hist, [gone], at(2025, 6, 1)).score == 93


def test_records_reported_under_the_target_version_are_untouched() -> None:
    hist = _history(rescore_at=at(2025, 3, 1))
    new = record(hist, "litter", at(2025, 4, 1), version=2)
    assert explain(hist, [new], at(2025, 6, 1)).score == 98
