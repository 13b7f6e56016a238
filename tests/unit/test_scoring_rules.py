"""One focused test per rule of DESIGN.md §3 (scores, grades, explanations, lists)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from conftest import (
    US,
    at,
    counted_ids,
    evaluation,
    event,
    explain,
    history,
    reasons_of,
    record,
    scheme,
)
from socialcredit.domain.ledger.records import Record
from socialcredit.domain.scoring.engine import GradeCap, ListEntry

BODY = """
score: {base: 100, min: 0, max: 120}
grades:
  - {name: A, min: 100}
  - {name: B, min: 80}
  - {name: C, min: 50}
  - {name: D}
lists:
  - {id: defaulters, kind: black, duration: P2Y}
  - {id: offenders, kind: black}
  - {id: models, kind: red, grades: [A]}
categories:
  - {code: ticket, title: Traffic ticket, points: -5, severity: minor, validity: P1Y}
  - {code: heroic, title: Heroic act, points: 30, severity: minor, validity: P1Y}
  - {code: big-fine, title: Big fine, points: -60, severity: general, validity: P1Y}
  - code: daily
    title: Two a day
    points: -1
    severity: minor
    validity: P1Y
    limit: {count: 2, per: day}
  - {code: weekly, title: One a week, points: -1, severity: minor, validity: P1Y, limit: {count: 1, per: week}}
  - {code: monthly, title: One a month, points: -1, severity: minor, validity: P1Y, limit: {count: 1, per: month}}
  - {code: yearly, title: One a year, points: -1, severity: minor, validity: P2Y, limit: {count: 1, per: year}}
  - {code: brief, title: Counts an hour, points: -1, severity: minor, validity: PT1H, limit: {count: 1, per: day}}
  - {code: drunk, title: Drunk driving, points: -10, severity: serious, validity: P3Y, grade_cap: C, lists: [offenders]}
  - {code: fraud, title: Fraud, points: -5, severity: general, validity: P1Y, grade_cap: B}
  - {code: default, title: Judgment default, points: -20, severity: serious, validity: P6M, lists: [defaulters]}
  - code: evasion
    title: Evasion
    points: -10
    severity: serious
    validity: P1Y
    lists: [defaulters]
    limit: {count: 1, per: year}
