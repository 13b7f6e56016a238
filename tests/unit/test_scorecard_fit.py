"""Fitting a scorecard from labelled data (``socialcredit.pilots.scorecard.fit``): monotonic
binning, scaling, and that the fitted points reproduce the model's predictions."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from socialcredit.adapters.shipped import shipped_schemes_dir
from socialcredit.domain.ledger.records import Record
from socialcredit.domain.schemes.compiled import SchemeHistory
from socialcredit.domain.schemes.loader import parse_definition
from socialcredit.domain.schemes.models import Scheme
from socialcredit.domain.schemes.scorecard import bin_for
from socialcredit.domain.scoring.engine import explain_score
from socialcredit.pilots.scorecard.fit import (
    SESAME_FACTORS,
    FitError,
    FitResult,
    _regression,
    _scaling,
    fit_file,
    fit_scorecard,
    monotonic_bins,
    read_training_csv,
    synthetic_training_data,
    write_training_csv,
)

SESAME = shipped_schemes_dir() / "sesame-credit.yaml"


# --- binning ----------------------------------------------------------------------------


def test_bins_have_strictly_monotonic_bad_rates_even_when_the_data_wiggle() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 100, 20_000).astype(float)
    # Risk falls with x, plus a wiggle that makes neighbouring deciles violate it.
    p = 0.4 - 0.003 * x + 0.04 * np.sin(x / 3)
    y = rng.binomial(1, p)
    edges, rows, bads = monotonic_bins(x, y)
    rates = [b / n for b, n in zip(bads, rows, strict=True)]
    assert len(rates) >= 3
    assert all(a > b for a, b in itertools.pairwise(rates)), rates
    assert edges == sorted(set(edges))
    assert sum(rows) == x.size
    assert min(rows) >= 0.05 * x.size


def test_bins_follow_a_rising_risk_and_put_an_edge_value_in_the_upper_bin() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 10, 5_000).astype(float)
    y = rng.binomial(1, 0.05 + 0.05 * x)
    edges, rows, bads = monotonic_bins(x, y)
    rates = [b / n for b, n in zip(bads, rows, strict=True)]
    assert all(a < b for a, b in itertools.pairwise(rates)), rates
    # Rows per bin: a value equal to an edge is counted in the bin above it.
    bounds = [-math.inf, *edges, math.inf]
    assert rows == [int(np.sum((x >= lo) & (x < hi))) for lo, hi in itertools.pairwise(bounds)]


def test_missing_values_are_left_out_of_the_bins() -> None:
    x = np.array([np.nan, 1, 2, 3, np.nan, 4, 5, 6, 7, 8, 9, 10] * 50)
    y = np.array([1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0] * 50)
    _edges, rows, _ = monotonic_bins(x, y)
    assert sum(rows) == 500
    assert monotonic_bins(np.array([np.nan, np.nan]), np.array([0, 1])) == ([], [], [])


# --- scaling ----------------------------------------------------------------------------


def test_scaling_with_pdo_and_anchor() -> None:
    scaling = _scaling(np.linspace(-3, 3, 101), 350, 950, 40, (600, 20))
    assert scaling.pdo == 40
    assert scaling.factor == pytest.approx(40 / math.log(2))
    assert scaling.odds_at(600) == pytest.approx(20)
    assert scaling.odds_at(640) == pytest.approx(40)  # 40 points double the odds


def test_automatic_scaling_spreads_training_scores_over_the_range() -> None:
    ln_odds = np.random.default_rng(3).normal(1.5, 1.2, 10_000)
    scaling = _scaling(ln_odds, 350, 950, None, None)
    assert scaling.pdo == round(scaling.pdo)  # a whole number of points
    scores = scaling.offset + scaling.factor * ln_odds
    low, high = np.quantile(scores, [0.01, 0.99])
    # The middle 98% of scores fill about the middle 90% of 350-950 (380-920).
    assert low == pytest.approx(380, abs=10)
    assert high == pytest.approx(920, abs=10)


# --- fitting the shipped scheme on synthetic data ------------------------------------------


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> FitResult:
    folder = tmp_path_factory.mktemp("fit")
    write_training_csv(synthetic_training_data(np.random.default_rng(0), 8_000), folder / "d.csv")
    return fit_file(folder / "d.csv", "bad", SESAME, seed=0)


def test_the_points_before_rounding_are_an_exact_linear_function_of_the_model(
    fitted: FitResult,
) -> None:
    expected = fitted.scaling.offset - fitted.scaling.factor * fitted.train_logit
    assert np.max(np.abs(fitted.train_raw_score - expected)) < 1e-9
    assert np.corrcoef(fitted.train_raw_score, -fitted.train_logit)[0, 1] == pytest.approx(
        1, abs=1e-12
    )


def test_rounded_points_keep_the_rank_order_up_to_rounding(fitted: FitResult) -> None:
    raw, rounded = fitted.train_raw_score, fitted.train_score
    bound = 0.5 * (len(fitted.factors) + 1)  # each factor's points and the base are rounded
    assert np.max(np.abs(rounded - raw)) <= bound
    # Two rows whose exact scores differ by more than twice that bound never swap.
    order = np.argsort(raw, kind="stable")
    raw_sorted, rounded_sorted = raw[order], rounded[order]
    lagging = np.searchsorted(raw_sorted, raw_sorted - 2 * bound, side="left")
    best_below = np.maximum.accumulate(rounded_sorted)
    for i in range(raw_sorted.size):
        if lagging[i] > 0:
            assert best_below[lagging[i] - 1] <= rounded_sorted[i]
    # And overall the order is nearly the same.
    ranks = np.argsort(np.argsort(raw)), np.argsort(np.argsort(rounded))
    assert np.corrcoef(*ranks)[0, 1] > 0.999


def test_the_written_scheme_gives_the_fitted_points(fitted: FitResult) -> None:
    reloaded = parse_definition(fitted.text, "fitted.yaml").definition
    assert isinstance(reloaded, Scheme) and reloaded.scorecard is not None
    assert reloaded.score is not None and reloaded.score.base == fitted.base
    for (_, factor), fit in zip(reloaded.scorecard.factors, fitted.factors, strict=True):
        assert factor.id == fit.factor
        assert factor.missing == fit.missing_points
        if fit.dropped:
            assert [b.points for b in factor.bins] == [fit.points[0]]
            assert set(fit.points) == {fit.points[0]}
            continue
        assert [b.below for b in factor.bins[:-1]] == list(fit.edges)
        assert [b.points for b in factor.bins] == list(fit.points)
    assert fitted.text.startswith("# Fitted by `socialcredit scorecard fit`")
    assert "Held-out AUC" in fitted.text


def test_fitted_bins_are_monotonic(fitted: FitResult) -> None:
    for fit in fitted.factors:
        rates = fit.bad_rates
        rising = all(a < b for a, b in itertools.pairwise(rates))
        falling = all(a > b for a, b in itertools.pairwise(rates))
        assert rising or falling, (fit.factor, rates)
        # Points run with the evidence: more bads, fewer points (or flat when left out).
        points = fit.points
        if not fit.dropped and len(points) > 1:
            raw = fit.raw_points
            order = [a > b for a, b in itertools.pairwise(raw)]
            assert order == [rising] * len(order), (fit.factor, raw)
        assert fit.coefficient <= 0


def test_discrimination_on_the_synthetic_data(fitted: FitResult) -> None:
    train, test = fitted.metrics
    assert (train.split, test.split) == ("train", "test")
    assert test.rows == pytest.approx(0.3 * 8_000, abs=1)
    assert train.gini == pytest.approx(2 * train.auc - 1)
    assert 0.75 < test.auc < 0.9
    assert test.auc_points == pytest.approx(test.auc, abs=0.005)  # rounding costs little
    assert train.auc >= test.auc - 0.03


def test_the_synthetic_data_has_every_factor_of_the_shipped_scheme() -> None:
    rows = synthetic_training_data(5, 200)
    assert list(rows[0]) == [*SESAME_FACTORS, "bad"]
    reloaded = parse_definition(SESAME.read_text(), str(SESAME)).definition
    assert isinstance(reloaded, Scheme) and reloaded.scorecard is not None
    assert [f.id for _, f in reloaded.scorecard.factors] == list(SESAME_FACTORS)
    assert any(r["on-time-ratio"] is None for r in synthetic_training_data(5, 2_000))
    assert synthetic_training_data(5, 50) == synthetic_training_data(5, 50)


# --- through the engine ----------------------------------------------------------------------

TEMPLATE = """\
type: scheme
id: counts
title: Counts
authority: {id: lender, name: Lender, kind: commercial}
context: finance
lawful_basis: contract
subjects: [person]
retention: P5Y
score: {base: 0, min: 0, max: 1000}
scorecard:
  dimensions:
    - id: history
      title: History
      factors:
        - {id: paid, title: Bills paid, count: [paid], bins: [{points: 0}]}
        - {id: late, title: Bills paid late, count: [late], bins: [{points: 0}]}
    - id: profile
      title: Profile
      factors:
        - {id: tenure, title: Days since opening, age: [opened], bins: [{points: 0}]}
