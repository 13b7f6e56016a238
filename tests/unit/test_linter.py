"""The eu and cn lint profiles: each rule fires on what it names, and only then."""

from __future__ import annotations

from conftest import memorandum, scheme
from socialcredit.domain.schemes.linter import has_errors, legal_findings, lint

RULES = """\
score: {base: 100}
grades:
  - {name: good, min: 90}
  - {name: poor}
lists:
  - {id: banned, kind: black, duration: P1Y}
categories:
  - {code: litter, title: Littering, points: -5, severity: minor, validity: P1M, lists: [banned],
     data_categories: [user.location]}
  - {code: fraud, title: Fraud, points: -50, severity: serious, validity: P2Y,
     data_categories: [user.criminal_history]}
measures:
  - {on: {list: banned}, action: travel.air.ticket, effect: deny, context: travel, rationale: r}
  - {on: {grades: [good]}, action: fee.water, effect: adjust, factor: 0.9, context: civic, rationale: r}
"""


def _rules(findings: list) -> set[tuple[str, str, str]]:
    return {(f.severity, f.rule, f.path) for f in findings}


def test_the_eu_profile_names_each_breach_with_its_rule_and_path() -> None:
    found = _rules(lint(scheme(RULES), "eu", {}))
    assert (
        "error",
        "AI Act art. 5(1)(c)(i)",
        "measures[0].context",
    ) in found  # travel, from civic data
    assert ("error", "AI Act art. 5(1)(c)(ii)", "measures[0]") in found  # littering -> no flights
    assert ("error", "GDPR art. 10", "categories[1].data_categories") in found  # no legal_basis
    assert ("warning", "GDPR art. 5(1)(c)", "categories[0].data_categories") in found  # location
    assert ("error", "GDPR art. 22(3)", "human_review") in found
    assert not any(path == "measures[1].context" for _, _, path in found)  # same context


def test_a_scheme_that_keeps_to_its_context_and_says_how_to_appeal_passes_eu() -> None:
    clean = (
        RULES.replace("context: travel", "context: civic")
        .replace(
            "severity: minor, validity: P1M, lists: [banned]",
            "severity: serious, validity: P2Y, lists: [banned]",
        )
        .replace("data_categories: [user.location]", "data_categories: [user.behavior]")
    )
    clean = clean.replace(
        "data_categories: [user.criminal_history]",
        "data_categories: [user.criminal_history], legal_basis: 'Criminal Code art. 266'",
    )
    clean += "human_review: 'Any decision can be referred to the review office within 30 days.'\n"
    findings = lint(scheme(clean), "eu", {})
    assert findings == [] and not has_errors(findings)


def test_favourable_treatment_in_another_context_is_only_a_warning() -> None:
    rewards = RULES.replace("context: civic, rationale", "context: utilities, rationale")
    [finding] = [f for f in lint(scheme(rewards), "eu", {}) if f.path == "measures[1].context"]
    assert finding.severity == "warning"


def test_a_memorandum_carrying_a_list_into_other_contexts_fails_eu() -> None:
    courts = scheme(RULES, id="courts")
    memo = memorandum(
        "measures:\n  - {authority: rail, action: travel.rail.highspeed, effect: deny, context: travel,"
        " rationale: r}\n",
        on_scheme="courts",
        on_list="banned",
        known={"courts": courts},
    )
    found = _rules(lint(memo, "eu", {"courts": courts}))
    assert ("error", "AI Act art. 5(1)(c)(i)", "measures[0].context") in found
    assert ("error", "AI Act art. 5(1)(c)(ii)", "measures[0]") in found


def test_the_cn_profile_checks_publication_periods_by_severity() -> None:
    [finding] = lint(scheme(RULES), "cn", {})  # minor littering kept on a list for a year
    assert (finding.rule, finding.path) == ("PRC credit repair (publication period)", "lists[0]")
    assert finding.message.startswith("litter (minor)") and "at most 3 months" in finding.message
    assert lint(scheme(RULES.replace("duration: P1Y", "duration: P2M")), "cn", {}) == []
    published = RULES.replace("duration: P1Y", "duration: P2M") + (
        "  - {on: {list: banned}, action: public.disclosure, effect: publish, context: civic, rationale: r}\n"
    )
    [finding] = lint(scheme(published), "cn", {})
    assert finding.rule == "PRC credit repair (minor records)"


def test_missing_lawful_basis_and_retention_are_legal_findings() -> None:
    findings = legal_findings(
        [("lawful_basis", "is required"), ("retention", "is required"), ("title", "x")]
    )
    assert [(f.rule, f.path) for f in findings] == [
        ("GDPR art. 6(1)", "lawful_basis"),
        ("GDPR art. 5(1)(e)", "retention"),
    ]


def test_edges_of_the_rules() -> None:
    # a discount from a minor behaviour is no detriment; a surcharge is
    discount = RULES.replace(
        "action: travel.air.ticket, effect: deny,", "action: fee.bus, effect: adjust, factor: 0.5,"
    )
    assert not any(f.rule == "AI Act art. 5(1)(c)(ii)" for f in lint(scheme(discount), "eu", {}))
    surcharge = discount.replace("factor: 0.5", "factor: 2")
    assert any(f.rule == "AI Act art. 5(1)(c)(ii)" for f in lint(scheme(surcharge), "eu", {}))
    # any location data not declared imprecise is treated as precise
    gps = RULES.replace("[user.location]", "[user.location.gps]")
    assert any(f.rule == "GDPR art. 5(1)(c)" for f in lint(scheme(gps), "eu", {}))
    rough = RULES.replace("[user.location]", "[user.location.imprecise]")
    assert not any(f.rule == "GDPR art. 5(1)(c)" for f in lint(scheme(rough), "eu", {}))
    # three months is inside the range for general records
    general = RULES.replace(
        "severity: minor, validity: P1M", "severity: general, validity: P1M"
    ).replace("duration: P1Y", "duration: P3M")
    assert lint(scheme(general), "cn", {}) == []
    # a memorandum cannot be judged without its scheme, and says so
    courts = scheme(RULES, id="courts")
    memo = memorandum(
        "measures:\n  - {authority: rail, action: travel.rail.highspeed, effect: deny, context: travel, rationale: r}\n",
        on_scheme="courts",
        on_list="banned",
        known={"courts": courts},
    )
    [alone] = lint(memo, "eu", {})
    assert (alone.severity, alone.path) == ("error", "on.scheme")
