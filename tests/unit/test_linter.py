"""The eu and cn lint profiles, rule by rule: each rule fires on what it names,
at its severity, and not on the lawful design beside it. docs/compliance.md
names the test of each rule; test_compliance_doc.py checks that it exists."""

from __future__ import annotations

import pytest

from conftest import memorandum, scheme
from socialcredit.domain.compliance import (
    RULES,
    Finding,
    Platform,
    has_errors,
    legal_findings,
    lint,
)

RULES_YAML = """\
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

# A lawful scheme: one context, serious conduct only on its list, a coarse
# location, no special data, and its list and categories resting on law.
LAWFUL = """\
score: {base: 100}
grades:
  - {name: good, min: 90}
  - {name: poor}
lists:
  - {id: banned, kind: black, duration: P1Y, legal_basis: "Civic Order Act s. 4"}
categories:
  - {code: litter, title: Littering, points: -5, severity: minor, validity: P1M,
     data_categories: [user.location.coarse], legal_basis: "Civic Order Act s. 2"}
  - {code: fraud, title: Fraud, points: -50, severity: serious, validity: P2Y, lists: [banned],
     data_categories: [user.criminal_history], legal_basis: "Criminal Code art. 266"}
measures:
  - {on: {list: banned}, action: civic.hall.booking, effect: deny, context: civic, rationale: r}
  - {on: {grades: [good]}, action: fee.water, effect: adjust, factor: 0.9, context: civic, rationale: r}
automated_decision_law: "Civic Order Act s. 9, with review by the civic office on request"
"""


def found(findings: list[Finding], rule: str) -> list[tuple[str, str]]:
    return [(f.severity, f.path) for f in findings if f.rule == rule]


def eu(body: str, **kwargs: str) -> list[Finding]:
    return lint(scheme(body, **kwargs), "eu", {})


def cn(body: str) -> list[Finding]:
    return lint(scheme(body), "cn", {})


def test_a_lawful_scheme_passes_both_profiles() -> None:
    assert eu(LAWFUL) == [] and cn(LAWFUL) == []


def test_every_finding_carries_its_provision_and_a_fix() -> None:
    findings = eu(RULES_YAML) + cn(RULES_YAML)
    assert findings and has_errors(findings)
    for finding in findings:
        rule = RULES[finding.rule]
        assert (finding.provision, finding.fix) == (rule.provision, rule.fix)
        assert finding.provision and finding.fix and finding.message


# -- AI Act art. 5(1)(c) --------------------------------------------------------------------


def test_unrelated_context() -> None:
    findings = eu(RULES_YAML)
    assert found(findings, "eu.unrelated-context") == [("error", "measures[0].context")]
    rewards = RULES_YAML.replace("context: civic, rationale", "context: utilities, rationale")
    assert ("warning", "measures[1].context") in found(eu(rewards), "eu.unrelated-context")


def test_unrelated_context_through_a_memorandum() -> None:
    courts = scheme(RULES_YAML, id="courts")
    memo = memorandum(
        "measures:\n  - {authority: rail, action: travel.rail.highspeed, effect: deny,"
        " context: travel, rationale: r}\n",
        on_scheme="courts",
        on_list="banned",
        known={"courts": courts},
    )
    findings = lint(memo, "eu", {"courts": courts})
    assert found(findings, "eu.unrelated-context") == [("error", "measures[0].context")]
    assert found(findings, "eu.disproportion") == [("error", "measures[0]")]
    [alone] = lint(memo, "eu", {})
    assert (alone.severity, alone.rule, alone.path) == ("error", "lint.unknown-scheme", "on.scheme")


def test_disproportion() -> None:
    assert found(eu(RULES_YAML), "eu.disproportion") == [("error", "measures[0]")]
    discount = RULES_YAML.replace(
        "action: travel.air.ticket, effect: deny,", "action: fee.bus, effect: adjust, factor: 0.5,"
    )
    assert found(eu(discount), "eu.disproportion") == []  # a discount is no detriment
    assert found(eu(discount.replace("factor: 0.5", "factor: 2")), "eu.disproportion")
    minor_to_grade = LAWFUL.replace(
        "{on: {grades: [good]}, action: fee.water, effect: adjust, factor: 0.9,",
        "{on: {grades: [poor]}, action: civic.permit, effect: deny,",
    )
    assert found(eu(minor_to_grade), "eu.disproportion") == [("warning", "measures[1]")]


@pytest.mark.parametrize(
    ("factor", "severity", "flagged"),
    [(10, "minor", True), (9.9, "minor", False), (100, "general", True), (100, "serious", False)],
)
def test_surcharge(factor: float, severity: str, flagged: bool) -> None:
    body = f"""\
