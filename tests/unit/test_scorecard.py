"""Scorecard schemes (issue #5): factors, bins, windows, missing values, clamping,
explanations, and how contests and limits reach the factors (docs/schemes.md, *Scorecards*)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import US, at, check, evaluation, event, explain, history, reasons_of, record, scheme
from socialcredit.domain.compliance import lint
from socialcredit.domain.schemes.compiled import SchemeHistory
from socialcredit.domain.schemes.loader import parse_definition
from socialcredit.domain.schemes.models import Bin, Factor, Scheme
from socialcredit.domain.schemes.scorecard import bin_for, bin_labels, dimension_points
from socialcredit.domain.scoring.engine import score_history
from socialcredit.errors import DefinitionError

BODY = """
score: {base: 500, min: 300, max: 900}
grades:
  - {name: high, min: 650}
  - {name: mid, min: 500}
  - {name: low}
lists:
  - {id: frauds, kind: black}
scorecard:
  dimensions:
    - id: history
      title: History
      factors:
        - id: paid-count
          title: Bills paid
          count: [paid]
          bins:
            - {below: 1, points: -20}
            - {below: 3, points: 0}
            - {points: 30}
        - id: on-time
          title: Share of bills paid on time
          ratio: {numerator: [paid], denominator: [paid, late]}
          bins:
            - {below: 0.5, points: -50}
            - {below: 0.9, points: 0}
            - {points: 40}
          missing: 5
        - id: recent-paid
          title: Bills paid in the last 30 days
          count: [paid]
          window: P30D
          bins:
            - {below: 1, points: 0}
            - {points: 10}
    - id: standing
      title: Standing
      factors:
        - id: assets
          title: Declared assets
          sum: [asset-small, asset-big]
          bins:
            - {below: 3, points: 0}
            - {points: 25}
        - id: tenure
          title: Account age in days
          age: [opened]
          bins:
            - {below: 365, points: 0}
            - {points: 60}
          missing: -10
        - id: last-late
          title: Days since the last late payment
          recency: [late]
          bins:
            - {below: 90, points: -30}
            - {points: 0}
        - id: visits
          title: Branch visits
          count: [visit]
          bins:
            - {below: 1, points: 0}
            - {points: 5}
categories:
  - {code: paid, title: Bill paid, severity: general, validity: P1Y}
  - {code: late, title: Bill paid late, severity: general, validity: P1Y}
  - {code: opened, title: Account opened, severity: serious, validity: P3Y}
  - {code: asset-small, title: Small asset, points: 1, severity: general, validity: P1Y}
  - {code: asset-big, title: Big asset, points: 2, severity: general, validity: P1Y}
  - {code: visit, title: Branch visit, severity: minor, validity: P3M, limit: {count: 1, per: day}}
  - {code: fraud, title: Fraud, severity: serious, validity: P2Y, grade_cap: low, lists: [frauds]}
