"""Check decisions (DESIGN.md §3 "Check"): effects, factors, reasons and reach."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from conftest import US, at, check, evaluation, history, memorandum, record, scheme
from socialcredit.domain.sanctions.check import Reason, Representation, combine
from socialcredit.domain.schemes.models import EFFECTS_STRONGEST_FIRST

T = at(2024, 3, 1, 12)
ACTION = "test.action"

# One list per effect, each entered by its own category; every list restricts ACTION.
EFFECTS = scheme(
    """
lists:
  - {id: l-deny, kind: black, duration: P1Y}
  - {id: l-adjust, kind: black, duration: P1Y}
  - {id: l-adjust-2, kind: black, duration: P1Y}
  - {id: l-publish, kind: black, duration: P1Y}
  - {id: l-priority, kind: red, duration: P1Y}
  - {id: l-allow, kind: red, duration: P1Y}
categories:
  - {code: c-deny, title: D, severity: minor, validity: P1Y, lists: [l-deny]}
  - {code: c-adjust, title: A, severity: minor, validity: P1Y, lists: [l-adjust]}
  - {code: c-adjust-2, title: A2, severity: minor, validity: P1Y, lists: [l-adjust-2]}
  - {code: c-publish, title: P, severity: minor, validity: P1Y, lists: [l-publish]}
  - {code: c-priority, title: Pr, severity: minor, validity: P1Y, lists: [l-priority]}
  - {code: c-allow, title: Al, severity: minor, validity: P1Y, lists: [l-allow]}
  - {code: c-none, title: N, severity: minor, validity: P1Y}
measures:
  - {on: {list: l-deny}, action: test.action, effect: deny, context: civic, rationale: r}
  - {on: {list: l-adjust}, action: test.action, effect: adjust, factor: 0.9, context: civic, rationale: r}
  - {on: {list: l-adjust-2}, action: test.action, effect: adjust, factor: 0.5, context: civic, rationale: r}
  - {on: {list: l-publish}, action: test.action, effect: publish, context: civic, rationale: r}
  - {on: {list: l-priority}, action: test.action, effect: priority, context: civic, rationale: r}
  - {on: {list: l-allow}, action: test.action, effect: allow, context: civic, rationale: r}
""",
    id="effects",
)
EH = history(EFFECTS)


def check_effects(*categories: str):
    records = [record(EH, code, T) for code in categories]
    return check(ACTION, T, [EH], {"effects": evaluation(EH, records, T)})


# --- effect order and factors -----------------------------------------------------------


@pytest.mark.parametrize(
    ("stronger", "weaker"), list(itertools.combinations(EFFECTS_STRONGEST_FIRST, 2))
)
def test_stronger_effect_wins_pairwise(stronger: str, weaker: str) -> None:
    for order in ((stronger, weaker), (weaker, stronger)):
        decision = check_effects(*(f"c-{effect}" for effect in order))
        assert decision.effect == stronger
        assert sorted(r.effect for r in decision.reasons) == sorted(order)


def test_effect_order_is_deny_adjust_publish_priority_allow() -> None:
    assert EFFECTS_STRONGEST_FIRST == ("deny", "adjust", "publish", "priority", "allow")
    assert check_effects(*(f"c-{e}" for e in EFFECTS_STRONGEST_FIRST)).effect == "deny"


@pytest.mark.parametrize("effect", EFFECTS_STRONGEST_FIRST)
def test_a_single_measure_gives_its_effect(effect: str) -> None:
    assert check_effects(f"c-{effect}").effect == effect


def test_adjust_factor_is_the_product_of_all_adjust_factors() -> None:
    decision = check_effects("c-adjust", "c-adjust-2", "c-publish")
    assert decision.effect == "adjust"
    assert decision.factor == pytest.approx(0.45)
    assert check_effects("c-adjust").factor == pytest.approx(0.9)


def test_factor_is_none_when_the_effect_is_not_adjust() -> None:
    decision = check_effects("c-deny", "c-adjust", "c-adjust-2")
    assert (decision.effect, decision.factor) == ("deny", None)
    assert sorted(r.effect for r in decision.reasons) == ["adjust", "adjust", "deny"]
    assert check_effects("c-publish").factor is None


def test_combine_directly() -> None:
    def reason(effect: str, factor: float | None = None) -> Reason:
        return Reason(effect, factor, "list", "s", "a", "c", "r")

    assert combine("x", T, []).effect == "allow"
    adjusted = combine("x", T, [reason("adjust", 0.9), reason("allow"), reason("adjust", 0.5)])
    assert (adjusted.effect, adjusted.factor) == ("adjust", pytest.approx(0.45))
    assert combine("x", T, [reason("adjust", 0.9), reason("deny")]).factor is None


def test_no_measure_applies_allow_with_no_reasons() -> None:
    decision = check_effects("c-none")
    assert (decision.effect, decision.factor, decision.reasons) == ("allow", None, ())
    assert (decision.action, decision.at) == (ACTION, T)


def test_an_action_nobody_restricts_is_allowed() -> None:
    records = [record(EH, "c-deny", T)]
    decision = check("other.action", T, [EH], {"effects": evaluation(EH, records, T)})
    assert (decision.effect, decision.reasons) == ("allow", ())


def test_list_measures_stop_when_the_entry_ends() -> None:
    r = record(EH, "c-deny", T)
    end = at(2025, 3, 1, 12)  # T + P1Y
    assert (
        check(ACTION, end - US, [EH], {"effects": evaluation(EH, [r], end - US)}).effect == "deny"
    )
    assert check(ACTION, end, [EH], {"effects": evaluation(EH, [r], end)}).effect == "allow"


# --- grades -------------------------------------------------------------------------

CITY = scheme(
    """
