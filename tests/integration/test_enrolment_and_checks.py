"""An enrolled subject without records still has a grade, and a grade (or a list
held by grade) can bear on a check; a list entered only by records cannot."""

from __future__ import annotations

from pathlib import Path

from ledger_support import people, scheme_file, shipped_system


def test_a_list_held_by_grade_reaches_an_enrolled_subject_without_records(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    path = scheme_file(
        tmp_path,
        "village.yaml",
        """\
        - {code: help, title: Help, points: 1, severity: minor, validity: P1Y}
    """,
    )
    text = path.read_text() + (
        "lists:\n  - {id: good-standing, kind: red, grades: [good]}\n"
        "measures:\n  - {on: {list: good-standing}, action: fee.water, effect: adjust, factor: 0.8,"
        " context: civic, rationale: Residents in good standing pay less for water.}\n"
    )
    path.write_text(text)
    system.definitions.add_files([path])
    [resident] = people(1, seed=97)
    system.subjects.enrol(resident, "village", actor="cli")

    decision = system.checks.check(resident, "fee.water", actor="cli").decision

    assert (decision.effect, decision.factor) == ("adjust", 0.8)
    assert decision.reasons[0].list == "good-standing"


def test_a_checks_inputs_are_worked_out_once_per_registry_as_the_index_gives_them(
    tmp_path: Path,
) -> None:
    registry = shipped_system(tmp_path / "ledger.db").definitions.registry
    found = {action: registry.check_inputs(action) for action in registry.index.actions}
    for action, (relevant, grades) in found.items():
        assert relevant == registry.index.schemes_for(action) and relevant
        assert grades == registry.grades_matter(action)
    assert {grades for _, grades in found.values()} == {True, False}  # both kinds are shipped
    assert registry.check_inputs("no.such.action") == (frozenset(), False)