"""

H = history(scheme(BODY))
T = at(2024, 6, 1, 12)
EMPTY = 500 - 20 + 5 - 10  # paid-count 0, on-time missing, tenure missing


def based(base: int, low: int = 300, high: int = 900):
    return history(
        scheme(
            BODY.replace(
                "{base: 500, min: 300, max: 900}", f"{{base: {base}, min: {low}, max: {high}}}"
            )
        )
    )


def factors_of(explanation) -> dict[str, tuple[float | None, str, int]]:
    return {f.factor: (f.value, f.bin, f.points) for f in explanation.factors}


# --- the empty scorecard and each measure ------------------------------------------


def test_an_enrolled_subject_without_records_scores_base_plus_the_empty_bins() -> None:
    found = explain(H, [], T, enrolled_at=at(2024, 1, 1))
    assert found.score == EMPTY
    assert factors_of(found) == {
        "paid-count": (0, "x < 1", -20),
        "on-time": (None, "missing", 5),
        "recent-paid": (0, "x < 1", 0),
        "assets": (0, "x < 3", 0),
        "tenure": (None, "missing", -10),
        "last-late": (None, "missing", 0),
        "visits": (0, "x < 1", 0),
    }
    assert [f.dimension for f in found.factors] == ["history"] * 3 + ["standing"] * 4


def test_a_subject_not_enrolled_has_no_factors() -> None:
    found = explain(H, [], T)
    assert (found.score, found.factors) == (None, ())


def test_count_and_ratio() -> None:
    records = [record(H, "paid", T - timedelta(days=d)) for d in (40, 50, 60)]
    records.append(record(H, "late", T - timedelta(days=100)))
    found = factors_of(explain(H, records, T))
    assert found["paid-count"] == (3, "x ≥ 3", 30)
    assert found["on-time"] == (0.75, "0.5 ≤ x < 0.9", 0)
    assert found["last-late"] == (100, "x ≥ 90", 0)


def test_ratio_below_the_first_edge_and_the_top_bin() -> None:
    late = [record(H, "late", T - timedelta(days=d)) for d in (10, 20, 30)]
    assert factors_of(explain(H, [record(H, "paid", T - timedelta(days=5)), *late], T))[
        "on-time"
    ] == (0.25, "x < 0.5", -50)
    assert factors_of(explain(H, [record(H, "paid", T)], T))["on-time"] == (1.0, "x ≥ 0.9", 40)


def test_sum_adds_the_records_points_and_only_there() -> None:
    records = [
        record(H, "asset-small", T - timedelta(days=3)),
        record(H, "asset-big", T - timedelta(days=2)),
    ]
    found = explain(H, records, T)
    assert factors_of(found)["assets"] == (3, "x ≥ 3", 25)
    # The records' own points (1 and 2) are inputs of the sum, not score points.
    assert [c.points for c in found.counted] == [1, 2]
    assert found.score == EMPTY + 25


def test_age_counts_whole_days_from_the_earliest_record() -> None:
    opened = record(H, "opened", T - timedelta(days=365))
    again = record(H, "opened", T - timedelta(days=10))
    assert factors_of(explain(H, [opened, again], T))["tenure"] == (365, "x ≥ 365", 60)
    # One microsecond short of 365 days is 364 whole days.
    assert factors_of(explain(H, [opened], opened.occurred_at + timedelta(days=365) - US))[
        "tenure"
    ] == (364, "x < 365", 0)


def test_recency_counts_whole_days_from_the_latest_record() -> None:
    records = [
        record(H, "late", T - timedelta(days=200)),
        record(H, "late", T - timedelta(days=89)),
    ]
    assert factors_of(explain(H, records, T))["last-late"] == (89, "x < 90", -30)


def test_window_takes_only_records_inside_it() -> None:
    inside = record(H, "paid", T - timedelta(days=29))
    outside = record(H, "paid", T - timedelta(days=31))
    found = factors_of(explain(H, [inside, outside], T))
    assert found["recent-paid"] == (1, "x ≥ 1", 10)
    assert found["paid-count"] == (2, "1 ≤ x < 3", 0)  # no window: both count
    # A record leaves the window at occurred_at + window, as it leaves counting at expires_at.
    edge = inside.occurred_at + timedelta(days=30)
    assert factors_of(explain(H, [inside], edge - US))["recent-paid"][0] == 1
    assert factors_of(explain(H, [inside], edge))["recent-paid"][0] == 0


# --- bins ----------------------------------------------------------------------------


def factor(bins: list[dict[str, float]], missing: int = 0) -> Factor:
    return Factor.model_validate(
        {"id": "f", "title": "F", "count": ["x"], "bins": bins, "missing": missing}
    )


@pytest.mark.parametrize(
    ("value", "label", "points"),
    [
        (-1.0, "x < 0.5", 1),
        (0.4999, "x < 0.5", 1),
        (0.5, "0.5 ≤ x < 2", 2),  # equal to a below: the next bin
        (1.9, "0.5 ≤ x < 2", 2),
        (2, "x ≥ 2", 3),
        (1e9, "x ≥ 2", 3),
        (None, "missing", -7),
    ],
)
def test_bin_edges(value: float | None, label: str, points: int) -> None:
    f = factor([{"below": 0.5, "points": 1}, {"below": 2, "points": 2}, {"points": 3}], -7)
    assert bin_for(f, value) == (label, points)


def test_a_single_bin_holds_every_value() -> None:
    f = factor([{"points": 4}])
    assert bin_for(f, 123) == ("any", 4)
    assert bin_labels(f) == ["any"]
    assert bin_for(f, None) == ("missing", 0)


def test_missing_defaults_to_zero_points() -> None:
    f = factor([{"below": 1, "points": 9}, {"points": 10}])
    assert bin_for(f, None) == ("missing", 0)
    assert Bin(points=1).below is None


# --- score, clamp and explanation ----------------------------------------------------


def rich_records():
    return [
        *(record(H, "paid", T - timedelta(days=d)) for d in (5, 50, 60, 70)),
        record(H, "asset-big", T - timedelta(days=9)),
        record(H, "asset-small", T - timedelta(days=8)),
        record(H, "opened", T - timedelta(days=400)),
        record(H, "visit", T - timedelta(days=1)),
    ]


def test_score_is_base_plus_factor_points() -> None:
    found = explain(H, rich_records(), T)
    # paid-count 30, on-time 40, recent-paid 10, assets 25, tenure 60, last-late 0, visits 5
    assert found.score == 500 + 30 + 40 + 10 + 25 + 60 + 0 + 5
    assert found.grade == "high"
    assert sum(f.points for f in found.factors) == found.score - found.base
    assert dimension_points(found.factors) == {"history": 80, "standing": 90}


def test_score_is_clamped_but_the_factors_still_show_every_point() -> None:
    high = explain(based(880), rich_records(), T)
    assert high.score == 900
    assert sum(f.points for f in high.factors) == 170  # 880 + 170 before clamping
    low = explain(based(310), [record(H, "late", T - timedelta(days=1))], T)
    # 310 - 20 (no bill paid) - 50 (ratio 0) - 10 (no account) - 30 (late a day ago) = 200
    assert low.score == 300
    assert sum(f.points for f in low.factors) == -110


def test_contesting_a_record_changes_the_factor_values() -> None:
    paid = record(H, "paid", T - timedelta(days=40))
    late = record(H, "late", T - timedelta(days=20))
    before = explain(H, [paid, late], T)
    assert factors_of(before)["on-time"] == (0.5, "0.5 ≤ x < 0.9", 0)
    assert factors_of(before)["last-late"] == (20, "x < 90", -30)
    contested = explain(H, [paid, late], T, [event(late, "contested", T - timedelta(days=1))])
    assert reasons_of(contested) == {late.id: "contested"}
    assert factors_of(contested)["on-time"] == (1.0, "x ≥ 0.9", 40)
    assert factors_of(contested)["last-late"] == (None, "missing", 0)
    assert contested.score == before.score + 40 + 30
    # Upheld, it counts again; overturned, it stays out.
    contest = event(late, "contested", T - timedelta(days=2))
    assert explain(H, [paid, late], T, [contest, event(late, "upheld", T - US)]).score == (
        before.score
    )
    assert explain(H, [paid, late], T, [contest, event(late, "overturned", T - US)]).score == (
        contested.score
    )


def test_limits_apply_before_the_factors_count() -> None:
    day = T - timedelta(days=2)
    visits = [record(H, "visit", day + timedelta(hours=h)) for h in (1, 2, 3)]
    found = explain(H, visits, T)
    assert factors_of(found)["visits"] == (1, "x ≥ 1", 5)
    assert sorted(reasons_of(found).values()) == ["limit", "limit"]


def test_expired_and_not_yet_reported_records_do_not_reach_the_factors() -> None:
    old = record(H, "paid", T - timedelta(days=400))  # a year's validity: expired
    future = record(H, "paid", T - timedelta(days=3), reported_at=T + timedelta(days=1))
    found = explain(H, [old, future], T)
    assert factors_of(found)["paid-count"] == (0, "x < 1", -20)
    assert reasons_of(found) == {old.id: "expired", future.id: "not_yet_reported"}


def test_grade_caps_and_lists_work_on_a_scorecard_scheme() -> None:
    fraud = record(H, "fraud", T - timedelta(days=5))
    found = evaluation(H, [*rich_records(), fraud], T)
    assert (found.explanation.band, found.explanation.grade) == ("high", "low")
    assert [e.list for e in found.entries] == ["frauds"]


def test_rescored_points_reach_sum_factors() -> None:
    v1 = scheme(BODY)
    v2 = scheme(BODY.replace("title: Small asset, points: 1", "title: Small asset, points: 3"))
    hist = history(v1, v2)
    small = record(hist, "asset-small", T - timedelta(days=5), version=1)
    assert factors_of(explain(hist, [small], T))["assets"] == (1, "x < 3", 0)
    rescored = SchemeHistory.of([(1, v1), (2, v2)], [(T - timedelta(days=1), 2)])
    assert factors_of(explain(rescored, [small], T))["assets"] == (3, "x ≥ 3", 25)


# --- when the score changes -----------------------------------------------------------


def test_score_history_shows_a_window_exit_and_an_age_bin_crossing() -> None:
    opened = record(H, "opened", at(2024, 1, 1))
    paid = record(H, "paid", at(2024, 1, 1))
    found = score_history(H, [opened, paid], {}, at(2025, 2, 1))
    assert found == [
        (at(2024, 1, 1), 500 + 0 + 40 + 10 + 0 + 0 + 0 + 0, "mid"),
        (at(2024, 1, 31), 540, "mid"),  # the payment leaves the 30-day window
        (at(2024, 12, 31), 600, "mid"),  # 365 days of account age
        (at(2025, 1, 1), 545, "mid"),  # the payment expires: ratio missing, count 0
    ]


MONTHLY = BODY.replace("score: {base", "recompute: monthly\nscore: {base")


def test_a_monthly_scorecard_changes_only_at_month_starts() -> None:
    hist = history(scheme(MONTHLY))
    paid = record(hist, "paid", at(2024, 3, 10))
    assert explain(hist, [paid], at(2024, 3, 31)).score is None  # enrolled from 1 April
    assert score_history(hist, [paid], {}, at(2024, 6, 15)) == [
        (at(2024, 4, 1), 500 + 0 + 40 + 10 - 10, "mid"),
        (at(2024, 5, 1), 530, "mid"),  # out of the 30-day window on 9 April, shown from 1 May
    ]
    assert explain(hist, [paid], at(2024, 4, 30)).score == 540


def test_a_monthly_points_scheme_reports_its_changes_at_month_starts() -> None:
    body = """