score: {base: 100}
grades:
  - {name: A, min: 100}
  - {name: B, min: 50}
  - {name: C}
categories:
  - {code: ticket, title: Ticket, points: -10, severity: minor, validity: P1Y}
measures:
  - {on: {grades: [A]}, action: fee.heating, effect: adjust, factor: 0.9, context: utilities, rationale: r}
  - {on: {grades: [B, C]}, action: welfare.benefit, effect: deny, context: welfare, rationale: r}
""",
    id="city",
)
CH = history(CITY)


def test_grade_measure_applies_with_grade_scheme_and_records() -> None:
    r = record(CH, "ticket", T - timedelta(days=1))
    decision = check("welfare.benefit", T, [CH], {"city": evaluation(CH, [r], T)})
    assert decision.effect == "deny"
    (reason,) = decision.reasons
    assert (reason.source, reason.scheme, reason.authority, reason.grade, reason.list) == (
        "grade",
        "city",
        "city",
        "B",
        None,
    )
    assert (reason.records, reason.memorandum, reason.via) == ((r.id,), None, None)
    assert (reason.context, reason.rationale) == ("welfare", "r")


def test_grade_measure_does_not_apply_to_other_grades() -> None:
    ev = evaluation(CH, [], T, enrolled_at=T)  # grade A
    assert check("welfare.benefit", T, [CH], {"city": ev}).effect == "allow"
    assert check("fee.heating", T, [CH], {"city": ev}).effect == "adjust"


def test_grade_measures_are_ignored_for_a_scheme_the_subject_is_not_enrolled_in() -> None:
    # Base 100 would be grade A; without enrolment there is no grade at all.
    ev = evaluation(CH, [], T)
    assert ev.explanation.enrolled is False
    assert check("fee.heating", T, [CH], {"city": ev}).reasons == ()
    assert check("fee.heating", T, [CH], {}).reasons == ()


# --- memoranda and legal representatives -------------------------------------------------

COURTS = scheme(
    """
lists:
  - {id: defaulters, kind: black, duration: P2Y, reach: [legal_representative]}
  - {id: restricted, kind: black, duration: P2Y}
categories:
  - {code: refuse-pay, title: Refusing to pay, severity: serious, validity: P2Y, lists: [defaulters]}
  - {code: overspend, title: Breaking a spending restriction, severity: serious, validity: P2Y, lists: [restricted]}
measures:
  - {on: {list: defaulters}, action: property.purchase, effect: deny, context: market, rationale: r}
  - {on: {list: restricted}, action: hotel.star, effect: deny, context: travel, rationale: r}
""",
    id="courts",
    authority="spc",
)
KH = history(COURTS)
MEMO = memorandum(
    """
measures:
  - {authority: caac, action: travel.air.ticket, effect: deny, context: travel, rationale: r}
  - {authority: rail, action: travel.rail.highspeed, effect: adjust, factor: 0.5, context: travel, rationale: r}
