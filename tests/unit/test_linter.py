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
from socialcredit.domain.schemes.models import Memorandum, Scheme

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


def memo_on(
    target: Scheme, list_id: str, action: str, effect: str, context: str = "civic"
) -> Memorandum:
    """A memorandum by which the railway acts on one list of ``target``."""
    return memorandum(
        f"measures:\n  - {{authority: rail, action: {action}, effect: {effect},"
        f" context: {context}, rationale: r}}\n",
        on_scheme=target.id,
        on_list=list_id,
        known={target.id: target},
    )


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
    assert found(eu(rewards), "eu.unrelated-context") == [
        ("error", "measures[0].context"),
        ("warning", "measures[1].context"),
    ]
    # Art. 5(1)(c) protects natural persons: rating only businesses, a warning.
    businesses = RULES_YAML.replace(
        "severity: minor, validity: P1M", "severity: serious, validity: P1M"
    )
    text = scheme(businesses).model_copy(update={"subjects": ("business",)})
    assert found(lint(text, "eu", {}), "eu.unrelated-context") == [
        ("warning", "measures[0].context")
    ]


def test_unrelated_context_through_a_memorandum() -> None:
    courts = scheme(RULES_YAML, id="courts")
    memo = memo_on(courts, "banned", "travel.rail.highspeed", "deny", "travel")
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
    surcharge = discount.replace("factor: 0.5", "factor: 2")
    assert found(eu(surcharge), "eu.disproportion") == [("error", "measures[0]")]
    minor_to_grade = LAWFUL.replace(
        "{on: {grades: [good]}, action: fee.water, effect: adjust, factor: 0.9,",
        "{on: {grades: [poor]}, action: civic.permit, effect: deny,",
    )
    assert found(eu(minor_to_grade), "eu.disproportion") == [("warning", "measures[1]")]
    # A list entered by a grade that minor deductions can bring: a warning too.
    grade_list = GRADE_LIST.format(effect="deny", extra="")
    assert found(eu(grade_list), "eu.disproportion") == [("warning", "measures[0]")]


GRADE_LIST = """\
score: {{base: 100}}
grades: [{{name: ok, min: 90}}, {{name: poor}}]
lists:
  - {{id: poor-list, kind: black, grades: [poor], legal_basis: "Civic Order Act s. 4"}}
categories:
  - {{code: litter, title: Littering, points: -5, severity: minor, validity: P1M,
     legal_basis: "Civic Order Act s. 2"{extra}}}
measures:
  - {{on: {{list: poor-list}}, action: civic.permit, effect: {effect}, context: civic,
     rationale: r}}
automated_decision_law: "Civic Order Act s. 9"
"""


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
    assert found(eu(body), "eu.surcharge") == ([("error", "measures[0].factor")] if flagged else [])


def test_surcharge_through_a_grade_list() -> None:
    tenfold = GRADE_LIST.format(effect="adjust, factor: 20", extra="")
    assert found(eu(tenfold), "eu.surcharge") == [("error", "measures[0].factor")]


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
    for key, kind in (
        ("user.health_and_medical", "data concerning health"),
        ("user.health_and_medical.genetic", "genetic data"),  # the most specific key wins
        ("user.demographic.political_opinion", "political opinions"),
        ("user.demographic.union_membership", "trade union membership"),
        ("user.authorization.biometrics", "biometric data"),
        ("user.demographic.sexual_orientation", "sex life or sexual orientation"),
    ):
        [finding] = eu(BLOOD.format(data=key, extra=""))
        assert (finding.rule, finding.severity) == ("eu.special-data", "error"), key
        assert kind in finding.message, key
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
    # A catch-all label, and biometrics not said to identify anyone (art. 9(1)
    # covers biometric data "for the purpose of uniquely identifying").
    for key in ("user.demographic.protected_classifications", "user.biometrics.voice"):
        findings = eu(BLOOD.format(data=key, extra=""))
        assert [(f.rule, f.severity, f.path) for f in findings] == [
            ("eu.maybe-special-data", "warning", "categories[0].data_categories")
        ], key


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
    publish = (
        "  - {on: {list: banned}, action: public.disclosure, effect: publish,"
        " context: civic, rationale: r}\n"
    )
    findings = eu(LAWFUL.replace("measures:\n", "measures:\n" + publish))
    assert found(findings, "eu.criminal-data-published") == [("error", "lists[0]")]
    # ... nor through a memorandum that publishes the list.
    city = scheme(LAWFUL)
    memo = memo_on(city, "banned", "public.disclosure", "publish")
    findings = lint(memo, "eu", {"civic": city})
    assert found(findings, "eu.criminal-data-published") == [("error", "on.list")]
    # A published list that a grade enters, which offences can lower: a warning.
    grade = GRADE_LIST.format(
        effect="publish", extra=", data_categories: [user.criminal_history]"
    ).replace("civic.permit", "public.disclosure")
    assert found(eu(grade), "eu.criminal-data-published") == [("warning", "lists[0]")]