score: {{base: 100}}
grades: [{{name: ok, min: 80}}, {{name: low}}]
categories:
  - {{code: bad, title: Bad, points: -30, severity: {severity}, validity: P3M}}
measures:
  - {{on: {{grades: [low]}}, action: fare, effect: adjust, factor: {factor}, context: civic,
     rationale: r}}
"""
    assert bool(found(eu(body), "eu.surcharge")) is flagged


# -- GDPR art. 9 and 10 ---------------------------------------------------------------------

BLOOD = """\
categories:
  - {{code: blood, title: Blood donation, points: 10, severity: minor, validity: P1Y,
     data_categories: [{data}], legal_basis: "County health bureau notice"{extra}}}
"""


def test_special_data() -> None:
    # Blood donations are health data: a legal_basis text is not an art. 9(2) condition.
    findings = eu(BLOOD.format(data="user.health", extra=""))
    assert found(findings, "eu.special-data") == [("error", "categories[0].special_condition")]
    assert "data concerning health" in findings[0].message
    for key in (
        "user.health_and_medical",
        "user.demographic.political_opinion",
        "user.demographic.union_membership",
        "user.biometrics.fingerprint",
        "user.demographic.sexual_orientation",
    ):
        assert found(eu(BLOOD.format(data=key, extra="")), "eu.special-data"), key
    consent = ", special_condition: {condition: explicit-consent}"
    assert eu(BLOOD.format(data="user.health", extra=consent)) == []
    assert eu(BLOOD.format(data="user.behavior", extra="")) == []


def test_special_data_law() -> None:
    public_interest = ", special_condition: {condition: substantial-public-interest}"
    findings = eu(BLOOD.format(data="user.health", extra=public_interest))
    assert found(findings, "eu.special-data-law") == [
        ("error", "categories[0].special_condition.law")
    ]
    assert "art. 9(2)(g)" in findings[0].message
    with_law = (
        ", special_condition: {condition: substantial-public-interest,"
        " law: 'Blood Safety Act art. 7'}"
    )
    assert eu(BLOOD.format(data="user.health", extra=with_law)) == []


def test_maybe_special_data() -> None:
    findings = eu(BLOOD.format(data="user.demographic.protected_classifications", extra=""))
    assert found(findings, "eu.maybe-special-data") == [
        ("warning", "categories[0].data_categories")
    ]


FRAUD = """\
categories:
  - {{code: fraud, title: Fraud finding, points: -50, severity: serious, validity: P2Y,
     data_categories: [user.criminal_history], legal_basis: "Market regulation law"{extra}}}
"""


def test_criminal_data() -> None:
    # A city department is a public authority: art. 10's "official authority".
    assert eu(FRAUD.format(extra="")) == []
    findings = eu(FRAUD.format(extra=""), authority_kind="commercial")
    assert found(findings, "eu.criminal-data") == [("error", "categories[0].criminal_data_law")]
    authorised = FRAUD.format(extra=", criminal_data_law: 'Retail Fraud Act s. 3, safeguards s. 4'")
    assert eu(authorised, authority_kind="commercial") == []


def test_criminal_data_published() -> None:
    # Penalty points made public (CJEU C-439/19): even a public authority with
    # a law behind it may not publish criminal-offence data to all comers.
    published = LAWFUL.replace(
        "measures:\n",
        "measures:\n  - {on: {list: banned}, action: public.disclosure, effect: publish,"
        " context: civic, rationale: r}\n",
    )
    findings = eu(published)
    assert found(findings, "eu.criminal-data-published") == [("error", "lists[0]")]


def test_register_retention() -> None:
    body = """\
categories:
  - {code: discharge, title: Discharge from remaining debts, points: -100, severity: general,
     validity: P3Y, data_categories: [user.financial],
     source: {name: Insolvency register, kept_for: P6M}}
