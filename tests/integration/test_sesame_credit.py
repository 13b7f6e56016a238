"""Sesame Credit on a real ledger (issue 5): a consent-based scorecard scheme,
recomputed monthly, whose grades waive deposits and simplify visa applications
at 600, 650, 700 and 750."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import count
from pathlib import Path

import pytest
from ledger_support import at, line, numbered, people, shipped_system

from socialcredit.bootstrap import Services
from socialcredit.domain.schemes.durations import add_months
from socialcredit.entrypoints.views import score_view

SCHEME = "sesame-credit"
NOW = at(2025, 6, 15, 12)
_ids: Iterator[int] = count(1)


def report(code: str, who: str, when: datetime) -> dict[str, str]:
    """A record reported when it happened, so that the month's recomputation knows it."""
    return line(f"s{next(_ids)}", who, code, when, scheme=SCHEME, reported_at=when)


def monthly(code: str, who: str, first: datetime, n: int) -> list[dict[str, str]]:
    return [report(code, who, add_months(first, i)) for i in range(n)]


# Points over the base of 350, per schemes/sesame-credit.yaml (all at 1 June 2025):
#   on-time ratio 1.0 +140, identity verified +50, no long gaming session +20,
#   education verified +40, household purchases 1-5 +25 / 6+ +50, income verified
#   180+ days ago +10, a declared deposit (sum 1) +30, account 180-364 days old +20,
#   730+ days old +70.
def profiles(who: dict[int, str]) -> list[dict[str, str]]:
    lines: list[dict[str, str]] = []
    for person in who.values():
        lines += monthly("bill-paid-on-time", person, at(2024, 7, 5), 10)
        lines.append(report("identity-verified", person, at(2024, 1, 10)))
    lines += monthly("purchase.household", who[595], at(2025, 2, 3), 2)
    lines.append(report("income-verified", who[595], at(2024, 11, 20)))
    for person in (who[600], who[650], who[700], who[750]):
        lines.append(report("education-verified", person, at(2024, 2, 1)))
    for person in (who[650], who[700], who[750]):
        lines += monthly("purchase.household", person, at(2024, 12, 12), 6)
    lines.append(report("asset-declared.deposit", who[700], at(2025, 3, 1)))
    lines.append(report("account-opened", who[700], at(2024, 9, 1)))
    lines.append(report("asset-declared.deposit", who[750], at(2025, 3, 1)))
    lines.append(report("account-opened", who[750], at(2023, 3, 1)))
    return lines


@pytest.fixture
def system(tmp_path: Path) -> Iterator[tuple[Services, dict[int, str]]]:
    ledger = shipped_system(tmp_path / "ledger.db", now=at(2023, 1, 1))
    who = dict(zip((595, 600, 650, 700, 750), people(5, seed=505), strict=True))
    for person in who.values():
        ledger.consents.set(person, SCHEME, "scoring", True, actor="cli")
    ledger.clock.read = lambda: NOW
    lines = profiles(who)
    imported = ledger.imports.import_records(numbered(lines))
    assert (imported.accepted, imported.rejected) == (len(lines), [])
    yield ledger, who
    ledger.close()


def view(system: Services, who: str, at: datetime | None = None) -> dict[str, object]:
    row, [evaluation] = system.checks.scores(who, scheme=SCHEME, at=at, actor="cli")
    return score_view(evaluation, row.masked)


def test_scores_grades_and_their_explanation(system: tuple[Services, dict[int, str]]) -> None:
    ledger, who = system
    found = {target: view(ledger, person) for target, person in who.items()}
    assert {t: (v["score"], v["grade"]) for t, v in found.items()} == {
        595: (595, "fair"),
        600: (600, "good"),
        650: (650, "very-good"),
        700: (700, "excellent"),
        750: (750, "excellent-750"),
    }
    top = found[750]
    assert top["at"] == "2025-06-01T00:00:00Z"  # recomputed monthly
    assert top["base"] == 350
    factors = {f["factor"]: (f["value"], f["bin"], f["points"]) for f in top["factors"]}
    assert factors == {
        "on-time-ratio": (1.0, "x ≥ 0.97", 140),
        "account-age": (823, "x ≥ 730", 70),
        "online-purchases": (0, "x < 5", 0),
        "household-purchases": (6, "x ≥ 6", 50),
        "long-gaming-sessions": (0, "x < 1", 20),
        "declared-assets": (1, "1 ≤ x < 3", 30),
        "income-recency": (None, "missing", 0),
        "identity-verified": (1, "x ≥ 1", 50),
        "education-verified": (1, "x ≥ 1", 40),
        "high-score-contacts": (0, "x < 1", 0),
    }
    assert top["dimensions"] == [
        {"dimension": "credit-history", "points": 210},
        {"dimension": "behaviour-and-preferences", "points": 70},
        {"dimension": "ability-to-honour-obligations", "points": 30},
        {"dimension": "identity-traits", "points": 90},
        {"dimension": "connections", "points": 0},
    ]
    assert sum(f["points"] for f in top["factors"]) == 750 - 350
    # The records are the factors' inputs; their own points are not added.
    assert len(top["counted"]) == 10 + 1 + 1 + 6 + 1 + 1