"""

H = history(scheme(BODY))
T = at(2024, 3, 1, 12)


def based(base: int):
    return history(scheme(BODY.replace("base: 100", f"base: {base}")))


# --- validity and bi-temporal knowledge ------------------------------------------------


def test_record_counts_until_just_before_expires_at() -> None:
    r = record(H, "ticket", T)
    assert r.expires_at == at(2025, 3, 1, 12)
    before = explain(H, [r], r.expires_at - US)
    assert counted_ids(before) == [r.id]
    assert before.score == 95


def test_record_is_excluded_as_expired_exactly_at_expires_at() -> None:
    r = record(H, "ticket", T)
    e = explain(H, [r], r.expires_at)
    assert counted_ids(e) == []
    assert reasons_of(e) == {r.id: "expired"}
    assert e.score == 100


def test_record_counts_exactly_at_occurred_at_not_before() -> None:
    r = record(H, "ticket", T)
    assert counted_ids(explain(H, [r], T)) == [r.id]
    assert counted_ids(explain(H, [r], T - US)) == []


def test_record_reported_before_it_occurred_does_not_count_before_occurred_at() -> None:
    # occurred_at <= t is a condition of its own, not implied by reported_at <= t.
    r = record(H, "ticket", T, reported_at=T - timedelta(days=1))
    early = explain(H, [r], T - US)
    assert counted_ids(early) == []
    assert early.score == 100
    assert reasons_of(early) == {r.id: "not_yet_reported"}
    assert counted_ids(explain(H, [r], T)) == [r.id]


def test_record_reported_after_t_is_not_yet_reported_and_as_if_absent() -> None:
    other = record(H, "ticket", at(2024, 1, 1))
    late = record(H, "big-fine", T, reported_at=at(2024, 6, 1))
    t = at(2024, 4, 1)
    with_late = explain(H, [other, late], t)
    without = explain(H, [other], t)
    assert reasons_of(with_late) == {late.id: "not_yet_reported"}
    assert (with_late.score, with_late.grade, with_late.counted) == (
        without.score,
        without.grade,
        without.counted,
    )
    assert with_late.score == 95


def test_late_record_counts_from_reported_at() -> None:
    late = record(H, "big-fine", T, reported_at=at(2024, 6, 1))
    assert counted_ids(explain(H, [late], at(2024, 6, 1) - US)) == []
    known = explain(H, [late], at(2024, 6, 1))
    assert counted_ids(known) == [late.id]
    assert known.score == 40


def test_unknown_record_takes_no_limit_slot_until_reported() -> None:
    early_late = record(H, "brief", at(2024, 3, 1, 10), id="a", reported_at=at(2024, 3, 1, 10, 40))
    prompt = record(H, "brief", at(2024, 3, 1, 10, 30), id="b")
    before = explain(H, [early_late, prompt], at(2024, 3, 1, 10, 35))
    assert counted_ids(before) == ["b"]
    after = explain(H, [early_late, prompt], at(2024, 3, 1, 10, 45))
    assert counted_ids(after) == ["a"]
    assert reasons_of(after) == {"b": "limit"}


# --- exclusion reason priority ------------------------------------------------------


def test_not_yet_reported_takes_priority_over_expired() -> None:
    r = record(H, "ticket", at(2020, 1, 1), reported_at=at(2023, 1, 1))
    assert reasons_of(explain(H, [r], at(2022, 1, 1))) == {r.id: "not_yet_reported"}


def test_expired_takes_priority_over_status() -> None:
    r = record(H, "ticket", T)
    e = explain(H, [r], r.expires_at, [event(r, "contested", T + timedelta(days=1))])
    assert reasons_of(e) == {r.id: "expired"}


def test_status_takes_priority_over_limit() -> None:
    first = record(H, "yearly", at(2024, 1, 1), id="a")
    second = record(H, "yearly", at(2024, 2, 1), id="b")
    e = explain(H, [first, second], T, [event(second, "erased", T - US)])
    assert counted_ids(e) == ["a"]
    assert reasons_of(e) == {"b": "erased"}


# --- limits by calendar period --------------------------------------------------------


def test_daily_limit_counts_the_first_n_of_a_utc_day() -> None:
    rs = [
        record(H, "daily", at(2024, 3, 1, 0, 0), id="a"),
        record(H, "daily", at(2024, 3, 1, 8), id="b"),
        record(H, "daily", at(2024, 3, 1, 23, 59, 59, 999999), id="c"),
        record(H, "daily", at(2024, 3, 2, 0, 0), id="d"),
    ]
    e = explain(H, rs, at(2024, 3, 5))
    assert counted_ids(e) == ["a", "b", "d"]
    assert reasons_of(e) == {"c": "limit"}
    assert e.score == 97


def test_weekly_limit_weeks_start_on_monday() -> None:
    saturday = record(H, "weekly", at(2024, 1, 6, 9), id="sat")
    sunday = record(H, "weekly", at(2024, 1, 7, 23, 59), id="sun")
    monday = record(H, "weekly", at(2024, 1, 8, 0, 0), id="mon")
    e = explain(H, [saturday, sunday, monday], at(2024, 1, 10))
    assert counted_ids(e) == ["sat", "mon"]
    assert reasons_of(e) == {"sun": "limit"}


def test_weekly_limit_sunday_then_monday_are_different_weeks() -> None:
    sunday = record(H, "weekly", at(2024, 1, 7, 23, 59, 59), id="sun")
    monday = record(H, "weekly", at(2024, 1, 8, 0, 0), id="mon")
    assert counted_ids(explain(H, [sunday, monday], at(2024, 1, 9))) == ["sun", "mon"]


def test_monthly_limit_resets_at_the_month_boundary() -> None:
    jan = record(H, "monthly", at(2024, 1, 31, 23, 59), id="jan")
    feb1 = record(H, "monthly", at(2024, 2, 1, 0, 0), id="feb1")
    feb29 = record(H, "monthly", at(2024, 2, 29, 23), id="feb29")
    e = explain(H, [feb29, jan, feb1], at(2024, 3, 1))
    assert counted_ids(e) == ["jan", "feb1"]
    assert reasons_of(e) == {"feb29": "limit"}


def test_yearly_limit_resets_at_the_year_boundary() -> None:
    dec = record(H, "yearly", at(2023, 12, 31, 23, 59, 59), id="dec")
    jan = record(H, "yearly", at(2024, 1, 1, 0, 0), id="jan")
    later = record(H, "yearly", at(2024, 12, 31, 23), id="later")
    e = explain(H, [later, jan, dec], at(2025, 1, 2))
    assert counted_ids(e) == ["dec", "jan"]
    assert reasons_of(e) == {"later": "limit"}


def test_limit_periods_are_utc_calendar_periods() -> None:
    beijing = timezone(timedelta(hours=8))
    # 2024-01-01 01:00 in Beijing is still 2023 in UTC.
    old_year = record(H, "yearly", datetime(2024, 1, 1, 1, tzinfo=beijing), id="a")
    new_year = record(H, "yearly", datetime(2024, 1, 1, 10, tzinfo=beijing), id="b")
    assert counted_ids(explain(H, [old_year, new_year], at(2024, 2, 1))) == ["a", "b"]


def test_limit_orders_by_occurred_at_then_id() -> None:
    later_small_id = record(H, "yearly", at(2024, 5, 1), id="a")
    same_time_b = record(H, "yearly", at(2024, 2, 1), id="c")
    same_time_a = record(H, "yearly", at(2024, 2, 1), id="b")
    e = explain(H, [later_small_id, same_time_b, same_time_a], at(2024, 6, 1))
    assert counted_ids(e) == ["b"]
    assert reasons_of(e) == {"a": "limit", "c": "limit"}


def test_contested_record_frees_its_limit_slot() -> None:
    first = record(H, "yearly", at(2024, 1, 1), id="a")
    second = record(H, "yearly", at(2024, 2, 1), id="b")
    assert counted_ids(explain(H, [first, second], T)) == ["a"]
    e = explain(H, [first, second], T, [event(first, "contested", T - US)])
    assert counted_ids(e) == ["b"]
    assert reasons_of(e) == {"a": "contested"}


def test_expired_record_frees_its_limit_slot() -> None:
    first = record(H, "brief", at(2024, 3, 1, 10), id="a")
    second = record(H, "brief", at(2024, 3, 1, 10, 30), id="b")
    e = explain(H, [first, second], at(2024, 3, 1, 10, 45))
    assert (counted_ids(e), reasons_of(e)) == (["a"], {"b": "limit"})
    e = explain(H, [first, second], at(2024, 3, 1, 11, 15))
    assert (counted_ids(e), reasons_of(e)) == (["b"], {"a": "expired"})


# --- score, clamp, enrolment -------------------------------------------------------------


def test_score_is_clamped_to_min() -> None:
    rs = [record(H, "big-fine", T + timedelta(hours=i)) for i in range(3)]
    e = explain(H, rs, T + timedelta(days=1))
    assert len(e.counted) == 3
    assert e.score == 0


def test_score_is_clamped_to_max() -> None:
    e = explain(H, [record(H, "heroic", T)], T)
    assert e.score == 120


def test_enrolled_subject_without_records_scores_base() -> None:
    e = explain(H, [], T, enrolled_at=T)
    assert (e.enrolled, e.score, e.grade, e.counted, e.excluded) == (True, 100, "A", (), ())


def test_not_enrolled_has_no_score_or_grade() -> None:
    e = explain(H, [], T, enrolled_at=T + US)
    assert (e.enrolled, e.score, e.grade) == (False, None, None)
    assert explain(H, [], T).score is None


def test_a_known_record_enrols_even_when_it_no_longer_counts() -> None:
    r = record(H, "ticket", at(2020, 1, 1))
    e = explain(H, [r], T, [event(r, "overturned", at(2020, 2, 1))])
    assert (e.enrolled, e.score, e.grade) == (True, 100, "A")


def test_a_record_not_yet_reported_does_not_enrol() -> None:
    r = record(H, "ticket", T, reported_at=T + timedelta(days=1))
    assert explain(H, [r], T).enrolled is False
    assert explain(H, [r], T + timedelta(days=1)).enrolled is True


# --- grades ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "grade"),
    [(120, "A"), (100, "A"), (99, "B"), (80, "B"), (79, "C"), (50, "C"), (49, "D"), (-500, "D")],
)
def test_grade_bands_are_top_down_with_inclusive_min(base: int, grade: str) -> None:
    h = history(
        scheme(BODY.replace("score: {base: 100, min: 0, max: 120}", f"score: {{base: {base}}}"))
    )
    e = explain(h, [], T, enrolled_at=T)
    assert (e.score, e.grade, e.band) == (base, grade, grade)


def test_grade_cap_lowers_the_grade() -> None:
    r = record(H, "drunk", T)
    e = explain(H, [r], T)
    assert (e.score, e.band, e.grade) == (90, "B", "C")
    assert e.cap == GradeCap("C", r.id, "drunk")


def test_grade_cap_never_raises_the_grade() -> None:
    fine = record(H, "big-fine", T)
    drunk = record(H, "drunk", T)
    e = explain(H, [fine, drunk], T)
    assert (e.score, e.band, e.grade) == (30, "D", "D")


def test_lowest_of_several_caps_wins() -> None:
    for order in ((0, 1), (1, 0)):
        rs = [record(H, "fraud", T, id="f"), record(H, "drunk", T, id="d")]
        e = explain(H, [rs[i] for i in order], T)
        assert e.grade == "C"
        assert e.cap == GradeCap("C", "d", "drunk")


def test_grade_cap_ends_when_the_capping_record_expires() -> None:
    drunk = record(H, "drunk", T)
    e = explain(H, [drunk], drunk.expires_at)
    assert (e.score, e.grade, e.cap) == (100, "A", None)


def test_grade_cap_ends_when_the_capping_record_is_contested() -> None:
    drunk = record(H, "drunk", T)
    ticket = record(H, "ticket", T)
    e = explain(
        H,
        [drunk, ticket],
        T + timedelta(days=2),
        [event(drunk, "contested", T + timedelta(days=1))],
    )
    assert (e.score, e.band, e.grade, e.cap) == (95, "B", "B", None)


# --- record status -----------------------------------------------------------------------


def test_contested_record_is_frozen_and_counts_again_when_upheld() -> None:
    r = record(H, "ticket", T)
    evs = [event(r, "contested", T + timedelta(days=1)), event(r, "upheld", T + timedelta(days=5))]
    before = explain(H, [r], T + timedelta(days=1) - US, evs)
    frozen = explain(H, [r], T + timedelta(days=1), evs)
    upheld = explain(H, [r], T + timedelta(days=5), evs)
    assert (before.score, counted_ids(before)) == (95, [r.id])
    assert (frozen.score, reasons_of(frozen)) == (100, {r.id: "contested"})
    assert (upheld.score, counted_ids(upheld), upheld.excluded) == (95, [r.id], ())


@pytest.mark.parametrize("kind", ["overturned", "repaired", "erased"])
def test_overturned_repaired_erased_exclude_with_their_reason(kind) -> None:
    r = record(H, "ticket", T)
    e = explain(H, [r], T + timedelta(days=2), [event(r, kind, T + timedelta(days=1))])
    assert (e.score, counted_ids(e), reasons_of(e)) == (100, [], {r.id: kind})


def test_status_is_the_last_event_at_or_before_t() -> None:
    r = record(H, "ticket", T)
    evs = [
        event(r, "contested", T + timedelta(days=1)),
        event(r, "overturned", T + timedelta(days=3)),
    ]
    assert reasons_of(explain(H, [r], T + timedelta(days=2), evs)) == {r.id: "contested"}
    assert reasons_of(explain(H, [r], T + timedelta(days=3), evs)) == {r.id: "overturned"}


def test_an_event_after_t_does_not_apply() -> None:
    r = record(H, "ticket", T)
    e = explain(H, [r], T + timedelta(days=1) - US, [event(r, "erased", T + timedelta(days=1))])
    assert counted_ids(e) == [r.id]


def test_events_at_the_same_instant_apply_in_ledger_order() -> None:
    r = record(H, "ticket", T)
    when = T + timedelta(days=1)
    upheld_last = [event(r, "contested", when), event(r, "upheld", when)]
    contested_last = [event(r, "upheld", when), event(r, "contested", when)]
    assert counted_ids(explain(H, [r], when, upheld_last)) == [r.id]
    assert reasons_of(explain(H, [r], when, contested_last)) == {r.id: "contested"}


# --- explanation ------------------------------------------------------------------------


def test_explanation_lists_counted_points_and_each_excluded_reason() -> None:
    counted = record(H, "ticket", T, id="a")
    expired = record(H, "ticket", at(2020, 1, 1), id="b")
    unknown = record(H, "ticket", T, id="c", reported_at=T + timedelta(days=9))
    e = explain(H, [unknown, expired, counted], T + timedelta(days=1))
    assert [(c.record, c.points, c.category) for c in e.counted] == [("a", -5, "ticket")]
    assert reasons_of(e) == {"b": "expired", "c": "not_yet_reported"}
    assert (e.base, e.scheme, e.version, e.at) == (100, "civic", 1, T + timedelta(days=1))


# --- record-triggered lists -----------------------------------------------------------


def _entries(h, records, t, evs=()):
    """Record-triggered entries by list (grade-based entries are tested below)."""
    found = evaluation(h, records, t, evs).entries
    return {entry.list: entry for entry in found if entry.grade is None}


def test_list_entry_runs_from_occurred_at_for_the_list_duration() -> None:
    r = record(H, "default", T)
    expected = ListEntry("civic", "defaulters", "black", T, at(2026, 3, 1, 12), (r.id,))
    assert _entries(H, [r], T - US) == {}
    assert _entries(H, [r], T) == {"defaulters": expected}
    assert _entries(H, [r], at(2026, 3, 1, 12) - US) == {"defaulters": expected}
    assert _entries(H, [r], at(2026, 3, 1, 12)) == {}


def test_list_with_its_own_duration_outlives_the_record_validity() -> None:
    r = record(H, "default", T)
    t = r.expires_at + timedelta(days=30)
    assert reasons_of(explain(H, [r], t)) == {r.id: "expired"}
    assert list(_entries(H, [r], t)) == ["defaulters"]


def test_list_without_duration_ends_with_the_record_validity() -> None:
    r = record(H, "drunk", T)
    assert r.expires_at == at(2027, 3, 1, 12)
    entry = _entries(H, [r], r.expires_at - US)["offenders"]
    assert (entry.since, entry.until, entry.records) == (T, r.expires_at, (r.id,))
    assert "offenders" not in _entries(H, [r], r.expires_at)


@pytest.mark.parametrize("kind", ["repaired", "overturned"])
def test_repair_or_overturn_ends_the_entry_at_the_event_time(kind) -> None:
    r = record(H, "default", T)
    when = T + timedelta(days=200)
    evs = [event(r, kind, when)]
    assert "defaulters" in _entries(H, [r], when - US, evs)
    assert _entries(H, [r], when, evs) == {}


def test_repair_after_the_record_expired_still_ends_the_entry() -> None:
    r = record(H, "default", T)
    when = r.expires_at + timedelta(days=30)
    evs = [event(r, "repaired", when)]
    assert "defaulters" in _entries(H, [r], when - US, evs)
    assert _entries(H, [r], when, evs) == {}
    assert reasons_of(explain(H, [r], when, evs)) == {r.id: "expired"}


def test_contested_record_suspends_its_entry_and_upheld_restores_it() -> None:
    r = record(H, "default", T)
    evs = [event(r, "contested", T + timedelta(days=1)), event(r, "upheld", T + timedelta(days=9))]
    assert _entries(H, [r], T + timedelta(days=2), evs) == {}
    assert _entries(H, [r], T + timedelta(days=9), evs)["defaulters"].since == T


def test_limit_excluded_record_does_not_cause_an_entry() -> None:
    first = record(H, "evasion", at(2024, 1, 1), id="a")
    second = record(H, "evasion", at(2024, 2, 1), id="b")
    entry = _entries(H, [first, second], T)["defaulters"]
    assert entry.records == ("a",)


def test_overlapping_causes_merge_into_one_entry() -> None:
    first = record(H, "default", T, id="a")
    second = record(H, "evasion", T + timedelta(days=90), id="b")
    entries = evaluation(H, [second, first], T + timedelta(days=100)).entries
    assert entries == (
        ListEntry("civic", "defaulters", "black", T, at(2026, 5, 30, 12), ("a", "b")),
    )


def test_record_of_a_category_without_lists_causes_no_entry() -> None:
    assert evaluation(H, [record(H, "big-fine", T)], T).entries == ()


# --- grade-based lists --------------------------------------------------------------


def test_grade_list_holds_while_the_grade_holds_since_the_run_start() -> None:
    enrolled = at(2024, 1, 1)
    ticket = record(H, "ticket", T)  # 95 -> B, until 2025-03-01 12:00
    e0 = evaluation(H, [ticket], T - US, enrolled_at=enrolled)
    assert e0.entries == (ListEntry("civic", "models", "red", enrolled, None, (), grade="A"),)
    assert evaluation(H, [ticket], T, enrolled_at=enrolled).entries == ()
    later = evaluation(H, [ticket], at(2025, 6, 1), enrolled_at=enrolled)
    assert [(e.list, e.since, e.until, e.grade) for e in later.entries] == [
        ("models", ticket.expires_at, None, "A")
    ]


def test_grade_list_run_restarts_when_a_contest_changes_the_grade() -> None:
    enrolled = at(2024, 1, 1)
    ticket = record(H, "ticket", T)
    contested = T + timedelta(days=10)
    ev = evaluation(
        H, [ticket], T + timedelta(days=20), [event(ticket, "contested", contested)], enrolled
    )
    assert [(e.list, e.since) for e in ev.entries] == [("models", contested)]


def test_grade_list_needs_enrolment() -> None:
    assert evaluation(H, [], T).entries == ()


# --- scheme versions ------------------------------------------------------------------

V1 = """
score: {base: 100}
grades:
  - {name: A, min: 100}
  - {name: B, min: 80}
  - {name: C}
