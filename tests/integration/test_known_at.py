"""Answers never change after the fact (issue 15, item 2): an enrolment, a
rescoring and a link count for an answer at t only if they were known at t,
as a record counts only once reported. A backdated enrolment and a backdated
rescore change the answer now, and leave the answer at an earlier instant as
it was given then."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ledger_support import (
    at,
    businesses,
    line,
    numbered,
    open_system,
    people,
    scheme_file,
    shipped_system,
)

from socialcredit.bootstrap import Services
from socialcredit.entrypoints.views import score_view

VILLAGE_V1 = """\
- {code: litter, title: Littering, points: -5, severity: minor, validity: P5Y}
"""
VILLAGE_V2 = """\
- {code: litter, title: Littering, points: -20, severity: general, validity: P5Y}
"""
T0, T1, T2 = at(2025, 1, 10), at(2025, 3, 1), at(2025, 5, 1)


def _answer(system: Services, who: str, when: datetime) -> tuple[object, object, dict[str, int]]:
    subject, found = system.checks.scores(who, scheme="village", at=when, actor="cli")
    if not found:
        return None, None, {}
    view = score_view(found[0], subject.masked)
    return view["score"], view["grade"], {c["record"]: c["points"] for c in view["counted"]}


def test_a_backdated_enrolment_and_rescore_change_now_not_what_was_answered(tmp_path: Path) -> None:
    system = open_system(tmp_path / "ledger.db", now=T0)
    v1 = scheme_file(tmp_path, "village-v1.yaml", VILLAGE_V1)
    v2 = scheme_file(tmp_path, "village-v2.yaml", VILLAGE_V2)
    newcomer, litterer = people(2, seed=61)
    town = scheme_file(tmp_path, "town.yaml", VILLAGE_V1, id="town")
    system.definitions.add_files([v1, town])
    with system.clock.held_at(at(2025, 1, 20)):
        lines = [
            line("l1", litterer, "litter", at(2025, 1, 15), scheme="village"),
            line("n1", newcomer, "litter", at(2025, 1, 15), scheme="town"),  # held elsewhere
        ]
        assert system.imports.import_records(numbered(lines)).accepted == 2
        system.definitions.add_files([v2])

    # At T1, as answered then: the newcomer is not enrolled; the record counts -5.
    with system.clock.held_at(T1):
        newcomer_then = _answer(system, newcomer, T1)
        litterer_then = _answer(system, litterer, T1)
        decision_then = system.checks.check(litterer, "fee.heating", at=T1, actor="cli")
    assert newcomer_then == (None, None, {})
    assert litterer_then == (95, "fair", {"l1": -5})

    # At T2 the operator enrols the newcomer from T0 and rescores the village from T0.
    with system.clock.held_at(T2):
        system.subjects.enrol(newcomer, "village", at=T0, actor="cli")
        system.definitions.rescore("village", at=T0, actor="cli", reason="new tariff")
        # The answer at T1, asked again now, is the one given then ...
        assert _answer(system, newcomer, T1) == newcomer_then
        assert _answer(system, litterer, T1) == litterer_then
        again = system.checks.check(litterer, "fee.heating", at=T1, actor="cli")
        assert (again.decision.effect, again.decision.reasons) == (
            decision_then.decision.effect,
            decision_then.decision.reasons,
        )
        # ... and the answer now reflects both.
        assert _answer(system, newcomer, T2) == (100, "good", {})
        assert _answer(system, litterer, T2) == (80, "fair", {"l1": -20})
    system.close()


def test_a_backdated_link_changes_now_not_what_was_answered(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=T1)
    [person] = people(1, seed=62)
    [firm] = businesses(1, seed=63)
    lines = [line("d1", firm, "able-but-refusing", at(2025, 1, 5), scheme="spc-defaulters")]
    assert system.imports.import_records(numbered(lines)).accepted == 1
    system.subjects.enrol(person, "rongcheng-personal", at=T0, actor="cli")
    before = system.checks.check(person, "travel.air.ticket", at=T1, actor="cli").decision.effect
    with system.clock.held_at(T2):
        system.subjects.link(firm, person, since=at(2024, 1, 1), reporter="cli")
        asked_again = system.checks.check(person, "travel.air.ticket", at=T1, actor="cli")
        now = system.checks.check(person, "travel.air.ticket", at=T2, actor="cli")
    assert before == asked_again.decision.effect == "allow"
    assert now.decision.effect == "deny"
    system.close()
