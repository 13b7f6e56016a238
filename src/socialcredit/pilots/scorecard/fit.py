"""Fitting a scorecard scheme from labelled data (``socialcredit scorecard fit``).

The classic credit-scorecard recipe, with scikit-learn for the model:

1. Hold out a stratified share of the rows for testing.
2. Per factor, on the training rows: quantile pre-bins, merged into bins whose
   bad rates are monotonic in the value (pool adjacent violators), then bins
   smaller than a minimum share merged into a neighbour. Missing values (an
   empty cell) form a bin of their own.
3. Each bin's weight of evidence, WoE = ln(share of goods / share of bads).
4. A logistic regression of the target (1 = bad) on the WoE of every factor.
5. Scaling: score = offset + factor · ln(odds of good), with
   factor = PDO / ln 2 (points to double the odds). A bin's points are
   -(coefficient · WoE + intercept / n) · factor, the base is the offset, so a
   row's base plus its points is exactly offset - factor · logit before rounding.

The result is written as a scheme: the template with its bins, ``missing``
points and ``score.base`` replaced. Discrimination (AUC, Gini = 2·AUC - 1) is
reported on the training and the held-out rows, for the model and for the
rounded points the scheme will actually give.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from socialcredit.domain.schemes.loader import parse_definition, read_document
from socialcredit.domain.schemes.models import Scheme
from socialcredit.domain.schemes.scorecard import bin_for
from socialcredit.errors import UsageError

Floats = NDArray[np.float64]

PRE_BINS = 10  # quantile pre-bins per factor
MIN_BIN_SHARE = 0.05  # a final bin holds at least this share of the non-missing training rows
SMOOTHING = 0.5  # added to good and bad counts so that a pure bin has a finite WoE
SPAN = 0.9  # the middle 98% of training scores fill this share of the template's range


class FitError(UsageError):
    """Data or options a scorecard cannot be fitted from, phrased for the user."""


@dataclass(frozen=True, slots=True)
class FactorFit:
    dimension: str
    factor: str
    edges: tuple[float, ...]  # the bins' ``below``s, increasing
    rows: tuple[int, ...]  # training rows per bin
    bad_rates: tuple[float, ...]  # per bin, monotonic
    woe: tuple[float, ...]
    missing_rows: int
    missing_woe: float
    information_value: float
    coefficient: float
    raw_points: tuple[float, ...]  # before rounding
    raw_missing: float
    points: tuple[int, ...]
    missing_points: int
    # Left out of the model: its coefficient came out with the wrong sign. All
    # its bins then give the same points, and the scheme gets one bin.
    dropped: bool = False


@dataclass(frozen=True, slots=True)
class Scaling:
    factor: float  # points per unit of ln(odds of good)
    offset: float  # the score at even odds
    pdo: float  # points to double the odds

    def odds_at(self, score: float) -> float:
        """Odds of good (good:bad) at ``score``."""
        return math.exp((score - self.offset) / self.factor)


@dataclass(frozen=True, slots=True)
class SplitMetrics:
    split: str  # "train" or "test"
    rows: int
    bads: int
    auc: float  # the model's probabilities
    gini: float
    auc_points: float  # the rounded scorecard: base + points
    gini_points: float


@dataclass(frozen=True, slots=True)
class FitResult:
    scheme: Scheme
    text: str  # the fitted scheme as YAML
    factors: tuple[FactorFit, ...]
    scaling: Scaling
    base: int
    intercept: float
    metrics: tuple[SplitMetrics, ...]
    # Training rows, for checking the scorecard against the model:
    train_logit: Floats  # the model's log-odds of bad
    train_raw_score: Floats  # offset + unrounded points
    train_score: Floats  # base + rounded points, as the scheme gives them (unclamped)


# ----------------------------------------------------------------------- data


def read_training_csv(
    path: Path, target: str, columns: Sequence[str]
) -> tuple[NDArray[np.float64], NDArray[np.int_]]:
    """The factor columns (NaN where a cell is empty) and the 0/1 target."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [name for name in [*columns, target] if name not in header]
            if missing:
                raise FitError(
                    f"{path}: no column {', '.join(repr(m) for m in missing)} "
                    f"(the template's factor ids and the target)"
                )
            values: list[list[float]] = []
            labels: list[int] = []
            for line, row in enumerate(reader, start=2):
                values.append([_number(path, line, name, row[name]) for name in columns])
                labels.append(_label(path, line, target, row[target]))
    except UnicodeDecodeError:
        raise FitError(f"{path}: is not UTF-8 text") from None
    if not labels:
        raise FitError(f"{path}: has no data rows")
    return np.array(values, dtype=np.float64).reshape(len(labels), len(columns)), np.array(
        labels, dtype=np.int_
    )


