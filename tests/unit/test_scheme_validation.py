"""The scheme language: every error names the file, the path and the rule (DESIGN.md §3b)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from conftest import at, explain, history, record, scheme
from socialcredit.adapters.files.definitions import load_definition
from socialcredit.domain.schemes.loader import parse_definition
from socialcredit.domain.schemes.models import Memorandum, Scheme
from socialcredit.errors import DefinitionError

HEADER = """\
type: scheme
id: civic
title: Civic points
authority: {id: city, name: City}
context: civic
lawful_basis: public_task
subjects: [person]
retention: P5Y
"""

BODY = """\
score: {base: 100, min: 0}
grades:
  - {name: A, min: 100}
  - {name: B, min: 50}
  - {name: C}
lists:
  - {id: defaulters, kind: black, duration: P2Y}
  - {id: models, kind: red, grades: [A]}
categories:
  - {code: ticket, title: Ticket, points: -5, severity: minor, validity: P1Y}
  - {code: heroic, title: Heroic act, points: 30, severity: minor, validity: P1Y}
  - {code: litter, title: Littering, points: -2, severity: minor, validity: P6M}
  - {code: default, title: Default, points: -20, severity: serious, validity: P2Y, lists: [defaulters]}
measures:
  - {on: {grades: [A]}, action: fee.heating, effect: adjust, factor: 0.9, context: utilities, rationale: r}
  - {on: {list: defaulters}, action: travel.air.ticket, effect: deny, context: travel, rationale: r}
"""

MEMO = """\
type: memorandum
id: joint
title: Joint punishment
signatories: [{id: caac, name: Civil Aviation}]
on: {scheme: civic, list: defaulters}
measures:
  - {authority: caac, action: travel.air.ticket, effect: deny, context: travel, rationale: r}