"""
    private = {"authority_kind": "commercial", "lawful_basis": "legitimate_interests"}
    findings = eu(body, **private)
    assert found(findings, "eu.register-retention") == [("error", "categories[0].validity")]
    assert eu(body.replace("P3Y", "P6M"), **private) == []


# -- location -------------------------------------------------------------------------------


def test_precise_location() -> None:
    assert found(eu(RULES_YAML), "eu.precise-location") == [
        ("warning", "categories[0].data_categories")
    ]
    gps = RULES_YAML.replace("[user.location]", "[user.location.precise]")
    assert found(eu(gps), "eu.precise-location")
    for coarse in ("user.location.coarse", "user.location.imprecise"):
        rough = RULES_YAML.replace("[user.location]", f"[{coarse}]")
        assert found(eu(rough), "eu.precise-location") == []


def test_background_location() -> None:
    base = LAWFUL + "location: {precision: coarse, background: true}\n"
    assert found(eu(base), "eu.background-location") == [("warning", "location.background")]
    precise = base.replace("precision: coarse", "precision: precise")
    assert ("error", "location.background") in found(eu(precise), "eu.background-location")
    consented = precise + "purposes: [scoring, precise-location, background-location]\n"
    assert found(eu(consented), "eu.background-location") == [("warning", "location.background")]


def test_exact_trip_ends_alone_are_not_reported() -> None:
    # The Berlin authority found a trip's start and end enough to keep (tests/cases).
    assert eu(LAWFUL + "location: {precision: precise}\n") == []


# -- GDPR art. 22 ---------------------------------------------------------------------------

LATE_FEE = """\
score: {base: 0}
grades: [{name: member, min: 0}, {name: late}]
categories:
  - {code: late-return, title: Book returned late, points: -1, severity: minor, validity: P1M}
measures:
  - {on: {grades: [late]}, action: library.fee, effect: adjust, factor: 1.5, context: civic,
     rationale: r}
"""


def _contract(body: str, **update: object) -> list[Finding]:
    definition = scheme(body, lawful_basis="contract").model_copy(update=update)
    return lint(definition, "eu", {})


def test_referral_off() -> None:
    # A library's late fee under a contract, in its own context: the platform's
    # referral, contest and notices are the art. 22(3) safeguards. Nothing to say.
    assert _contract(LATE_FEE) == []
    findings = _contract(LATE_FEE, referral=False)
    assert found(findings, "eu.referral-off") == [("error", "referral")]
    stated = _contract(LATE_FEE, referral=False, human_review="The librarian reviews on request.")
    assert stated == []
    # Referral off on the platform as a whole is the same as in the scheme.
    definition = scheme(LATE_FEE, lawful_basis="contract")
    assert found(lint(definition, "eu", {}, Platform(referral=False)), "eu.referral-off")


def test_no_reviewer() -> None:
    definition = scheme(LATE_FEE, lawful_basis="contract")
    assert lint(definition, "eu", {}, Platform(reviewers=frozenset({"city"}))) == []
    findings = lint(definition, "eu", {}, Platform(reviewers=frozenset({"court"})))
    assert found(findings, "eu.no-reviewer") == [("error", "authority.id")]
    assert lint(definition, "eu", {}, Platform(reviewers=None)) == []  # unknown: not judged


UNSTATED = LAWFUL.replace(
    'automated_decision_law: "Civic Order Act s. 9, with review by the civic office on request"\n',
    "",
)


def test_legal_effect_safeguards() -> None:
    assert found(eu(UNSTATED), "eu.legal-effect-safeguards") == [("warning", "measures[0]")]
    stated = UNSTATED + "human_review: The civic office reviews each listing on request.\n"
    assert eu(stated) == []
    assert eu(UNSTATED, lawful_basis="contract") == []  # art. 22(2)(a), with the platform's


def test_score_relied_on() -> None:
    # The score decides a loan elsewhere: whoever relies on it relies on an
    # automated decision (CJEU C-634/21). No exception of art. 22(2) shown: error.
    elsewhere = UNSTATED + (
        "  - {on: {grades: [poor]}, action: loan.credit, effect: deny, context: finance,"
        " rationale: r}\n"
    )
    private = eu(elsewhere, authority_kind="commercial", lawful_basis="legitimate_interests")
    assert found(private, "eu.score-relied-on") == [("error", "measures[2]")]
    consent = eu(elsewhere, authority_kind="commercial", lawful_basis="consent")
    assert found(consent, "eu.score-relied-on") == [("warning", "measures[2]")]
    # A list whose entries a court decides one by one is no automated decision.
    court = UNSTATED.replace(
        "kind: black, duration: P1Y,", "kind: black, duration: P1Y, decided_by_person: true,"
    ).replace(
        "civic.hall.booking, effect: deny, context: civic",
        "travel.air.ticket, effect: deny, context: travel",
    )
    assert (
        found(eu(court), "eu.score-relied-on")
        == found(eu(court), "eu.legal-effect-safeguards")
        == []
    )
    assert found(eu(court), "eu.unrelated-context")  # art. 5(1)(c)(i) still applies


def test_lawful_basis_and_retention() -> None:
    findings = legal_findings(
        [("lawful_basis", "is required"), ("retention", "is required"), ("title", "x")]
    )
    assert [(f.rule, f.provision, f.path) for f in findings] == [
        ("eu.lawful-basis", "GDPR art. 6(1)", "lawful_basis"),
        ("eu.retention", "GDPR art. 5(1)(e)", "retention"),
    ]


# -- the cn profile -------------------------------------------------------------------------

PUBLISHED = """\
lists:
  - {{id: shame, kind: black, duration: {duration}, legal_basis: "Credit Regulations art. 20"}}
