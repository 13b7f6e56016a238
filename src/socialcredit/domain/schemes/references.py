"""Rules that relate one part of a definition to another.

Pydantic checks each field on its own; these checks need the whole document
(or, for memoranda, the schemes already known) and return every problem
rather than stopping at the first, so an author can fix a file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from socialcredit.domain.schemes.models import Bin, Factor, Memorandum, Scheme


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def scheme_problems(scheme: Scheme) -> list[Problem]:
    return [
        *_grade_problems(scheme),
        *_list_problems(scheme),
        *_category_problems(scheme),
        *_measure_problems(scheme),
        *_scorecard_problems(scheme),
    ]


def memorandum_problems(
    memo: Memorandum, known_schemes: Mapping[str, Scheme] | None
) -> list[Problem]:
    problems = list(_duplicates("signatories", [s.id for s in memo.signatories], "id"))
    signatories = {s.id for s in memo.signatories}
    for index, measure in enumerate(memo.measures):
        if measure.authority not in signatories:
            problems.append(
                Problem(
                    f"measures[{index}].authority",
                    f"{measure.authority!r} is not one of the signatories",
                )
            )
    if known_schemes is None:
        return problems
    scheme = known_schemes.get(memo.on.scheme)
    if scheme is None:
        problems.append(Problem("on.scheme", f"unknown scheme {memo.on.scheme!r}"))
    elif memo.on.list_id not in {lst.id for lst in scheme.lists}:
        problems.append(Problem("on.list", f"scheme {scheme.id!r} has no list {memo.on.list_id!r}"))
    return problems


def _duplicates(path: str, names: list[str], field: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            yield Problem(f"{path}[{index}].{field}", f"{name!r} is defined twice")
        seen.add(name)


def _grade_problems(scheme: Scheme) -> Iterator[Problem]:
    grades = scheme.grades
    if grades and scheme.score is None:
        yield Problem("grades", "grades need a 'score' section to grade")
    yield from _duplicates("grades", [g.name for g in grades], "name")
    previous: int | None = None
    for index, grade in enumerate(grades):
        last = index == len(grades) - 1
        if last and grade.min is not None:
            yield Problem(f"grades[{index}].min", "the last grade takes no min: it holds the rest")
        if not last and grade.min is None:
            yield Problem(f"grades[{index}].min", "every grade but the last needs a min")
        if grade.min is not None and previous is not None and grade.min >= previous:
            yield Problem(
                f"grades[{index}].min",
                f"{grade.min} is not below the band above ({previous}); list grades top-down",
            )
        previous = grade.min if grade.min is not None else previous


def _list_problems(scheme: Scheme) -> Iterator[Problem]:
    grade_names = {g.name for g in scheme.grades}
    yield from _duplicates("lists", [lst.id for lst in scheme.lists], "id")
    for index, lst in enumerate(scheme.lists):
        for position, grade in enumerate(lst.grades or ()):
            if grade not in grade_names:
                yield Problem(f"lists[{index}].grades[{position}]", f"unknown grade {grade!r}")
        if lst.grades is not None and lst.duration is not None:
            yield Problem(
                f"lists[{index}].duration",
                "a grade-based list holds while the grade holds and takes no duration",
            )
        if lst.grades is not None and lst.decided_by_person:
            yield Problem(
                f"lists[{index}].decided_by_person",
                "a grade-based list is entered by the score, so no person decides its entries",
            )


def _category_problems(scheme: Scheme) -> Iterator[Problem]:
    grade_names = {g.name for g in scheme.grades}
    record_lists = {lst.id for lst in scheme.lists if lst.grades is None}
    grade_lists = {lst.id for lst in scheme.lists if lst.grades is not None}
    yield from _duplicates("categories", [c.code for c in scheme.categories], "code")
    for index, category in enumerate(scheme.categories):
        if category.grade_cap is not None and category.grade_cap not in grade_names:
            yield Problem(f"categories[{index}].grade_cap", f"unknown grade {category.grade_cap!r}")
        for position, list_id in enumerate(category.lists):
            path = f"categories[{index}].lists[{position}]"
            if list_id in grade_lists:
                yield Problem(path, f"list {list_id!r} is entered by grade, not by records")
            elif list_id not in record_lists:
                yield Problem(path, f"unknown list {list_id!r}")


def _measure_problems(scheme: Scheme) -> Iterator[Problem]:
    grade_names = {g.name for g in scheme.grades}
    list_ids = {lst.id for lst in scheme.lists}
    for index, measure in enumerate(scheme.measures):
        target = measure.on
        for position, grade in enumerate(target.grades or ()):
            if grade not in grade_names:
                yield Problem(
                    f"measures[{index}].on.grades[{position}]", f"unknown grade {grade!r}"
                )
        if target.list_id is not None and target.list_id not in list_ids:
            yield Problem(f"measures[{index}].on.list", f"unknown list {target.list_id!r}")


def _scorecard_problems(scheme: Scheme) -> Iterator[Problem]:
    card = scheme.scorecard
    if card is None:
        return
    rule = scheme.score
    if rule is None or rule.min is None or rule.max is None:
        yield Problem(
            "score" if rule is not None else "scorecard",
            "a scorecard scheme needs a 'score' section with base, min and max: "
            "the range its points are scaled into",
        )
    codes = {c.code for c in scheme.categories}
    summed: set[str] = set()
    yield from _duplicates("scorecard.dimensions", [d.id for d in card.dimensions], "id")
    seen: set[str] = set()
    for d, dimension in enumerate(card.dimensions):
        for f, factor in enumerate(dimension.factors):
            path = f"scorecard.dimensions[{d}].factors[{f}]"
            if factor.id in seen:  # factor ids are the columns of fitting data: unique overall
                yield Problem(f"{path}.id", f"{factor.id!r} is defined twice in the scorecard")
            seen.add(factor.id)
            if factor.sum is not None:
                summed.update(factor.sum)
            yield from _factor_code_problems(path, factor, codes)
            yield from _bin_problems(path, factor.bins)
    for index, category in enumerate(scheme.categories):
        if category.points and category.code not in summed:
            yield Problem(
                f"categories[{index}].points",
                f"in a scorecard scheme record points are read only by 'sum' factors; "
                f"{category.code!r} has {category.points} points and no 'sum' factor reads it",
            )


def _factor_code_problems(path: str, factor: Factor, codes: set[str]) -> Iterator[Problem]:
    if factor.ratio is not None:
        named = [(f"ratio.numerator[{i}]", c) for i, c in enumerate(factor.ratio.numerator)]
        named += [(f"ratio.denominator[{i}]", c) for i, c in enumerate(factor.ratio.denominator)]
    else:
        named = [(f"{factor.measure}[{i}]", c) for i, c in enumerate(factor.codes)]
    for where, code in named:
        if code not in codes:
            yield Problem(f"{path}.{where}", f"unknown category {code!r}")


def _bin_problems(path: str, bins: tuple[Bin, ...]) -> Iterator[Problem]:
    previous: float | None = None
    for index, found in enumerate(bins):
        last = index == len(bins) - 1
        where = f"{path}.bins[{index}].below"
        if last and found.below is not None:
            yield Problem(where, "the last bin takes no below: it holds the rest")
        if not last and found.below is None:
            yield Problem(where, "every bin but the last needs a below")
        if found.below is not None and previous is not None and found.below <= previous:
            yield Problem(
                where,
                f"{found.below:g} is not above the bin before ({previous:g}); "
                "list bins in increasing order",
            )
        previous = found.below if found.below is not None else previous