recompute: monthly
score: {base: 100}
grades:
  - {name: A, min: 100}
  - {name: B}
categories:
  - {code: ticket, title: Ticket, points: -5, severity: minor, validity: P1M}
"""
    hist = history(scheme(body, id="monthly"))
    ticket = record(hist, "ticket", at(2024, 3, 10))
    assert score_history(hist, [ticket], {}, at(2024, 6, 1)) == [
        (at(2024, 4, 1), 95, "B"),
        (at(2024, 5, 1), 100, "A"),  # expired on 10 April, recomputed on 1 May
    ]


# --- validation ------------------------------------------------------------------------


HEADER = """\
type: scheme
id: card
title: Card
authority: {id: lender, name: Lender, kind: commercial}
context: finance
lawful_basis: contract
subjects: [person]
retention: P5Y
"""


def problems(body: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(HEADER + body, "x.yaml")
    return [str(p) for p in caught.value.problems]


def card(
    factors: str, *, score: str = "score: {base: 500, min: 300, max: 900}", categories: str = ""
) -> str:
    return (
        f"{score}\n"
        "scorecard:\n  dimensions:\n    - id: d\n      title: D\n      factors:\n"
        + "".join(f"        - {line}\n" for line in factors.strip().splitlines())
        + "categories:\n"
        "  - {code: paid, title: Paid, severity: general, validity: P1Y}\n"
        "  - {code: late, title: Late, severity: general, validity: P1Y}\n" + categories
    )


def test_a_valid_card_loads() -> None:
    definition = parse_definition(
        HEADER
        + card("{id: f, title: F, count: [paid], bins: [{below: 1, points: 0}, {points: 5}]}"),
        "x.yaml",
    ).definition
    assert isinstance(definition, Scheme) and definition.scorecard is not None
    assert definition.scorecard.factors[0][1].measure == "count"


def test_a_factor_needs_exactly_one_measure() -> None:
    assert problems(card("{id: f, title: F, count: [paid], age: [paid], bins: [{points: 1}]}")) == [
        "scorecard.dimensions[0].factors[0]: give exactly one measure: count, sum, ratio, age or "
        "recency (found count, age)"
    ]
    assert problems(card("{id: f, title: F, bins: [{points: 1}]}")) == [
        "scorecard.dimensions[0].factors[0]: give exactly one measure: count, sum, ratio, age or "
        "recency"
    ]


def test_bins_must_increase_and_only_the_last_has_no_below() -> None:
    found = problems(
        card(
            "{id: f, title: F, count: [paid], bins: [{below: 5, points: 0}, {below: 5, points: 1}, "
            "{points: 2}, {below: 9, points: 3}]}"
        )
    )
    assert found == [
        "scorecard.dimensions[0].factors[0].bins[1].below: 5 is not above the bin before (5); "
        "list bins in increasing order",
        "scorecard.dimensions[0].factors[0].bins[2].below: every bin but the last needs a below",
        "scorecard.dimensions[0].factors[0].bins[3].below: the last bin takes no below: it holds "
        "the rest",
    ]


def test_a_factor_needs_bins() -> None:
    assert problems(card("{id: f, title: F, count: [paid], bins: []}")) == [
        "scorecard.dimensions[0].factors[0].bins: Tuple should have at least 1 item after "
        "validation, not 0"
    ]
    # A list that is really empty is still reported; only echoes of bad items are dropped.
    assert problems("score: {base: 1, min: 0, max: 2}\nscorecard: {dimensions: []}\n") == [
        "scorecard.dimensions: Tuple should have at least 1 item after validation, not 0"
    ]


def test_unknown_categories_are_named_by_path() -> None:
    found = problems(
        card(
            "{id: f, title: F, ratio: {numerator: [payd], denominator: [paid, lat]}, bins: [{points: 0}]}"
        )
    )
    assert found == [
        "scorecard.dimensions[0].factors[0].ratio.numerator[0]: unknown category 'payd'",
        "scorecard.dimensions[0].factors[0].ratio.denominator[1]: unknown category 'lat'",
    ]
    assert problems(card("{id: f, title: F, recency: [gone], bins: [{points: 0}]}")) == [
        "scorecard.dimensions[0].factors[0].recency[0]: unknown category 'gone'"
    ]


def test_factor_ids_are_unique_in_the_whole_card() -> None:
    body = card("{id: f, title: F, count: [paid], bins: [{points: 0}]}").replace(
        "categories:",
        "    - id: e\n      title: E\n      factors:\n"
        "        - {id: f, title: F2, count: [late], bins: [{points: 0}]}\ncategories:",
    )
    assert problems(body) == [
        "scorecard.dimensions[1].factors[0].id: 'f' is defined twice in the scorecard"
    ]


def test_a_scorecard_needs_a_score_range() -> None:
    factor_line = "{id: f, title: F, count: [paid], bins: [{points: 0}]}"
    assert problems(card(factor_line, score="score: {base: 500}")) == [
        "score: a scorecard scheme needs a 'score' section with base, min and max: the range its "
        "points are scaled into"
    ]
    assert problems(card(factor_line, score="")) == [
        "scorecard: a scorecard scheme needs a 'score' section with base, min and max: the range "
        "its points are scaled into"
    ]


def test_record_points_must_be_read_by_a_sum_factor() -> None:
    extra = "  - {code: asset, title: Asset, points: 4, severity: general, validity: P1Y}\n"
    assert problems(
        card("{id: f, title: F, count: [asset], bins: [{points: 0}]}", categories=extra)
    ) == [
        "categories[2].points: in a scorecard scheme record points are read only by 'sum' "
        "factors; 'asset' has 4 points and no 'sum' factor reads it"
    ]
    parse_definition(
        HEADER + card("{id: f, title: F, sum: [asset], bins: [{points: 0}]}", categories=extra),
        "x.yaml",
    )


# --- waivers: adjust by 0 --------------------------------------------------------------

WAIVER = """
score: {base: 100}
grades:
  - {name: A, min: 100}
  - {name: B}