categories:
  - {{code: x, title: X, points: -5, severity: {severity}, validity: P1M, lists: [shame],
     legal_basis: "Credit Regulations art. 12"}}
measures:
  - {{on: {{list: shame}}, action: public.disclosure, effect: publish, context: civic,
     rationale: r}}
"""


@pytest.mark.parametrize(
    ("severity", "duration", "expected"),
    [
        ("general", "P5Y", [("error", "lists[0]")]),
        ("general", "P1Y", []),
        ("serious", "P3Y", []),
        ("serious", "P4Y", [("error", "lists[0]")]),
    ],
)
def test_published_too_long(severity: str, duration: str, expected: list) -> None:
    findings = cn(PUBLISHED.format(severity=severity, duration=duration))
    assert found(findings, "cn.published-too-long") == expected


def test_minor_published() -> None:
    assert found(cn(PUBLISHED.format(severity="minor", duration="P1Y")), "cn.minor-published") == [
        ("error", "lists[0]")
    ]
    assert found(cn(PUBLISHED.format(severity="minor", duration="P2M")), "cn.minor-published") == [
        ("warning", "lists[0]")
    ]


def test_published_too_short() -> None:
    findings = cn(PUBLISHED.format(severity="serious", duration="P6M"))
    assert found(findings, "cn.published-too-short") == [("warning", "lists[0]")]


def test_listed_out_of_range() -> None:
    unpublished = PUBLISHED.format(severity="general", duration="P5Y").split("measures:")[0]
    assert found(cn(unpublished), "cn.listed-out-of-range") == [("warning", "lists[0]")]
    assert cn(PUBLISHED.format(severity="general", duration="P3M").split("measures:")[0]) == []


def test_repair_too_early() -> None:
    early = LAWFUL + "repair: {after: {general: P1M, serious: P1Y}}\n"
    assert found(cn(early), "cn.repair-too-early") == [("error", "repair.after.general")]
    assert cn(LAWFUL + "repair: {after: {general: P6M}}\n") == []


def test_list_without_basis() -> None:
    bare = PUBLISHED.format(severity="general", duration="P1Y").replace(
        ', legal_basis: "Credit Regulations art. 20"', ""
    )
    assert cn(bare) == []  # the category's legal basis carries the list
    bare = bare.replace(',\n     legal_basis: "Credit Regulations art. 12"', "")
    assert found(cn(bare), "cn.list-without-basis") == [("error", "lists[0].legal_basis")]
    grades = """\
score: {base: 100}
grades: [{name: ok, min: 50}, {name: bad}]
lists:
  - {id: bad-list, kind: black, grades: [bad]}
  - {id: good-list, kind: red, grades: [ok]}
"""
    assert found(cn(grades), "cn.list-without-basis") == [("error", "lists[0].legal_basis")]