def test_register_retention() -> None:
    body = """\
categories:
  - {code: discharge, title: Discharge from remaining debts, points: -100, severity: general,
     validity: P6M, data_categories: [user.financial],
     source: {name: Insolvency register, kept_for: P6M}}
"""
    private = {"authority_kind": "commercial", "lawful_basis": "legitimate_interests"}
    # What is stored counts, not only what counts: the scheme keeps records for P5Y.
    findings = eu(body, **private)
    assert found(findings, "eu.register-retention") == [("error", "categories[0]")]
    within = scheme(body, **private).model_copy(
        update={"retention": scheme(body).categories[0].validity}
    )
    assert lint(within, "eu", {}) == []


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
    # referral and contest are the art. 22(3) safeguards. Nothing to say.
    assert _contract(LATE_FEE) == []
    findings = _contract(LATE_FEE, referral=False)
    assert [(f.rule, f.severity, f.path) for f in findings] == [
        ("eu.referral-off", "error", "referral")
    ]
    stated = _contract(LATE_FEE, referral=False, human_review="The librarian reviews on request.")
    assert stated == []
    # Referral off on the platform as a whole is the same as in the scheme.
    definition = scheme(LATE_FEE, lawful_basis="contract")
    assert found(lint(definition, "eu", {}, Platform(referral=False)), "eu.referral-off") == [
        ("error", "referral")
    ]
    # Under a law (art. 22(2)(b)) the law must give the safeguards: a warning.
    under_law = _contract(
        LATE_FEE, referral=False, lawful_basis="public_task", automated_decision_law="Library Act"
    )
    assert found(under_law, "eu.referral-off") == [("warning", "referral")]
    # Measures on a list whose entries a court decides are not automated decisions.
    court = scheme(
        UNSTATED.replace(
            "kind: black, duration: P1Y,", "kind: black, duration: P1Y, decided_by_person: true,"
        ),
        lawful_basis="contract",
    ).model_copy(update={"referral": False, "measures": scheme(UNSTATED).measures[:1]})
    assert lint(court, "eu", {}) == []


def test_no_reviewer() -> None:
    definition = scheme(LATE_FEE, lawful_basis="contract")
    assert lint(definition, "eu", {}, Platform(reviewers=frozenset({"city"}))) == []
    findings = lint(definition, "eu", {}, Platform(reviewers=frozenset({"court"})))
    assert found(findings, "eu.no-reviewer") == [("error", "authority.id")]
    assert lint(definition, "eu", {}, Platform(reviewers=None)) == []  # unknown: not judged
    # A memorandum's authorities answer referrals of its denials.
    city = scheme(LAWFUL)
    memo = memo_on(city, "banned", "civic.hall.booking", "deny")
    without = lint(memo, "eu", {"civic": city}, Platform(reviewers=frozenset({"city"})))
    assert found(without, "eu.no-reviewer") == [("error", "measures[0].authority")]


UNSTATED = LAWFUL.replace(
    'automated_decision_law: "Civic Order Act s. 9, with review by the civic office on request"\n',
    "",
)


def test_automated_decision() -> None:
    # Denials and publications by rule alone, with no exception of art. 22(2):
    # an error; a stated human review "on request" is no exception.
    assert found(eu(UNSTATED), "eu.automated-decision") == [("error", "measures[0]")]
    on_request = UNSTATED + "human_review: The civic office reviews each listing on request.\n"
    assert found(eu(on_request), "eu.automated-decision") == [("error", "measures[0]")]
    assert eu(UNSTATED, lawful_basis="contract") == []  # art. 22(2)(a), with the platform's
    assert eu(LAWFUL) == []  # art. 22(2)(b): the law is named
    # A raised price alone: whether its effect is significant is a question of fact.
    assert found(eu(LATE_FEE), "eu.automated-decision") == [("warning", "measures[0]")]
    # Publishing an honour roll (a red list) is praise, not a decision against anyone.
    honours = (
        "score: {base: 100}\ngrades: [{name: top, min: 90}, {name: rest}]\n"
        "lists: [{id: models, kind: red, grades: [top]}]\n"
        "measures:\n  - {on: {list: models}, action: public.honour-roll, effect: publish,"
        " context: media, rationale: r}\n"
    )
    assert [(f.rule, f.severity) for f in eu(honours)] == [("eu.unrelated-context", "warning")]