categories:
  - {code: bad, title: Bad, points: -10, severity: general, validity: P1Y}
measures:
  - {on: {grades: [A]}, action: deposit.hotel, effect: adjust, factor: 0, context: travel, rationale: r}
  - {on: {grades: [A]}, action: fee.card, effect: adjust, factor: 0, context: civic, rationale: r}
  - {on: {grades: [A]}, action: fee.card, effect: adjust, factor: 0.9, context: civic, rationale: r}
"""


def test_a_zero_factor_waives_and_zeroes_the_product() -> None:
    hist = history(scheme(WAIVER, id="waiver"))
    good = evaluation(hist, [], T, enrolled_at=at(2024, 1, 1))
    decision = check("deposit.hotel", T, [hist], {"waiver": good})
    assert (decision.effect, decision.factor) == ("adjust", 0)
    both = check("fee.card", T, [hist], {"waiver": good})
    assert (both.effect, both.factor, len(both.reasons)) == ("adjust", 0, 2)
    bad = evaluation(hist, [record(hist, "bad", T - timedelta(days=1))], T)
    assert check("deposit.hotel", T, [hist], {"waiver": bad}).effect == "allow"


def test_the_linter_reads_a_waiver_elsewhere_as_a_reward() -> None:
    found = lint(scheme(WAIVER, id="waiver"), "eu", {})
    travel = [f for f in found if f.path == "measures[0].context"]
    assert [(f.severity, f.rule) for f in travel] == [("warning", "eu.unrelated-context")]
    assert not [f for f in found if f.rule in ("eu.referral-off", "eu.legal-effect-safeguards")]