EXPECTED = {
    # action: the lowest target score at which it applies, and how
    "deposit.hotel": (600, "adjust", 0.0),
    "deposit.car-rental": (600, "adjust", 0.0),
    "deposit.bike": (650, "adjust", 0.0),
    "visa.singapore.simplified": (700, "priority", None),
    "visa.schengen.simplified": (750, "priority", None),
}


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_checks_at_the_thresholds(system: tuple[Services, dict[int, str]], action: str) -> None:
    ledger, who = system
    threshold, effect, factor = EXPECTED[action]
    for target, person in who.items():
        decision = ledger.checks.check(person, action, actor="cli").decision
        if target >= threshold:
            assert (decision.effect, decision.factor) == (effect, factor), (action, target)
            [reason] = decision.reasons
            assert (reason.scheme, reason.source, reason.authority) == (
                SCHEME,
                "grade",
                "ant-group",
            )
            assert reason.grade == view(ledger, person)["grade"]
        else:
            assert (decision.effect, decision.factor, decision.reasons) == ("allow", None, ()), (
                action,
                target,
            )


def test_new_records_count_from_the_next_month(
    system: tuple[Services, dict[int, str]],
) -> None:
    ledger, who = system
    person = who[595]
    ledger.imports.import_records(numbered([report("education-verified", person, at(2025, 6, 5))]))
    assert view(ledger, person)["score"] == 595  # 1 June's answer holds all month
    assert ledger.checks.check(person, "deposit.hotel", actor="cli").decision.effect == "allow"
    july = at(2025, 7, 1)
    assert (view(ledger, person, july)["score"], view(ledger, person, july)["grade"]) == (
        635,
        "good",
    )
    assert ledger.checks.check(person, "deposit.hotel", at=july, actor="cli").decision.factor == 0.0


def test_a_contested_record_leaves_the_factors(
    system: tuple[Services, dict[int, str]],
) -> None:
    ledger, who = system
    person = who[650]
    counted = view(ledger, person)["counted"]
    household = next(c["record"] for c in counted if c["category"] == "purchase.household")
    ledger.casework.contest(
        household, "I never bought these nappies; my card was copied.", actor="cli"
    )
    # June's answer was computed on 1 June, but a contest freezes the record at once
    # (GDPR art. 18), whatever the schedule; July's answer leaves it out too.
    now = view(ledger, person)
    assert {x["record"]: x["reason"] for x in now["excluded"]} == {household: "contested"}
    assert now["score"] == 625
    july = at(2025, 7, 1)
    after = view(ledger, person, july)
    assert {x["record"]: x["reason"] for x in after["excluded"]} == {household: "contested"}
    assert {f["factor"]: f["value"] for f in after["factors"]}["household-purchases"] == 5
    assert (after["score"], after["grade"]) == (625, "good")
    assert (
        ledger.checks.check(person, "deposit.bike", at=july, actor="cli").decision.effect == "allow"
    )
    assert ledger.checks.check(person, "deposit.hotel", at=july, actor="cli").decision.factor == 0.0


def test_withdrawn_consent_ends_the_score_and_the_waivers(
    system: tuple[Services, dict[int, str]],
) -> None:
    ledger, who = system
    person = who[750]
    ledger.consents.set(person, SCHEME, "scoring", False, actor="cli")
    july = at(2025, 7, 1)
    assert view(ledger, person, july)["score"] is None
    assert (
        ledger.checks.check(
            person, "visa.schengen.simplified", at=july, actor="cli"
        ).decision.effect
        == "allow"
    )