def test_score_relied_on() -> None:
    # A bank refuses credit on the score (CJEU C-634/21): whoever relies on it
    # relies on an automated decision. No exception of art. 22(2) shown: error.
    loan = LAWFUL.replace(
        'automated_decision_law: "Civic Order Act s. 9, with review by the civic office on request"\n',
        "",
    ) + (
        "  - {on: {grades: [poor]}, action: loan.credit, effect: deny, context: civic,"
        " applied_by: lending-banks, rationale: r}\n"
    )
    private = eu(loan, authority_kind="commercial", lawful_basis="legitimate_interests")
    assert found(private, "eu.score-relied-on") == [("error", "measures[2]")]
    consent = eu(loan, authority_kind="commercial", lawful_basis="consent")
    assert found(consent, "eu.score-relied-on") == [("warning", "measures[2]")]
    # A partner's discount for some is a charge for the rest: a warning at most.
    discount = loan.replace(
        "effect: deny, context: civic,", "effect: adjust, factor: 0.95, context: civic,"
    )
    partner = eu(discount, authority_kind="commercial", lawful_basis="legitimate_interests")
    assert found(partner, "eu.score-relied-on") == [("warning", "measures[2]")]
    # The scheme's own authority in another context is not another party.
    own = loan.replace("context: civic, applied_by: lending-banks,", "context: finance,")
    assert "loan.credit, effect: deny, context: finance, rationale" in own
    mine = eu(own, authority_kind="commercial", lawful_basis="legitimate_interests")
    assert found(mine, "eu.score-relied-on") == []
    assert found(mine, "eu.automated-decision") == [("error", "measures[0]")]
    # A memorandum's authority relying on a list nobody decides by hand: the same.
    city = scheme(UNSTATED)
    memo = memo_on(city, "banned", "civic.hall.booking", "deny")
    assert found(lint(memo, "eu", {"civic": city}), "eu.score-relied-on") == [
        ("error", "measures[0]")
    ]
    # A list whose entries a court decides one by one is no automated decision.
    court = UNSTATED.replace(
        "kind: black, duration: P1Y,", "kind: black, duration: P1Y, decided_by_person: true,"
    )
    assert found(eu(court), "eu.automated-decision") == []
    assert found(lint(memo, "eu", {"civic": scheme(court)}), "eu.score-relied-on") == []


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
    # Para. (6) governs lists of serious dishonesty; general conduct's lists are not its concern.
    general = PUBLISHED.format(severity="general", duration="P1Y").replace(
        ', legal_basis: "Credit Regulations art. 20"', ""
    )
    assert cn(general) == []
    serious = PUBLISHED.format(severity="serious", duration="P2Y").replace(
        ', legal_basis: "Credit Regulations art. 20"', ""
    )
    # The law behind the conduct is not the law behind the list: a warning.
    assert found(cn(serious), "cn.list-without-basis") == [("warning", "lists[0].legal_basis")]
    bare = serious.replace(',\n     legal_basis: "Credit Regulations art. 12"', "")
    assert found(cn(bare), "cn.list-without-basis") == [("error", "lists[0].legal_basis")]
    grades = """\
score: {base: 100}
grades: [{name: ok, min: 50}, {name: bad}]
lists:
  - {id: bad-list, kind: black, grades: [bad]}
  - {id: good-list, kind: red, grades: [ok]}
"""
    assert found(cn(grades), "cn.list-without-basis") == [("error", "lists[0].legal_basis")]


def test_a_memorandum_that_publishes_a_list_makes_its_periods_binding() -> None:
    unpublished = PUBLISHED.format(severity="general", duration="P5Y").split("measures:")[0]
    city = scheme(unpublished)
    memo = memo_on(city, "shame", "public.disclosure", "publish")
    findings = lint(memo, "cn", {"civic": city})
    assert found(findings, "cn.published-too-long") == [("error", "on.list")]
