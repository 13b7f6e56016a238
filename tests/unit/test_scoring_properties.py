"""Property tests of the scoring engine and check decisions (DESIGN.md §3).

(a) The explanation agrees with an independent, naive reading of §3: every
    record is either counted or excluded (exactly once, with the right
    reason), and ``score == clamp(base + sum(points of counted records))``.
(b) Nothing depends on the order records, events, schemes, evaluations or
    memoranda are given in.
"""

from __future__ import annotations

import functools
import random
from collections import Counter
from datetime import datetime, timedelta

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import US, at, event, events, history, memorandum, record, scheme
from socialcredit.domain.ledger.records import EVENT_KINDS, SUSPENDING_STATUSES, Record, RecordEvent
from socialcredit.domain.sanctions.check import Decision, Reason, combine, decide
from socialcredit.domain.schemes.compiled import SchemeHistory, build_measure_index, list_end
from socialcredit.domain.scoring.engine import SchemeEvaluation, evaluate, record_list_entries

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
START = at(2023, 12, 30)  # a Saturday: weeks, months and a year turn within reach
SPAN_MINUTES = 60 * 24 * 70
VALIDITIES = ["PT1H", "P1D", "P1W", "P1M", "P1Y", "P1Y"]
PERIODS = ["day", "week", "month", "year"]
EFFECTS = ["deny", "adjust", "publish", "priority", "allow"]
FACTORS = [0.1, 0.3, 0.5, 0.7, 0.9, 1.1]
ACTION = "x.act"
# Week (Sunday -> Monday), month and year turns, in minutes from START.
TURNS = [
    int((moment - START).total_seconds() // 60)
    for moment in (at(2024, 1, 1), at(2024, 1, 8), at(2024, 2, 1), at(2024, 3, 1))
]
RECORD_LISTS = ["timed", "untimed"]


# --- strategies ---------------------------------------------------------------------


@st.composite
def measures(draw, grade_names: list[str]) -> list[dict]:
    found = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            target = {
                "grades": draw(st.lists(st.sampled_from(grade_names), min_size=1, unique=True))
            }
        else:
            target = {"list": draw(st.sampled_from([*RECORD_LISTS, "top"]))}
        effect = draw(st.sampled_from(EFFECTS))
        measure = {"on": target, "action": ACTION, "effect": effect}
        if effect == "adjust":
            measure["factor"] = draw(st.sampled_from(FACTORS))
        found.append({**measure, "context": "civic", "rationale": "r"})
    return found


@st.composite
def scheme_bodies(draw) -> dict:
    n_grades = draw(st.integers(1, 4))
    minimums = sorted(
        draw(
            st.lists(
                st.integers(-80, 80), min_size=n_grades - 1, max_size=n_grades - 1, unique=True
            )
        ),
        reverse=True,
    )
    grades: list[dict] = [{"name": f"G{i}", "min": m} for i, m in enumerate(minimums)]
    grades.append({"name": f"G{n_grades - 1}"})
    names = [g["name"] for g in grades]
    score: dict = {"base": draw(st.integers(-40, 40))}
    low = draw(st.none() | st.integers(-60, 0))
    high = draw(st.none() | st.integers(0, 60))
    if low is not None:
        score["min"] = low
    if high is not None:
        score["max"] = high
    categories = []
    for i in range(draw(st.integers(1, 3))):
        category: dict = {
            "code": f"c{i}",
            "title": f"Category {i}",
            "points": draw(st.integers(-30, 30)),
            "severity": "minor",
            "validity": draw(st.sampled_from(VALIDITIES)),
        }
        if draw(st.integers(0, 2)):
            category["limit"] = {
                "count": draw(st.sampled_from([1, 1, 2, 3])),
                "per": draw(st.sampled_from(PERIODS)),
            }
        if draw(st.booleans()):
            category["grade_cap"] = draw(st.sampled_from(names))
        lists = draw(st.lists(st.sampled_from(RECORD_LISTS), unique=True))
        if lists:
            category["lists"] = lists
        categories.append(category)
    return {
        "score": score,
        "grades": grades,
        "lists": [
            {"id": "timed", "kind": "black", "duration": draw(st.sampled_from(VALIDITIES))},
            {"id": "untimed", "kind": "black"},
            {"id": "top", "kind": "red", "grades": [names[0]]},
        ],
        "categories": categories,
        "measures": draw(measures(names)),
    }


def to_history(body: dict, sid: str, v2_points: list[int] | None) -> SchemeHistory:
    first = scheme(yaml.safe_dump(body, sort_keys=False), id=sid)
    if v2_points is None:
        return history(first)
    changed = [{**c, "points": p} for c, p in zip(body["categories"], v2_points, strict=False)]
    second = scheme(yaml.safe_dump({**body, "categories": changed}, sort_keys=False), id=sid)
    return history(first, second)


def minutes(n: int) -> datetime:
    return START + timedelta(minutes=n)


@st.composite
def subjects(draw, sid: str):
    """A scheme history plus one subject's records, events, enrolment and a time t."""
    body = draw(scheme_bodies())
    n_categories = len(body["categories"])
    v2 = draw(
        st.none() | st.lists(st.integers(-30, 30), min_size=n_categories, max_size=n_categories)
    )
    hist = to_history(body, sid, v2)
    count = draw(st.integers(0, 10))
    ids = draw(st.permutations(range(count)))
    # A small pool of instants makes ties, shared periods and boundaries likely.
    # the last minute before a turn and the first after it
    either_side = st.sampled_from(TURNS).map(lambda turn: [turn - 1, turn])
    anywhere = st.integers(0, SPAN_MINUTES).map(lambda n: [n])
    pool = [
        n for found in draw(st.lists(either_side | anywhere, min_size=1, max_size=3)) for n in found
    ]
    records: list[Record] = []
    found: list[RecordEvent] = []
    for i in range(count):
        occurred = minutes(draw(st.sampled_from(pool) | st.integers(0, SPAN_MINUTES)))
        delay = draw(st.sampled_from([0, 0, 30, 60 * 24, 60 * 24 * 20]))
        r = record(
            hist,
            f"c{draw(st.integers(0, n_categories - 1))}",
            occurred,
            id=f"{sid}-r{ids[i]:02d}",
            reported_at=occurred + timedelta(minutes=delay),
            version=draw(st.sampled_from(sorted(hist.versions))),
        )
        records.append(r)
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
            kind = draw(st.sampled_from(EVENT_KINDS))
            found.append(
                event(r, kind, occurred + timedelta(minutes=draw(st.integers(0, 60 * 24 * 40))))
            )
    enrolled_at = draw(st.none() | st.integers(0, SPAN_MINUTES).map(minutes))
    instants = [i for r in records for i in (r.occurred_at, r.reported_at, r.expires_at)]
    instants += [e.at for e in found]
    choice = draw(st.integers(0, 3)) if instants else 0
    if choice == 0:
        t = minutes(draw(st.integers(-60, SPAN_MINUTES + 60 * 24 * 60)))
    elif choice == 1:  # on or just before a boundary of some record or event
        t = draw(st.sampled_from(instants)) + draw(st.sampled_from([-US, timedelta(0)]))
    else:  # soon after everything is known, when most records count
        last = max(r.reported_at for r in records)
        t = last + timedelta(minutes=draw(st.integers(0, 60 * 24 * 3)))
    return hist, records, events(*found), enrolled_at, t


# --- an independent, naive reading of §3 -------------------------------------------------


def period(per: str, moment: datetime) -> object:
    if per == "day":
        return moment.date()
    if per == "week":
        return moment.isocalendar()[:2]  # ISO weeks start on Monday
    if per == "month":
        return moment.year, moment.month
    return moment.year


def status(evs: list[RecordEvent], t: datetime) -> str | None:
    applied = [e.kind for e in evs if e.at <= t]
    return applied[-1] if applied else None


def naive(hist: SchemeHistory, records, evs, t: datetime, enrolled_at):
    """(counted ids in order, {id: reason}, score, grade, {list: (since, until, records)})."""
    reasons: dict[str, str] = {}
    candidates: list[Record] = []
    standing: list[Record] = []
    for r in records:
        state = status(evs.get(r.id, []), t)
        if r.reported_at > t or r.occurred_at > t:
            reasons[r.id] = "not_yet_reported"
        elif t >= r.expires_at:
            reasons[r.id] = "expired"
            if state not in SUSPENDING_STATUSES:
                standing.append(r)
        elif state in SUSPENDING_STATUSES:
            reasons[r.id] = state
        else:
            candidates.append(r)
    used: Counter = Counter()
    counted: list[Record] = []
    for r in sorted(candidates, key=lambda r: (r.occurred_at, r.id)):
        limit = hist.versions[r.scheme_version].categories[r.category].limit
        if limit is not None:
            slot = (r.category, period(limit.per, r.occurred_at))
            if used[slot] >= limit.count:
                reasons[r.id] = "limit"
                continue
            used[slot] += 1
        counted.append(r)
    standing += counted
    current = hist.current
    rule = current.definition.score
    assert rule is not None
    enrolled = any(r.reported_at <= t for r in records) or (
        enrolled_at is not None and enrolled_at <= t
    )
    score = grade = None
    if enrolled:
        score = rule.base + sum(r.points for r in counted)
        score = max(score, rule.min) if rule.min is not None else score
        score = min(score, rule.max) if rule.max is not None else score
        names = [g.name for g in current.definition.grades]
        grade = next(g.name for g in current.definition.grades if g.min is None or score >= g.min)
        for r in counted:
            cap = hist.versions[r.scheme_version].categories[r.category].grade_cap
            if cap is not None and names.index(cap) > names.index(grade):
                grade = cap
    spans: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for r in standing:
        for list_id in hist.versions[r.scheme_version].categories[r.category].lists:
            until = list_end(current.lists[list_id], r.occurred_at, r.expires_at)
            if t < until:
                spans.setdefault(list_id, []).append((r.occurred_at, until, r.id))
    entries = {
        list_id: (min(s[0] for s in found), max(s[1] for s in found), sorted(s[2] for s in found))
        for list_id, found in spans.items()
    }
    return [r.id for r in counted], reasons, score, grade, entries


# --- (a) the explanation agrees with §3 ------------------------------------------------------


@SETTINGS
@given(subjects("s0"))
def test_explanation_agrees_with_a_naive_reading_of_the_rules(subject) -> None:
    hist, records, evs, enrolled_at, t = subject
    result = evaluate(hist, records, evs, t, enrolled_at)
    e = result.explanation

    # Every record appears exactly once, counted or excluded.
    seen = [c.record for c in e.counted] + [x.record for x in e.excluded]
    assert sorted(seen) == sorted(r.id for r in records)

    # score == clamp(base + sum(points of counted records)).
    rule = hist.current.definition.score
    assert rule is not None
    if e.enrolled:
        total = rule.base + sum(c.points for c in e.counted)
        if rule.min is not None:
            total = max(total, rule.min)
        if rule.max is not None:
            total = min(total, rule.max)
        assert e.score == total
    else:
        assert (e.score, e.grade) == (None, None)

    counted, reasons, score, grade, entries = naive(hist, records, evs, t, enrolled_at)
    assert [c.record for c in e.counted] == counted
    assert {x.record: x.reason for x in e.excluded} == reasons
    assert (e.enrolled, e.score, e.grade) == (score is not None, score, grade)
    by_id = {r.id: r for r in records}
    assert all(c.points == by_id[c.record].points for c in e.counted)
    record_entries = {
        x.list: (x.since, x.until, list(x.records)) for x in result.entries if x.grade is None
    }
    assert record_entries == entries
    grade_lists = {x.list for x in result.entries if x.grade is not None}
    top = hist.current.definition.grades[0].name
    assert grade_lists == ({"top"} if e.grade == top else set())


@SETTINGS
@given(subjects("s0"))
def test_a_check_without_grade_measures_decides_on_record_entries_alone(subject) -> None:
    """What a check reads of a scheme when no measure on the action is on a grade
    or a list held by grade: the entries its records cause, and no score."""
    hist, records, evs, enrolled_at, t = subject
    full = evaluate(hist, records, evs, t, enrolled_at)
    lean = record_list_entries(hist, records, evs, t)
    assert lean.scheme == hist.id
    assert lean.entries == tuple(e for e in full.entries if e.grade is None)
    assert full.entries[: len(lean.entries)] == lean.entries  # record entries come first
    index = build_measure_index([hist.current], [])
    sources = index.sources(ACTION)
    held_by_grade = {lst.id for lst in hist.current.definition.lists if lst.grades}
    if any(s.grades is not None or s.list in held_by_grade for s in sources):
        if any(s.grades is not None for s in sources):
            with pytest.raises(ValueError, match="grades needs its score"):
                decide(ACTION, t, index, {hist.id: lean})
        return
    assert decide(ACTION, t, index, {hist.id: lean}) == decide(ACTION, t, index, {hist.id: full})


@functools.cache
def limited(per: str, count: int) -> SchemeHistory:
    body = {
        "score": {"base": 0},
        "grades": [{"name": "G0"}],
        "categories": [
            {
                "code": "c0",
                "title": "Limited",
                "points": -1,
                "severity": "minor",
                "validity": "P1Y",
                "limit": {"count": count, "per": per},
            }
        ],
    }
    return history(scheme(yaml.safe_dump(body, sort_keys=False), id="limited"))


@settings(SETTINGS, max_examples=200)
@given(
    st.sampled_from(PERIODS),
    st.integers(1, 2),
    st.lists(
        st.sampled_from(TURNS).flatmap(lambda turn: st.integers(turn - 2, turn + 1))
        | st.integers(0, SPAN_MINUTES),
        max_size=8,
    ),
    st.randoms(use_true_random=False),
)
def test_limits_count_the_first_n_in_each_calendar_period(per, count, offsets, rng) -> None:
    hist = limited(per, count)
    ids = list(range(len(offsets)))
    rng.shuffle(ids)
    records = [
        record(hist, "c0", minutes(n), id=f"r{i:02d}") for i, n in zip(ids, offsets, strict=True)
    ]
    t = minutes(SPAN_MINUTES)
    e = evaluate(hist, records, {}, t, START).explanation
    counted, reasons, score, _, _ = naive(hist, records, {}, t, START)
    assert [c.record for c in e.counted] == counted
    assert {x.record: x.reason for x in e.excluded} == reasons
    assert set(reasons.values()) <= {"limit"}
    assert e.score == score == -len(counted)


# --- (b) order never matters ---------------------------------------------------------------


def shuffled_events(evs: dict[str, list[RecordEvent]], rng: random.Random):
    keys = list(evs)
    rng.shuffle(keys)
    return {key: evs[key] for key in keys}  # ledger order within a record is kept


def canonical(decision: Decision):
    return (
        decision.action,
        decision.at,
        decision.effect,
        decision.factor,
        sorted(map(repr, decision.reasons)),
    )


@settings(SETTINGS, max_examples=100)
@given(
    subjects("s0"),
    subjects("s1"),
    st.lists(st.sampled_from(FACTORS), min_size=4, max_size=4),
    st.randoms(use_true_random=False),
)
def test_input_order_never_changes_scores_lists_or_decisions(one, two, factors, rng) -> None:
    t = one[4]
    histories = [one[0], two[0]]
    subject_records = [one[1], two[1]]
    subject_events = [one[2], two[2]]
    enrolments = [one[3], two[3]]
    memo_text = """
measures:
  - {{authority: caac, action: x.act, effect: adjust, factor: {}, context: travel, rationale: r}}
  - {{authority: rail, action: x.act, effect: adjust, factor: {}, context: travel, rationale: r}}
"""
    memo = memorandum(memo_text.format(*factors[:2]), id="memo-a", on_scheme="s0", on_list="timed")
    memo_b = memorandum(
        memo_text.format(*factors[2:]), id="memo-b", on_scheme="s1", on_list="untimed"
    )

    def evaluations(orderly: bool) -> dict[str, SchemeEvaluation]:
        found = {}
        for hist, records, evs, enrolled_at in zip(
            histories, subject_records, subject_events, enrolments, strict=True
        ):
            if not orderly:
                records = list(records)
                rng.shuffle(records)
                evs = shuffled_events(evs, rng)
            found[hist.id] = evaluate(hist, records, evs, t, enrolled_at)
        return found

    plain = evaluations(orderly=True)
    mixed = evaluations(orderly=False)
    assert plain == mixed  # scores, grades, explanations and list entries
    reversed_evaluations = dict(reversed(mixed.items()))

    index = build_measure_index([h.current for h in histories], [memo, memo_b])
    index_reversed = build_measure_index([h.current for h in reversed(histories)], [memo_b, memo])
    first = decide(ACTION, t, index, plain)
    second = decide(ACTION, t, index_reversed, reversed_evaluations)
    assert canonical(first) == canonical(second)


@st.composite
def reasons(draw) -> Reason:
    effect = draw(st.sampled_from(EFFECTS))
    factor = draw(st.sampled_from(FACTORS)) if effect == "adjust" else None
    return Reason(effect, factor, "list", draw(st.sampled_from(["s0", "s1"])), "a", "c", "r")


@SETTINGS
@given(st.lists(reasons(), max_size=8), st.randoms(use_true_random=False))
def test_combine_does_not_depend_on_the_order_of_reasons(found, rng) -> None:
    mixed = list(found)
    rng.shuffle(mixed)
    first, second = combine(ACTION, START, found), combine(ACTION, START, mixed)
    assert canonical(first) == canonical(second)
    strongest = min((EFFECTS.index(r.effect) for r in found), default=EFFECTS.index("allow"))
    assert first.effect == EFFECTS[strongest]
    assert (first.factor is None) == (first.effect != "adjust")