""",
    id="ndrc-2016-141",
    known={"courts": COURTS},
)
BUSINESS = "cn-uscc:913710********0001"


def courts_eval(category: str, t=T, occurred=T):
    return {"courts": evaluation(KH, [record(KH, category, occurred, id="r1")], t)}


def test_memorandum_measure_applies_to_a_subject_on_the_list() -> None:
    decision = check("travel.air.ticket", T, [KH], courts_eval("refuse-pay"), [MEMO])
    assert decision.effect == "deny"
    (reason,) = decision.reasons
    assert (reason.source, reason.memorandum, reason.authority) == (
        "memorandum",
        "ndrc-2016-141",
        "caac",
    )
    assert (reason.scheme, reason.list, reason.list_kind, reason.records) == (
        "courts",
        "defaulters",
        "black",
        ("r1",),
    )
    assert (reason.since, reason.until, reason.grade) == (T, at(2026, 3, 1, 12), None)


def test_memorandum_measure_does_not_apply_to_a_subject_off_the_list() -> None:
    for evaluations in (courts_eval("overspend"), {}):
        decision = check("travel.air.ticket", T, [KH], evaluations, [MEMO])
        assert (decision.effect, decision.reasons) == ("allow", ())


def test_memorandum_measure_stops_when_the_list_entry_ends() -> None:
    end = at(2026, 3, 1, 12)
    before = check("travel.air.ticket", end - US, [KH], courts_eval("refuse-pay", end - US), [MEMO])
    after = check("travel.air.ticket", end, [KH], courts_eval("refuse-pay", end), [MEMO])
    assert (before.effect, after.effect, after.reasons) == ("deny", "allow", ())


def test_memorandum_adjust_factor() -> None:
    decision = check("travel.rail.highspeed", T, [KH], courts_eval("refuse-pay"), [MEMO])
    assert (decision.effect, decision.factor) == ("adjust", 0.5)


def _rep(evaluations, role="legal_representative"):
    return [Representation(role=role, represented=BUSINESS, evaluations=evaluations)]


def test_list_measure_reaches_the_legal_representative_via_a_reaching_list() -> None:
    decision = check(
        "property.purchase", T, [KH], {}, representations=_rep(courts_eval("refuse-pay"))
    )
    assert decision.effect == "deny"
    (reason,) = decision.reasons
    assert reason.via == f"legal_representative of {BUSINESS}"
    assert (reason.source, reason.scheme, reason.list, reason.records) == (
        "list",
        "courts",
        "defaulters",
        ("r1",),
    )


def test_memorandum_measure_on_a_reaching_list_also_reaches() -> None:
    decision = check("travel.air.ticket", T, [KH], {}, [MEMO], _rep(courts_eval("refuse-pay")))
    (reason,) = decision.reasons
    assert (decision.effect, reason.memorandum, reason.via) == (
        "deny",
        "ndrc-2016-141",
        f"legal_representative of {BUSINESS}",
    )


def test_list_without_reach_does_not_reach_the_representative() -> None:
    business = courts_eval("overspend")
    assert check("hotel.star", T, [KH], business).effect == "deny"  # the business itself
    decision = check("hotel.star", T, [KH], {}, representations=_rep(business))
    assert (decision.effect, decision.reasons) == ("allow", ())


def test_reach_is_only_for_the_declared_role() -> None:
    decision = check(
        "property.purchase", T, [KH], {}, representations=_rep(courts_eval("refuse-pay"), "owner")
    )
    assert decision.reasons == ()


def test_a_business_grade_measures_do_not_reach() -> None:
    business = {"city": evaluation(CH, [record(CH, "ticket", T)], T)}  # grade B
    assert check("welfare.benefit", T, [CH], business).effect == "deny"
    decision = check("welfare.benefit", T, [CH], {}, representations=_rep(business))
    assert (decision.effect, decision.reasons) == ("allow", ())


def test_own_and_represented_reasons_combine() -> None:
    own = courts_eval("refuse-pay")
    decision = check(
        "property.purchase", T, [KH], own, representations=_rep(courts_eval("refuse-pay"))
    )
    assert decision.effect == "deny"
    assert sorted((r.via or "") for r in decision.reasons) == [
        "",
        f"legal_representative of {BUSINESS}",
    ]


def test_reasons_and_factors_combine_across_schemes_and_memoranda() -> None:
    transport = history(
        scheme(
            """
score: {base: 10}
grades:
  - {name: A, min: 10}
  - {name: B}
measures:
  - {on: {grades: [A]}, action: travel.rail.highspeed, effect: adjust, factor: 0.9, context: travel, rationale: r}
""",
            id="transport",
        )
    )
    evaluations = {
        **courts_eval("refuse-pay"),
        "transport": evaluation(transport, [], T, enrolled_at=T),
    }
    decision = check("travel.rail.highspeed", T, [KH, transport], evaluations, [MEMO])
    assert (decision.effect, decision.factor) == ("adjust", pytest.approx(0.45))
    assert sorted(
        (r.scheme, r.source, r.grade, r.list, r.memorandum) for r in decision.reasons
    ) == [
        ("courts", "memorandum", None, "defaulters", "ndrc-2016-141"),
        ("transport", "grade", "A", None, None),
    ]


def _adjusting(sid: str, factor: float):
    return history(
        scheme(
            f"""
score: {{base: 1}}
grades:
  - {{name: A}}
measures:
  - {{on: {{grades: [A]}}, action: fee.heating, effect: adjust, factor: {factor}, context: utilities, rationale: r}}
""",
            id=sid,
        )
    )


def test_adjust_factor_does_not_depend_on_the_order_of_schemes() -> None:
    # 0.1 * 0.3 * 0.7 is 0.021 or 0.020999999999999998 depending on the order
    # of the multiplications; a decision must not depend on registry order.
    schemes = [_adjusting("s-a", 0.1), _adjusting("s-b", 0.3), _adjusting("s-c", 0.7)]
    evaluations = {h.id: evaluation(h, [], T, enrolled_at=T) for h in schemes}
    factors = {
        check("fee.heating", T, [schemes[i] for i in order], evaluations).factor
        for order in itertools.permutations(range(3))
    }
    assert len(factors) == 1
    assert factors.pop() == pytest.approx(0.021)