lists:
  - {id: defaulters, kind: black, duration: P2Y}
categories:
  - {code: ticket, title: Ticket, points: -5, severity: minor, validity: P1Y, limit: {count: 1, per: day}}
  - {code: litter, title: Littering, points: -3, severity: minor, validity: P1Y}
  - {code: drunk, title: Drunk driving, points: -1, severity: serious, validity: P1Y, grade_cap: C, lists: [defaulters]}
"""
V2 = """
score: {base: 100}
grades:
  - {name: A, min: 97}
  - {name: B, min: 80}
  - {name: C}
lists:
  - {id: defaulters, kind: black, duration: P2Y}
categories:
  - {code: ticket, title: Ticket, points: -10, severity: minor, validity: P1Y}
  - {code: drunk, title: Drunk driving, points: -1, severity: serious, validity: P1Y}
"""
VH = history(scheme(V1), scheme(V2))


def test_records_keep_the_points_of_their_version() -> None:
    old = record(VH, "ticket", T, id="old", version=1)
    new = record(VH, "ticket", T, id="new", version=2)
    e = explain(VH, [old, new], T)
    assert e.version == 2
    assert {c.record: c.points for c in e.counted} == {"old": -5, "new": -10}
    assert e.score == 85


def test_category_removed_in_the_new_version_still_counts_with_its_points() -> None:
    r = record(VH, "litter", T, version=1)
    e = explain(VH, [r], T)
    assert [(c.record, c.points) for c in e.counted] == [(r.id, -3)]
    assert e.score == 97


def test_limit_comes_from_the_version_the_record_was_reported_under() -> None:
    v1 = [record(VH, "ticket", T, id=f"a{i}", version=1) for i in range(2)]
    v2 = [record(VH, "ticket", T, id=f"b{i}", version=2) for i in range(2)]
    assert reasons_of(explain(VH, v1, T)) == {"a1": "limit"}
    assert counted_ids(explain(VH, v2, T)) == ["b0", "b1"]


def test_grade_cap_and_lists_come_from_the_reported_version() -> None:
    old = record(VH, "drunk", T, version=1)
    ev = evaluation(VH, [old], T)
    assert (ev.explanation.band, ev.explanation.grade) == ("A", "C")
    assert [e.list for e in ev.entries] == ["defaulters"]
    new = record(VH, "drunk", T, version=2)
    ev = evaluation(VH, [new], T)
    assert (ev.explanation.band, ev.explanation.grade, ev.entries) == ("A", "A", ())


def test_grades_come_from_the_current_version() -> None:
    r = record(VH, "litter", T, version=1)  # 97: B under v1, A under v2
    assert explain(VH, [r], T).grade == "A"
    assert explain(history(scheme(V1)), [r], T).grade == "B"


def test_a_monthly_scheme_answers_as_at_the_start_of_the_month() -> None:
    from socialcredit.domain.schemes.compiled import SchemeHistory, compile_scheme
    from socialcredit.domain.schemes.models import Scheme
    from socialcredit.domain.scoring.engine import evaluate

    scheme = Scheme.model_validate(
        {
            "type": "scheme",
            "id": "rides",
            "title": "Rides",
            "recompute": "monthly",
            "authority": {"id": "op", "name": "Operator", "kind": "commercial"},
            "context": "mobility",
            "lawful_basis": "contract",
            "subjects": ["person"],
            "retention": "P1Y",
            "score": {"base": 100},
            "categories": [
                {
                    "code": "ride",
                    "title": "Ride",
                    "points": 1,
                    "severity": "minor",
                    "validity": "P1Y",
                }
            ],
        }
    )
    history = SchemeHistory({1: compile_scheme(scheme, 1)}, rescorings=())
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    records = [
        Record(
            "a",
            "s",
            "rides",
            1,
            "ride",
            datetime(2025, 2, 10, tzinfo=UTC),
            datetime(2025, 2, 10, tzinfo=UTC),
            datetime(2026, 2, 10, tzinfo=UTC),
            1,
            "op",
        ),
        Record(
            "b",
            "s",
            "rides",
            1,
            "ride",
            datetime(2025, 3, 5, tzinfo=UTC),
            datetime(2025, 3, 5, tzinfo=UTC),
            datetime(2026, 3, 5, tzinfo=UTC),
            1,
            "op",
        ),
    ]
    during = evaluate(history, records, {}, datetime(2025, 3, 31, 23, tzinfo=UTC)).explanation
    assert (during.score, during.at) == (101, t0)  # b waits for April's recomputation
    assert evaluate(history, records, {}, datetime(2025, 4, 1, tzinfo=UTC)).explanation.score == 102