def _number(path: Path, line: int, name: str, text: str | None) -> float:
    if text is None or text.strip() == "":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise FitError(f"{path}: line {line}: {name}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise FitError(f"{path}: line {line}: {name}: {text!r} is not a finite number")
    return value


def _label(path: Path, line: int, target: str, text: str | None) -> int:
    if text is None or text.strip() not in ("0", "1"):
        raise FitError(f"{path}: line {line}: {target}: {text!r} is not 0 or 1 (1 = bad)")
    return int(text)


# -------------------------------------------------------------------- binning


def monotonic_bins(
    x: Floats, y: NDArray[np.int_], pre_bins: int = PRE_BINS, min_share: float = MIN_BIN_SHARE
) -> tuple[list[float], list[int], list[int]]:
    """Edges (``below``s) and per-bin rows and bads for the non-missing values of ``x``.

    A value equal to an edge falls in the bin above it, as in the scheme
    language. The bins' bad rates are strictly monotonic, in the direction of
    the value's correlation with the target."""
    present = ~np.isnan(x)
    xs, ys = x[present], y[present]
    if xs.size == 0:
        return [], [], []
    levels = np.linspace(0, 1, pre_bins + 1)[1:-1]
    cuts = np.unique(np.quantile(xs, levels, method="lower"))
    edges = [float(c) for c in cuts if c > xs.min()]
    blocks = _stats(xs, ys, edges)
    increasing = _risk_increases(xs, ys)
    blocks = _pool_adjacent_violators(blocks, increasing)
    blocks = _merge_small(blocks, min_share * xs.size)
    return [b[2] for b in blocks[:-1]], [b[0] for b in blocks], [b[1] for b in blocks]


# A block: (rows, bads, upper edge or inf)
Block = tuple[int, int, float]


def _stats(xs: Floats, ys: NDArray[np.int_], edges: list[float]) -> list[Block]:
    index = np.searchsorted(np.array(edges), xs, side="right")
    uppers = [*edges, math.inf]
    return [
        (int(np.sum(index == i)), int(np.sum(ys[index == i])), uppers[i])
        for i in range(len(uppers))
        if np.any(index == i)
    ]


def _risk_increases(xs: Floats, ys: NDArray[np.int_]) -> bool:
    if np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return True
    return bool(np.corrcoef(xs, ys)[0, 1] >= 0)


def _rate(block: Block) -> float:
    return block[1] / block[0]


def _pool(a: Block, b: Block) -> Block:
    return (a[0] + b[0], a[1] + b[1], b[2])


def _pool_adjacent_violators(blocks: list[Block], increasing: bool) -> list[Block]:
    """Merge neighbours until the bad rates rise (or fall) strictly."""
    merged: list[Block] = []
    for block in blocks:
        merged.append(block)
        while len(merged) > 1 and (
            _rate(merged[-2]) >= _rate(merged[-1])
            if increasing
            else _rate(merged[-2]) <= _rate(merged[-1])
        ):
            last = merged.pop()
            merged[-1] = _pool(merged[-1], last)
    return merged


def _merge_small(blocks: list[Block], least: float) -> list[Block]:
    """Merge each bin under ``least`` rows into the neighbour with the closer bad
    rate. Pooling neighbours of a monotonic sequence keeps it monotonic."""
    blocks = list(blocks)
    while len(blocks) > 1:
        small = [i for i, b in enumerate(blocks) if b[0] < least]
        if not small:
            break
        i = min(small, key=lambda k: blocks[k][0])
        if i == 0:
            j = 1
        elif i == len(blocks) - 1:
            j = i - 1
        else:
            here = _rate(blocks[i])
            j = min((i - 1, i + 1), key=lambda k: abs(_rate(blocks[k]) - here))
        low, high = min(i, j), max(i, j)
        blocks[low : high + 1] = [_pool(blocks[low], blocks[high])]
    return blocks


def _woe(rows: int, bads: int, goods_total: int, bads_total: int) -> float:
    goods = rows - bads
    return math.log(
        ((goods + SMOOTHING) / (goods_total + SMOOTHING))
        / ((bads + SMOOTHING) / (bads_total + SMOOTHING))
    )


# ------------------------------------------------------------------- fitting


def fit_scorecard(
    template: Scheme,
    template_text: str,
    x: Floats,
    y: NDArray[np.int_],
    *,
    seed: int = 0,
    test_share: float = 0.3,
    pdo: float | None = None,
    anchor: tuple[float, float] | None = None,
    source: str = "fitted.yaml",
    note: str = "",
) -> FitResult:
    """Fit the template's factors to (x, y) and return the fitted scheme.

    ``x`` has one column per factor, in scorecard order; ``anchor`` is
    (score, odds of good at that score)."""
    card = template.scorecard
    if card is None:
        raise FitError(f"{template.id}: the template has no scorecard to fit")
    rule = template.score
    assert rule is not None and rule.min is not None and rule.max is not None  # validated
    if not 0 < test_share < 1:
        raise FitError(f"--test-share: {test_share} is not between 0 and 1")
    if pdo is not None and not pdo > 0:
        raise FitError(f"--pdo: {pdo} is not above 0")
    if anchor is not None and not anchor[1] > 0:
        raise FitError(f"--anchor: odds {anchor[1]} are not above 0")
    pairs = card.factors
    counts = np.bincount(y, minlength=2)
    if min(counts) < 4:
        raise FitError(
            f"the target needs at least 4 rows of each class (found {counts[0]} good, "
            f"{counts[1]} bad)"
        )
    try:
        train, test = train_test_split(
            np.arange(y.size), test_size=test_share, random_state=seed, stratify=y
        )
    except ValueError as error:
        raise FitError(f"cannot split {y.size} rows: {error}") from None
    xt, yt = x[train], y[train]
    goods, bads = int(np.sum(yt == 0)), int(np.sum(yt == 1))

    binned: list[_Binned] = []
    woe_train = np.zeros((yt.size, len(pairs)))
    for column in range(len(pairs)):
        found = _factor_bins(xt[:, column], yt, goods, bads)
        binned.append(found)
        woe_train[:, column] = found.woe_of(xt[:, column])

    coefficients, intercept, dropped = _regression(woe_train, yt)
    logit = woe_train @ coefficients + intercept

    scaling = _scaling(-logit, rule.min, rule.max, pdo, anchor)
    share = intercept / len(pairs)
    fits: list[FactorFit] = []
    for column, (dimension, factor) in enumerate(pairs):
        found = binned[column]
        beta = float(coefficients[column])
        raw = [-(beta * w + share) * scaling.factor for w in found.woe]
        raw_missing = -(beta * found.missing_woe + share) * scaling.factor
        fits.append(
            FactorFit(
                dimension=dimension.id,
                factor=factor.id,
                edges=tuple(found.edges),
                rows=tuple(found.rows),
                bad_rates=tuple(
                    b / n if n else 0.0 for b, n in zip(found.bads, found.rows, strict=True)
                ),
                woe=tuple(found.woe),
                missing_rows=found.missing_rows,
                missing_woe=found.missing_woe,
                information_value=found.information_value(goods, bads),
                coefficient=beta,
                raw_points=tuple(raw),
                raw_missing=raw_missing,
                points=tuple(round(p) for p in raw),
                missing_points=round(raw_missing),
                dropped=column in dropped,
            )
        )
    base = round(scaling.offset)
    body = _fitted_body(template_text, source, base, fits)
    fitted = parse_definition(body, source).definition
    assert isinstance(fitted, Scheme)

    def scores(rows: NDArray[np.int_]) -> Floats:
        return np.array([base + _row_points(fitted, x[r]) for r in rows], dtype=np.float64)

    def woe_matrix(rows: NDArray[np.int_]) -> Floats:
        return np.column_stack([binned[c].woe_of(x[rows, c]) for c in range(len(pairs))])

    def bad_probability(rows: NDArray[np.int_]) -> Floats:
        result: Floats = 1 / (1 + np.exp(-(woe_matrix(rows) @ coefficients + intercept)))
        return result

    metrics = tuple(
        _metrics(name, y[rows], bad_probability(rows), scores(rows))
        for name, rows in (("train", train), ("test", test))
    )
    held_out = metrics[1]
    note += (
        f"\nHeld-out AUC {held_out.auc_points:.3f} (Gini {held_out.gini_points:.3f}) for these "
        f"points on {held_out.rows} rows; PDO {scaling.pdo:g}: the odds of good double every "
        f"{scaling.pdo:g} points, even odds at {scaling.offset:.0f}."
    )
    header = "".join(f"# {line}\n" if line else "#\n" for line in note.strip().splitlines())
    return FitResult(
        scheme=fitted,
        text=header + body,
        factors=tuple(fits),
        scaling=scaling,
        base=base,
        intercept=intercept,
        metrics=metrics,
        train_logit=logit,
        train_raw_score=scaling.offset
        + np.array([sum(_raw_row(f, v) for f, v in zip(fits, x[r], strict=True)) for r in train]),
        train_score=scores(train),
    )


@dataclass(frozen=True, slots=True)
class _Binned:
    """One factor's training bins: edges, rows and bads per bin, WoE; and the missing bin."""

    edges: list[float]
    rows: list[int]
    bads: list[int]
    woe: list[float]
    missing_rows: int
    missing_bads: int
    missing_woe: float

    def woe_of(self, values: Floats) -> Floats:
        index = np.searchsorted(np.array(self.edges, dtype=np.float64), values, side="right")
        found = np.array(self.woe, dtype=np.float64)[np.minimum(index, len(self.woe) - 1)]
        return np.where(np.isnan(values), self.missing_woe, found)

    def information_value(self, goods: int, bads: int) -> float:
        """Σ (share of goods − share of bads) · WoE over the bins and the missing bin."""
        groups = [*zip(self.rows, self.bads, strict=True), (self.missing_rows, self.missing_bads)]
        return sum(((n - b) / goods - b / bads) * _woe(n, b, goods, bads) for n, b in groups if n)


def _regression(woe: Floats, y: NDArray[np.int_]) -> tuple[Floats, float, set[int]]:
    """Logistic regression of the target on the WoE columns: coefficients (0 for
    a column left out), intercept, and the columns left out.

    With WoE = ln(goods/bads), every coefficient should come out negative. One
    that comes out positive (factors that overlap can do this) would make a
    factor's points run against its own evidence, so, as usual for scorecards,
    the column with the largest such coefficient is left out and the model
    refitted until none is left."""
    active = list(range(woe.shape[1]))
    dropped: set[int] = set()
    while True:
        full = np.zeros(woe.shape[1])
        if active:
            model = LogisticRegression(C=1e4, max_iter=5000)
            model.fit(woe[:, active], y)
            full[active] = model.coef_[0]
            intercept = float(model.intercept_[0])
        else:
            rate = float(np.mean(y))
            intercept = math.log(rate / (1 - rate))
        wrong = [c for c in active if full[c] > 0]
        if not wrong:
            return full, intercept, dropped
        worst = max(wrong, key=lambda c: full[c])
        active.remove(worst)
        dropped.add(worst)


def _factor_bins(values: Floats, y: NDArray[np.int_], goods: int, bads: int) -> _Binned:
    edges, rows, bad_rows = monotonic_bins(values, y)
    if not rows:  # every value missing: one bin that no value reaches
        edges, rows, bad_rows = [], [0], [0]
    woe = [_woe(n, b, goods, bads) if n else 0.0 for n, b in zip(rows, bad_rows, strict=True)]
    missing = np.isnan(values)
    missing_rows, missing_bads = int(np.sum(missing)), int(np.sum(y[missing]))
    missing_woe = _woe(missing_rows, missing_bads, goods, bads) if missing_rows else 0.0
    return _Binned(edges, rows, bad_rows, woe, missing_rows, missing_bads, missing_woe)


def _scaling(
    ln_odds_good: Floats,
    low: int,
    high: int,
    pdo: float | None,
    anchor: tuple[float, float] | None,
) -> Scaling:
    """Points per doubling of the odds and the offset. Unless given, the middle
    98% of training scores fill the middle 90% of the template's range, with
    the points to double the odds rounded to a whole number."""
    q01, q99 = np.quantile(ln_odds_good, [0.01, 0.99])
    if pdo is None:
        spread = max(float(q99 - q01), 1e-9)
        factor = SPAN * (high - low) / spread
        pdo = max(1.0, float(round(factor * math.log(2))))
    factor = pdo / math.log(2)
    if anchor is not None:
        offset = anchor[0] - factor * math.log(anchor[1])
    else:
        offset = float(round((low + high) / 2 - factor * float(q01 + q99) / 2))
    return Scaling(factor=factor, offset=offset, pdo=pdo)


def _raw_row(fit: FactorFit, value: float) -> float:
    if math.isnan(value):
        return fit.raw_missing
    index = int(np.searchsorted(np.array(fit.edges, dtype=np.float64), value, side="right"))
    return fit.raw_points[min(index, len(fit.raw_points) - 1)]


def _row_points(scheme: Scheme, values: Floats) -> int:
    """The points the scheme gives a row of factor values, through the same
    binning the engine uses."""
    assert scheme.scorecard is not None
    total = 0
    for (_, factor), value in zip(scheme.scorecard.factors, values, strict=True):
        total += bin_for(factor, None if math.isnan(value) else float(value))[1]
    return total


def _metrics(
    name: str, y: NDArray[np.int_], bad_probability: Floats, score: Floats
) -> SplitMetrics:
    if np.ptp(y) == 0:
        raise FitError(f"the {name} split holds one class only: give more rows")
    auc = float(roc_auc_score(y, bad_probability))
    auc_points = float(roc_auc_score(y, -score))  # a higher score means less risk
    return SplitMetrics(
        name, int(y.size), int(np.sum(y)), auc, 2 * auc - 1, auc_points, 2 * auc_points - 1
    )


def _number_text(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _fitted_body(template_text: str, source: str, base: int, fits: list[FactorFit]) -> str:
    data = read_document(template_text, source)
    data["score"] = _Flow({**data["score"], "base": base})
    by_id = {fit.factor: fit for fit in fits}
    for dimension in data["scorecard"]["dimensions"]:
        for factor in dimension["factors"]:
            fit = by_id[factor["id"]]
            if fit.dropped:  # one bin: every value scores the same
                factor["bins"] = [_Flow({"points": fit.points[0]})]
                factor["missing"] = fit.missing_points
                continue
            factor["bins"] = [
                _Flow({"below": _number_text(edge), "points": points})
                for edge, points in zip(fit.edges, fit.points, strict=False)
            ] + [_Flow({"points": fit.points[-1]})]
            factor["missing"] = fit.missing_points
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Flow(dict[str, Any]):
    """A mapping written on one line: ``{below: 0.8, points: 40}``."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


# --------------------------------------------------------------- synthetic data

SESAME_FACTORS: tuple[str, ...] = (
    "on-time-ratio",
    "account-age",
    "online-purchases",
    "household-purchases",
    "long-gaming-sessions",
    "declared-assets",
    "income-recency",
    "identity-verified",
    "education-verified",
    "high-score-contacts",
)


def synthetic_training_data(
    rng: np.random.Generator | int, n: int, target: str = "bad"
) -> list[dict[str, float | int | None]]:
    """``n`` made-up people with the factor values of ``schemes/sesame-credit.yaml``
    and a 0/1 ``target`` (1 = defaulted). A hidden reliability drives both the
    factors and the default, so the factors predict it only in part."""
    rng = np.random.default_rng(rng)
    reliable = rng.normal(size=n)

    def sigmoid(z: Floats) -> Floats:
        return 1 / (1 + np.exp(-z))

    bills = rng.poisson(9, n) * (rng.random(n) >= 0.05)  # 5%: no bill yet, a thin file
    paid = rng.binomial(bills, sigmoid(2.6 + 1.1 * reliable))
    ratio = np.where(bills > 0, paid / np.maximum(bills, 1), np.nan)
    age = np.minimum(rng.gamma(2.0, 260.0, n) * np.exp(0.15 * reliable), 1095).astype(int)
    online = rng.poisson(np.exp(2.4 + 0.3 * reliable + 0.5 * rng.normal(size=n)))
    household = rng.poisson(np.exp(0.5 + 0.3 * reliable))
    gaming = rng.poisson(np.exp(0.6 - 0.5 * reliable))
    assets = (
        1 * rng.binomial(1, sigmoid(0.5 + 0.8 * reliable))
        + 2 * rng.binomial(1, sigmoid(-0.8 + 0.6 * reliable))
        + 4 * rng.binomial(1, sigmoid(-1.6 + 0.7 * reliable))
    )
    income = np.where(rng.random(n) < sigmoid(0.3 + 0.5 * reliable), rng.integers(0, 365, n), -1)
    identity = rng.binomial(1, 0.93, n)
    education = rng.binomial(1, sigmoid(-0.4 + 0.5 * reliable))
    contacts = rng.poisson(np.exp(0.6 + 0.35 * reliable))
    risk = (
        -2.3
        - 1.1 * reliable
        - 3.0 * (np.nan_to_num(ratio, nan=0.9) - 0.9)
        + 0.8 * (1 - identity)
        - 0.0007 * (age - 365)
        + 0.5 * rng.normal(size=n)
    )
    bad = rng.binomial(1, sigmoid(risk))
    rows: list[dict[str, float | int | None]] = []
    for i in range(n):
        rows.append(
            {
                "on-time-ratio": None if math.isnan(ratio[i]) else round(float(ratio[i]), 4),
                "account-age": int(age[i]),
                "online-purchases": int(online[i]),
                "household-purchases": int(household[i]),
                "long-gaming-sessions": int(gaming[i]),
                "declared-assets": int(assets[i]),
                "income-recency": None if income[i] < 0 else int(income[i]),
                "identity-verified": int(identity[i]),
                "education-verified": int(education[i]),
                "high-score-contacts": int(contacts[i]),
                target: int(bad[i]),
            }
        )
    return rows


def write_training_csv(rows: Sequence[dict[str, float | int | None]], path: Path) -> None:
    """Write rows as CSV; a missing value is an empty cell."""
    if not rows:
        raise FitError("no rows to write")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def fit_file(
    data: Path,
    target: str,
    template_path: Path,
    *,
    seed: int = 0,
    test_share: float = 0.3,
    pdo: float | None = None,
    anchor: tuple[float, float] | None = None,
    out_name: str = "fitted.yaml",
) -> FitResult:
    """Read the template and the data, fit, and return the result (nothing is written)."""
    template_text = template_path.read_text(encoding="utf-8")
    template = parse_definition(template_text, str(template_path)).definition
    if not isinstance(template, Scheme) or template.scorecard is None:
        raise FitError(f"{template_path}: is not a scorecard scheme (it has no 'scorecard')")
    columns = [factor.id for _, factor in template.scorecard.factors]
    x, y = read_training_csv(data, target, columns)
    note = (
        f"Fitted by `socialcredit scorecard fit` from {data.name} ({y.size} rows, target "
        f"{target!r}, seed {seed}, {test_share:g} held out) on the template "
        f"{template_path.name}.\nBins, points, missing points and score.base come from the "
        "fit; everything else is the template's. Its comments are not carried over."
    )
    result = fit_scorecard(
        template,
        template_text,
        x,
        y,
        seed=seed,
        test_share=test_share,
        pdo=pdo,
        anchor=anchor,
        source=out_name,
        note=note,
    )
    return result