"""


def errors(text: str, source: str = "x.yaml", known=None) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, source, known)
    lines = str(caught.value).splitlines()
    assert lines == [f"{source}: {problem}" for problem in caught.value.problems]
    assert all(line.startswith(f"{source}: ") for line in lines)
    return lines


def edited(old: str, new: str, body: str = BODY) -> str:
    assert old in body, old
    return HEADER + body.replace(old, new, 1)


def known() -> dict[str, Scheme]:
    definition = parse_definition(HEADER + BODY, "civic.yaml").definition
    assert isinstance(definition, Scheme)
    return {"civic": definition}


def test_the_reference_files_are_valid() -> None:
    loaded = parse_definition(HEADER + BODY, "x.yaml")
    assert isinstance(loaded.definition, Scheme)
    assert loaded.source == "x.yaml"
    assert len(loaded.digest) == 64
    assert isinstance(parse_definition(MEMO, "m.yaml", known()).definition, Memorandum)


def test_bad_duration_names_file_path_and_rule() -> None:
    text = edited("validity: P2Y, lists", "validity: P5, lists")
    assert errors(text) == ["x.yaml: categories[3].validity: 'P5' is not an ISO-8601 duration"]


def test_bad_list_duration() -> None:
    text = edited("duration: P2Y", "duration: two years")
    assert errors(text) == ["x.yaml: lists[0].duration: 'two years' is not an ISO-8601 duration"]


def test_unknown_list_in_a_category() -> None:
    text = edited("lists: [defaulters]}", "lists: [debtors]}")
    assert errors(text) == ["x.yaml: categories[3].lists[0]: unknown list 'debtors'"]


def test_category_cannot_enter_a_grade_based_list() -> None:
    text = edited("lists: [defaulters]}", "lists: [defaulters, models]}")
    assert errors(text) == [
        "x.yaml: categories[3].lists[1]: list 'models' is entered by grade, not by records"
    ]


def test_unknown_grade_in_grade_cap() -> None:
    text = edited("validity: P6M}", "validity: P6M, grade_cap: Z}")
    assert errors(text) == ["x.yaml: categories[2].grade_cap: unknown grade 'Z'"]


def test_measure_on_a_grade_that_does_not_exist() -> None:
    text = edited("on: {grades: [A]}", "on: {grades: [A, AAA]}")
    assert errors(text) == ["x.yaml: measures[0].on.grades[1]: unknown grade 'AAA'"]


def test_measure_on_a_list_that_does_not_exist() -> None:
    text = edited("on: {list: defaulters}", "on: {list: debtors}")
    assert errors(text) == ["x.yaml: measures[1].on.list: unknown list 'debtors'"]


def test_measure_needs_exactly_one_target() -> None:
    text = edited("on: {list: defaulters}", "on: {list: defaulters, grades: [A]}")
    assert errors(text) == ["x.yaml: measures[1].on: give exactly one of 'grades' or 'list'"]


def test_list_grade_that_does_not_exist() -> None:
    text = edited("grades: [A]}", "grades: [S]}")
    assert errors(text) == ["x.yaml: lists[1].grades[0]: unknown grade 'S'"]


def test_memorandum_on_a_scheme_that_does_not_exist() -> None:
    text = MEMO.replace("scheme: civic", "scheme: nowhere")
    assert errors(text, "m.yaml", known()) == ["m.yaml: on.scheme: unknown scheme 'nowhere'"]


def test_memorandum_on_a_list_that_does_not_exist() -> None:
    text = MEMO.replace("list: defaulters", "list: debtors")
    assert errors(text, "m.yaml", known()) == [
        "m.yaml: on.list: scheme 'civic' has no list 'debtors'"
    ]


def test_memorandum_measure_by_a_non_signatory() -> None:
    text = MEMO.replace("{authority: caac", "{authority: police")
    assert errors(text, "m.yaml", known()) == [
        "m.yaml: measures[0].authority: 'police' is not one of the signatories"
    ]


def test_grades_must_be_top_down() -> None:
    text = edited("{name: B, min: 50}", "{name: B, min: 120}")
    assert errors(text) == [
        "x.yaml: grades[1].min: 120 is not below the band above (100); list grades top-down"
    ]


def test_equal_grade_minimums_are_not_top_down() -> None:
    text = edited("{name: B, min: 50}", "{name: B, min: 100}")
    assert errors(text) == [
        "x.yaml: grades[1].min: 100 is not below the band above (100); list grades top-down"
    ]


def test_last_grade_takes_no_min() -> None:
    text = edited("{name: C}", "{name: C, min: 0}")
    assert errors(text) == ["x.yaml: grades[2].min: the last grade takes no min: it holds the rest"]


def test_every_grade_but_the_last_needs_a_min() -> None:
    text = edited("{name: B, min: 50}", "{name: B}")
    assert errors(text) == ["x.yaml: grades[1].min: every grade but the last needs a min"]


def test_adjust_without_factor() -> None:
    text = edited("effect: adjust, factor: 0.9,", "effect: adjust,")
    assert errors(text) == ["x.yaml: measures[0]: an 'adjust' measure needs a factor"]


def test_factor_without_adjust() -> None:
    text = edited("effect: deny,", "effect: deny, factor: 0.5,")
    assert errors(text) == ["x.yaml: measures[1]: only an 'adjust' measure takes a factor"]


def test_factor_must_not_be_negative() -> None:
    assert errors(edited("factor: 0.9", "factor: -0.5")) == [
        "x.yaml: measures[0].factor: -0.5: Input should be greater than or equal to 0"
    ]


def test_factor_zero_is_a_waiver_and_loads() -> None:
    definition = parse_definition(edited("factor: 0.9", "factor: 0"), "x.yaml").definition
    assert isinstance(definition, Scheme)
    assert definition.measures[0].factor == 0


def test_unknown_field() -> None:
    text = edited("severity: minor, validity: P6M}", "severity: minor, validity: P6M, colour: red}")
    assert errors(text) == ["x.yaml: categories[2].colour: is not a field of the scheme language"]


def test_unknown_top_level_field() -> None:
    assert errors(HEADER + BODY + "owner: me\n") == [
        "x.yaml: owner: is not a field of the scheme language"
    ]


def test_missing_field() -> None:
    assert errors(HEADER.replace("title: Civic points\n", "") + BODY) == [
        "x.yaml: title: is required"
    ]


def test_bad_enumerated_value_names_the_value() -> None:
    (line,) = errors(edited("severity: serious", "severity: grave"))
    assert line.startswith("x.yaml: categories[3].severity: 'grave': ")


def test_unknown_definition_type() -> None:
    assert errors(HEADER.replace("type: scheme", "type: policy") + BODY) == [
        "x.yaml: type: 'policy' is not a definition type (scheme or memorandum)"
    ]


def test_duplicate_category_code() -> None:
    text = edited("{code: heroic", "{code: ticket")
    assert errors(text) == ["x.yaml: categories[1].code: 'ticket' is defined twice"]


def test_duplicate_list_id() -> None:
    text = edited("{id: models, kind: red", "{id: defaulters, kind: red")
    assert "x.yaml: lists[1].id: 'defaulters' is defined twice" in errors(text)


def test_on_is_read_as_a_key_not_a_boolean() -> None:
    definition = parse_definition(HEADER + BODY, "x.yaml").definition
    assert isinstance(definition, Scheme)
    assert definition.measures[0].on.grades == ("A",)
    assert definition.measures[1].on.list_id == "defaulters"
    memo = parse_definition(MEMO, "m.yaml", known()).definition
    assert isinstance(memo, Memorandum)
    assert (memo.on.scheme, memo.on.list_id) == ("civic", "defaulters")


def test_yes_and_no_stay_text() -> None:
    definition = parse_definition(
        HEADER.replace("title: Civic points", "title: no") + BODY, "x.yaml"
    ).definition
    assert definition.title == "no"


def test_several_problems_in_one_pass_structural() -> None:
    text = edited("validity: P1Y}", "validity: P5}")
    text = text.replace("validity: P6M}", "validity: 6 months, colour: red}")
    assert errors(text) == [
        "x.yaml: categories[0].validity: 'P5' is not an ISO-8601 duration",
        "x.yaml: categories[2].validity: '6 months' is not an ISO-8601 duration",
        "x.yaml: categories[2].colour: is not a field of the scheme language",
    ]


def test_several_problems_in_one_pass_references() -> None:
    text = edited("{name: C}", "{name: C, min: 0}")
    text = text.replace("lists: [defaulters]}", "lists: [debtors], grade_cap: Z}")
    text = text.replace("{code: heroic", "{code: ticket")
    text = text.replace("on: {grades: [A]}", "on: {grades: [S]}")
    assert errors(text) == [
        "x.yaml: grades[2].min: the last grade takes no min: it holds the rest",
        "x.yaml: categories[1].code: 'ticket' is defined twice",
        "x.yaml: categories[3].grade_cap: unknown grade 'Z'",
        "x.yaml: categories[3].lists[0]: unknown list 'debtors'",
        "x.yaml: measures[0].on.grades[0]: unknown grade 'S'",
    ]


def test_invalid_yaml_reports_a_line() -> None:
    text = HEADER + "score: {base: 100\ncategories: []\n"
    (line,) = errors(text)
    assert line.startswith("x.yaml: line 10, column ")
    assert "invalid YAML" in line


def test_bad_indentation_reports_its_line() -> None:
    text = HEADER + "score:\n  base: 100\n    min: 0\n"
    (line,) = errors(text)
    assert line.startswith("x.yaml: line 11, column ")


def test_a_file_with_two_documents_is_refused() -> None:
    assert errors(HEADER + BODY + "---\n" + MEMO) == [
        "x.yaml: must hold exactly one YAML document, found 2"
    ]


def test_an_empty_file_is_refused() -> None:
    assert errors("") == ["x.yaml: must hold exactly one YAML document, found 0"]


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert errors("- type: scheme\n") == ["x.yaml: must be a mapping with a 'type' field"]


def test_errors_from_a_file_name_its_path(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(edited("validity: P6M}", "validity: P5}"), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    assert str(caught.value) == f"{path}: categories[2].validity: 'P5' is not an ISO-8601 duration"


def test_a_missing_file_is_reported() -> None:
    with pytest.raises(DefinitionError, match=r"nowhere\.yaml: cannot read"):
        load_definition("/nonexistent/nowhere.yaml")


def test_thousands_of_categories_load_and_score() -> None:
    count = 5000
    lines = [
        f"  - {{code: c{i:04d}, title: Behaviour {i}, points: {(i % 7) - 3}, severity: minor, "
        f"validity: P{1 + i % 3}Y{', limit: {count: 1, per: day}' if i % 5 == 0 else ''}}}"
        for i in range(count)
    ]
    body = "score: {base: 1000}\ngrades:\n  - {name: A, min: 1000}\n  - {name: B}\ncategories:\n"
    started = time.perf_counter()
    big = scheme(body + "\n".join(lines) + "\n", id="big")
    h = history(big)
    assert len(h.current.categories) == count
    t0 = at(2024, 1, 1)
    records = [
        record(h, f"c{i % count:04d}", t0 + timedelta(minutes=i), id=f"r{i:05d}")
        for i in range(0, 3 * count, 3)
    ]
    e = explain(h, records, at(2024, 6, 1))
    assert len(e.counted) + len(e.excluded) == len(records)
    assert e.score == 1000 + sum(r.points for r in records)
    assert time.perf_counter() - started < 10


def test_no_person_decides_the_entries_of_a_grade_based_list() -> None:
    text = edited(
        "{id: models, kind: red, grades: [A]}",
        "{id: models, kind: red, grades: [A], decided_by_person: true}",
    )
    assert errors(text) == [
        "x.yaml: lists[1].decided_by_person: a grade-based list is entered by the score, "
        "so no person decides its entries"
    ]


def test_data_category_keys_are_dotted_lower_case_words() -> None:
    text = edited(
        "severity: minor, validity: P6M}",
        "severity: minor, validity: P6M, data_categories: ['User.Health ']}",
    )
    [line] = errors(text)
    assert line.startswith(
        "x.yaml: categories[2].data_categories[0]: 'User.Health ' is not a valid data category"
    )


def test_repair_waits_name_a_severity_and_a_duration() -> None:
    text = HEADER + BODY + "repair: {after: {grave: P1Y}}\n"
    [line] = errors(text)
    assert line == "x.yaml: repair.after: 'grave' is not minor, general or serious"
    waits = parse_definition(
        HEADER + BODY + "repair: {after: {serious: P2Y, general: P6M}}\n", "x.yaml"
    )
    definition = waits.definition
    assert isinstance(definition, Scheme) and definition.repair is not None
    assert [(s, d.text) for s, d in definition.repair.after] == [
        ("general", "P6M"),
        ("serious", "P2Y"),
    ]
    assert hash(definition)  # a scheme with repair waits stays hashable