categories:
  - {code: paid, title: Paid, severity: general, validity: P1Y}
  - {code: late, title: Late, severity: general, validity: P1Y}
  - {code: opened, title: Opened, severity: serious, validity: P3Y}
"""


def test_the_engine_scores_records_as_the_fitted_points(tmp_path: Path) -> None:
    """Rows of counts and ages, fitted; then each row is rebuilt as records and
    scored by the real engine, which must give the fitted score (clamped)."""
    rng = np.random.default_rng(11)
    n = 3_000
    good = rng.normal(size=n)
    paid = rng.poisson(np.exp(1.5 + 0.3 * good))
    late = rng.poisson(np.exp(0.2 - 0.6 * good))
    tenure = np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 1000, n) + 40 * good)
    tenure = np.where(np.isnan(tenure), np.nan, np.clip(np.round(tenure), 0, 1000))
    bad = rng.binomial(1, 1 / (1 + np.exp(2 + 1.2 * good)))
    x = np.column_stack([paid, late, tenure]).astype(float)
    template = parse_definition(TEMPLATE, "counts.yaml").definition
    assert isinstance(template, Scheme)
    result = fit_scorecard(template, TEMPLATE, x, bad, seed=3)
    history = SchemeHistory.of([(1, result.scheme)])
    t = datetime(2025, 6, 1, tzinfo=UTC)
    for row in rng.choice(n, 25, replace=False):
        records = _records(result.scheme, row, x[row], t)
        explanation = explain_score(history, records, {}, t, enrolled_at=t - timedelta(days=1))
        expected = result.base + sum(
            bin_for(f, None if math.isnan(v) else v)[1]
            for (_, f), v in zip(result.scheme.scorecard.factors, x[row], strict=True)  # type: ignore[union-attr]
        )
        assert explanation.score == min(max(expected, 0), 1000)
        assert [f.value for f in explanation.factors] == [
            None if math.isnan(v) else v for v in x[row]
        ]


def _records(scheme: Scheme, row: int, values: np.ndarray, t: datetime) -> list[Record]:
    categories = {c.code: c for c in scheme.categories}

    def make(code: str, i: int, when: datetime) -> Record:
        return Record(
            id=f"{row}-{code}-{i}",
            subject="s",
            scheme=scheme.id,
            scheme_version=1,
            category=code,
            occurred_at=when,
            reported_at=when,
            expires_at=categories[code].validity.after(when),
            points=0,
            reporter="test",
        )

    paid, late, tenure = values
    found = [make("paid", i, t - timedelta(days=1 + i)) for i in range(int(paid))]
    found += [make("late", i, t - timedelta(days=2 + i)) for i in range(int(late))]
    if not math.isnan(tenure):
        found.append(make("opened", 0, t - timedelta(days=int(tenure))))
    return found


# --- errors ---------------------------------------------------------------------------------


def test_csv_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,bad\n1,,0\n2,x,1\n")
    with pytest.raises(FitError, match=r"d.csv: line 3: b: 'x' is not a number"):
        read_training_csv(path, "bad", ["a", "b"])
    path.write_text("a,b,bad\n1,,0\n2,3,yes\n")
    with pytest.raises(FitError, match=r"line 3: bad: 'yes' is not 0 or 1"):
        read_training_csv(path, "bad", ["a", "b"])
    with pytest.raises(FitError, match=r"no column 'c'"):
        read_training_csv(path, "bad", ["a", "c"])
    path.write_text("a,b,bad\n1,,0\n2,3,1\n")
    x, y = read_training_csv(path, "bad", ["a", "b"])
    assert math.isnan(x[0, 1]) and list(y) == [0, 1]


def test_a_template_without_a_scorecard_or_one_class_cannot_be_fitted(tmp_path: Path) -> None:
    plain = shipped_schemes_dir() / "rongcheng-personal.yaml"
    (tmp_path / "d.csv").write_text("x,bad\n1,0\n")
    with pytest.raises(FitError, match="is not a scorecard scheme"):
        fit_file(tmp_path / "d.csv", "bad", plain)
    template = parse_definition(TEMPLATE, "counts.yaml").definition
    assert isinstance(template, Scheme)
    with pytest.raises(FitError, match="at least 4 rows of each class"):
        fit_scorecard(template, TEMPLATE, np.ones((50, 3)), np.zeros(50, dtype=int))
    with pytest.raises(FitError, match="--test-share"):
        fit_scorecard(template, TEMPLATE, np.ones((50, 3)), np.arange(50) % 2, test_share=1.5)


def test_a_factor_whose_coefficient_has_the_wrong_sign_is_left_out() -> None:
    rng = np.random.default_rng(4)
    first = rng.normal(size=5_000)
    second = first + 0.3 * rng.normal(size=5_000)  # overlaps the first
    y = rng.binomial(1, 1 / (1 + np.exp(-(-1 - 2 * first + 1 * second))))
    coefficients, _, dropped = _regression(np.column_stack([first, second]), y)
    assert dropped == {1}
    assert coefficients[1] == 0 and coefficients[0] < 0
