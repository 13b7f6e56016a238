"""The eu profile on the bike-share schemes: the 2018 configuration fails for
its 100x surcharge and its precise background location; the minimised one
shipped beside it passes (issue 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.adapters.files.definitions import load_definition
from socialcredit.domain.compliance import lint
from socialcredit.domain.schemes.loader import parse_definition
from socialcredit.domain.schemes.models import Scheme

SCHEMES = Path(__file__).resolve().parents[2] / "schemes"


def scheme(name: str) -> Scheme:
    definition = load_definition(SCHEMES / f"{name}.yaml").definition
    assert isinstance(definition, Scheme)
    return definition


def findings(definition: Scheme) -> list[tuple[str, str, str]]:
    return sorted((f.severity, f.rule, f.path) for f in lint(definition, "eu", {}))


def test_the_2018_configuration_fails_the_eu_profile() -> None:
    assert findings(scheme("mobike-2018")) == [
        ("error", "eu.background-location", "location.background"),
        ("error", "eu.surcharge", "measures[0].factor"),
        ("warning", "eu.disproportion", "measures[2]"),
        ("warning", "eu.precise-location", "categories[0].data_categories"),
        ("warning", "eu.precise-location", "categories[1].data_categories"),
        ("warning", "eu.precise-location", "categories[2].data_categories"),
    ]
    [price] = [f for f in lint(scheme("mobike-2018"), "eu", {}) if f.path == "measures[0].factor"]
    assert "multiplied by 100 for grade poor" in price.message
    assert "parking-outside-zone" in price.message


def test_the_2017_configuration_fails_for_its_surcharge() -> None:
    found = findings(scheme("mobike-2017"))
    assert [f for f in found if f[0] == "error"] == [
        ("error", "eu.surcharge", "measures[0].factor"),
    ]


def test_the_minimised_configuration_passes_the_eu_and_cn_profiles() -> None:
    minimised = scheme("mobike-2018-minimised")
    assert lint(minimised, "eu", {}) == [] and lint(minimised, "cn", {}) == []
    # ... with the 2018 scoring unchanged.
    original = scheme("mobike-2018")
    assert minimised.score == original.score and minimised.grades[0] == original.grades[0]
    assert [(c.code, c.points, c.validity) for c in minimised.categories] == [
        (c.code, c.points, c.validity) for c in original.categories
    ]
    assert minimised.recompute == original.recompute == "monthly"


HEADER = """\
type: scheme
id: s
title: T
authority: {id: a, name: A, kind: commercial}
context: mobility
lawful_basis: contract
subjects: [person]
retention: P1Y
"""


@pytest.mark.parametrize(
    ("location", "purposes", "expected"),
    [
        (
            "{precision: precise, background: true}",
            "[scoring]",
            {("error", "location.background")},
        ),
        (
            "{precision: coarse, background: true}",
            "[scoring]",
            {("warning", "location.background")},
        ),
        (
            "{precision: precise, background: true}",
            "[scoring, precise-location, background-location]",
            {("warning", "location.background")},
        ),
        ("{precision: precise}", "[scoring, precise-location]", set()),
        ("{precision: coarse}", "[scoring]", set()),
    ],
)
def test_location_findings_follow_the_purposes_a_rider_can_consent_to(
    location: str, purposes: str, expected: set[tuple[str, str]]
) -> None:
    text = HEADER + f"location: {location}\npurposes: {purposes}\n"
    definition = parse_definition(text, "t").definition
    assert isinstance(definition, Scheme)
    assert {(f.severity, f.path) for f in lint(definition, "eu", {})} == expected


@pytest.mark.parametrize(
    ("factor", "severity", "flagged"),
    [(10, "minor", True), (9.9, "minor", False), (100, "general", True), (100, "serious", False)],
)
def test_a_surcharge_of_ten_times_or_more_for_lesser_conduct_is_an_error(
    factor: float, severity: str, flagged: bool
) -> None:
    text = (
        HEADER
        + f"""\
human_review: A person reviews surcharges on request.
score: {{base: 100}}
grades: [{{name: ok, min: 80}}, {{name: low}}]
categories:
  - {{code: bad, title: Bad, points: -30, severity: {severity}, validity: P3M}}
measures:
  - on: {{grades: [low]}}
    action: mobility.ride.price
    effect: adjust
    factor: {factor}
    context: mobility
    rationale: A surcharge for riders with a low score.
"""
    )
    definition = parse_definition(text, "t").definition
    assert isinstance(definition, Scheme)
    rules = [f.rule for f in lint(definition, "eu", {}) if f.severity == "error"]
    assert rules == (["eu.surcharge"] if flagged else [])
