"""The scorecard pilot's part of the demo: a Sesame-style scorecard, fitted
from the town's own data.

A share of residents switch the score on (consent). Each gets a made-up
profile from :func:`socialcredit.pilots.scorecard.fit.synthetic_training_data`
(a hidden reliability drives both the behaviour and whether they later
default), turned into the records Ant Group would hold: bills paid on time or
late, an account opening, purchases, declared assets and so on. The engine
then scores them, and the scorecard is refitted from the factor values the
engine computed, against who defaulted, and its discrimination (AUC) on a
held-out split is shown.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from socialcredit import Services
from socialcredit.domain.scoring.engine import recomputed_at
from socialcredit.plugins import DemoContext, DemoStep

SESAME = "sesame-credit"
SESAME_SHARE = 0.25  # of residents who switch the score on
BILLS = 20  # bills a year per person with a payment history


def sesame(context: DemoContext) -> dict[str, Any]:
    """A Sesame-style scorecard for the residents who switch it on, refitted
    from the engine's own factor values."""
    services, people, rng, now, say = (
        context.services,
        context.people,
        context.rng,
        context.now,
        context.say,
    )
    history = services.definitions.registry.schemes.get(SESAME)
    if history is None or not people:
        return {}
    members = rng.sample(people, k=max(1, int(len(people) * SESAME_SHARE)))
    from socialcredit.pilots.scorecard.fit import synthetic_training_data

    profiles = synthetic_training_data(rng.randrange(2**32), len(members), target="bad")
    anchor = recomputed_at(history, now)  # records known at this month's recomputation
    _consent(services, members, anchor - timedelta(days=3 * 366))
    lines = list(enumerate(_records(members, profiles, anchor, rng), 1))
    report = services.imports.import_records(lines)
    say(
        f"sesame-credit: {len(members):,} residents switched the score on; "
        f"{report.accepted:,} records from Ant Group ({len(report.rejected)} refused)"
    )
    fitted = _refit(services, members, profiles, now)
    if fitted:
        say(
            f"  scorecard refitted from the engine's own factor values: AUC {fitted['auc']:.3f} "
            f"(Gini {fitted['gini']:.3f}) on {fitted['held_out']:,} held-out residents",
            highlight=False,
        )
    shown = _sesame_examples(services, members, now, say)
    return {"members": len(members), "records": report.accepted, "fit": fitted, "examples": shown}


def _sesame_examples(
    services: Services, members: list[str], now: datetime, say: Callable[..., None]
) -> list[dict[str, Any]]:
    """The best and the worst scored member: their dimensions and what partners offer."""
    scored = []
    for person in members[:400]:
        _, [evaluation] = services.checks.scores(
            person, scheme=SESAME, at=now, actor="demo", purpose="demonstration"
        )
        if evaluation.explanation.score is not None:
            scored.append((evaluation.explanation.score, person, evaluation))
    scored.sort(key=lambda found: found[0])
    shown = []
    for score, person, evaluation in (scored[-1], scored[0]) if scored else ():
        dimensions: dict[str, int] = {}
        for factor in evaluation.explanation.factors:
            dimensions[factor.dimension] = dimensions.get(factor.dimension, 0) + factor.points
        offers = {}
        for action in ("deposit.hotel", "deposit.bike", "visa.schengen.simplified"):
            decision = services.checks.check(
                person, action, at=now, actor="demo", purpose="demonstration"
            ).decision
            offers[action] = decision.effect + (
                f" x{decision.factor:g}" if decision.factor is not None else ""
            )
        parts = ", ".join(f"{d} {p:+d}" for d, p in dimensions.items())
        say(f"  a member at {score} ({evaluation.explanation.grade}): {parts}", highlight=False)
        say("    " + "; ".join(f"{a}: {o}" for a, o in offers.items()), highlight=False)
        shown.append(
            {
                "score": score,
                "grade": evaluation.explanation.grade,
                "dimensions": dimensions,
                "offers": offers,
            }
        )
    return shown


def _consent(services: Services, members: list[str], at: datetime) -> None:
    """Members switched the score on long ago: consent is granted as at ``at``."""
    with services.clock.held_at(at):
        for person in members:
            services.consents.set(person, SESAME, "scoring", True, actor="subject")


def _records(
    members: list[str], profiles: list[dict[str, Any]], anchor: datetime, rng: random.Random
) -> Iterator[dict[str, str]]:
    serial = 0
    for person, profile in zip(members, profiles, strict=True):
        for code, days_ago in _behaviour(profile, rng):
            serial += 1
            occurred = anchor - timedelta(days=days_ago, seconds=rng.randint(1, 86_000))
            yield {
                "id": f"zm-{serial:07d}",
                "scheme": SESAME,
                "category": code,
                "subject": person,
                "occurred_at": occurred.isoformat(),
                "reported_at": occurred.isoformat(),
                "reporter": "ant-group",
            }


def _behaviour(profile: dict[str, Any], rng: random.Random) -> Iterator[tuple[str, float]]:
    """(category, days before the recomputation) of what the profile describes."""
    ratio = profile["on-time-ratio"]
    if ratio is not None:
        on_time = round(ratio * BILLS)
        for n in range(BILLS):
            yield ("bill-paid-on-time" if n < on_time else "bill-paid-late", rng.uniform(1, 360))
    yield "account-opened", profile["account-age"]
    for code, factor in (
        ("online-purchase", "online-purchases"),
        ("purchase.household", "household-purchases"),
        ("gaming-session-long", "long-gaming-sessions"),
        ("contact-high-score", "high-score-contacts"),
    ):
        for _ in range(int(profile[factor])):
            yield code, rng.uniform(1, 170)
    assets = int(profile["declared-assets"])
    for bit, code in (
        (1, "asset-declared.deposit"),
        (2, "asset-declared.vehicle"),
        (4, "asset-declared.property"),
    ):
        if assets & bit:
            yield code, rng.uniform(1, 700)
    if profile["income-recency"] is not None:
        yield "income-verified", profile["income-recency"]
    if profile["identity-verified"]:
        yield "identity-verified", rng.uniform(30, 900)
    if profile["education-verified"]:
        yield "education-verified", rng.uniform(30, 900)


def _refit(
    services: Services, members: list[str], profiles: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """Fit the shipped template to the factor values the engine computed for each
    member, against whether the member defaulted; report the held-out AUC."""
    import numpy as np

    from socialcredit.pilots.scorecard.fit import fit_scorecard

    history = services.definitions.registry.history(SESAME)
    card = history.current.definition.scorecard
    if card is None:
        return {}
    columns = [factor.id for _, factor in card.factors]
    bad = {
        services.subjects.identify(p).key: int(profile["bad"])
        for p, profile in zip(members, profiles, strict=True)
    }
    rows, targets = [], []
    for subject, evaluation in services.checks.evaluate_scheme(SESAME, now):
        values = {f.factor: f.value for f in evaluation.explanation.factors}
        if subject.key in bad and values:
            rows.append([np.nan if values[c] is None else values[c] for c in columns])
            targets.append(bad[subject.key])
    if len(set(targets)) < 2:
        return {}
    definition = history.current.definition
    text = services.definitions.version(SESAME).text
    result = fit_scorecard(
        definition, text, np.array(rows, dtype=float), np.array(targets, dtype=np.int_), seed=7
    )
    held_out = next(m for m in result.metrics if m.split != "train")
    return {
        "auc": round(held_out.auc, 4),
        "gini": round(held_out.gini, 4),
        "held_out": held_out.rows,
        "base": result.base,
    }


sesame_step = DemoStep("sesame", 10, sesame)

__all__ = ["sesame_step"]
