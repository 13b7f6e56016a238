"""The compiled schemes as small tables the plan joins against: one row per
scheme, version, category rule, list target, grade, grade list and
rescoring. What the per-subject engine reads from ``SchemeHistory`` objects,
the plan reads from these rows, so both follow the same definitions.

A scheme the plan cannot evaluate exactly is left out, with the reason
(``skipped``), rather than evaluated differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from socialcredit.domain.schemes.compiled import SchemeHistory

Rows = dict[str, list[Any]]  # a table as columns of values

# Column names and types of each definition table, in the order written.
DEFINITION_COLUMNS: dict[str, dict[str, str]] = {
    "d_scheme": {
        "scheme": "VARCHAR",
        "current_version": "BIGINT",
        "scored": "BOOLEAN",
        "base": "BIGINT",
        "score_min": "BIGINT",
        "score_max": "BIGINT",
        "monthly": "BOOLEAN",
        "needs_consent": "BOOLEAN",
        "scorecard": "BOOLEAN",
    },
    "d_version": {"scheme": "VARCHAR", "version": "BIGINT"},
    "d_rule": {
        "scheme": "VARCHAR",
        "version": "BIGINT",
        "category": "VARCHAR",
        "limit_count": "BIGINT",
        "limit_per": "VARCHAR",
        "cap_rank": "BIGINT",
        "cap_grade": "VARCHAR",
    },
    "d_target": {
        "scheme": "VARCHAR",
        "version": "BIGINT",
        "category": "VARCHAR",
        "list_id": "VARCHAR",
        "has_duration": "BOOLEAN",
        "months": "BIGINT",
        "seconds": "BIGINT",
    },
    "d_list": {"scheme": "VARCHAR", "list_id": "VARCHAR", "kind": "VARCHAR"},
    "d_grade": {
        "scheme": "VARCHAR",
        "grade": "VARCHAR",
        "grade_rank": "BIGINT",
        "grade_min": "BIGINT",
    },
    "d_grade_list": {"scheme": "VARCHAR", "list_id": "VARCHAR", "grade": "VARCHAR"},
    "d_rescore": {
        "scheme": "VARCHAR",
        "target": "BIGINT",
        "from_at": "TIMESTAMP",
        "to_at": "TIMESTAMP",
    },
    # A scorecard's factors (its current version's), each with the categories it
    # reads and its bins in order.
    "d_factor": {
        "scheme": "VARCHAR",
        "factor_n": "BIGINT",
        "measure": "VARCHAR",
        "has_window": "BOOLEAN",
        "window_months": "BIGINT",
        "window_seconds": "BIGINT",
        "missing": "BIGINT",
    },
    "d_factor_code": {
        "scheme": "VARCHAR",
        "factor_n": "BIGINT",
        "category": "VARCHAR",
        "numerator": "BOOLEAN",
        "denominator": "BOOLEAN",
    },
    "d_bin": {
        "scheme": "VARCHAR",
        "factor_n": "BIGINT",
        "bin_n": "BIGINT",
        "below": "DOUBLE",
        "points": "BIGINT",
    },
    "d_repoints": {
        "scheme": "VARCHAR",
        "version": "BIGINT",
        "category": "VARCHAR",
        "points": "BIGINT",
    },
}


@dataclass
class DefinitionTables:
    tables: dict[str, Rows] = field(
        default_factory=lambda: {
            name: {column: [] for column in columns} for name, columns in DEFINITION_COLUMNS.items()
        }
    )
    schemes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # scheme -> why the plan leaves it out

    def add(self, table: str, **values: Any) -> None:
        for column, found in self.tables[table].items():
            found.append(values[column])


def definition_tables(
    histories: Mapping[str, SchemeHistory], only: set[str] | None = None
) -> DefinitionTables:
    """The definition tables of every scheme in ``histories`` (of ``only``, if
    given) that the plan evaluates exactly; the others in ``skipped``."""
    found = DefinitionTables()
    for scheme_id in sorted(histories):
        if only is not None and scheme_id not in only:
            continue
        history = histories[scheme_id]
        why = unsupported(history)
        if why is not None:
            found.skipped[scheme_id] = why
            continue
        found.schemes.append(scheme_id)
        _add_scheme(found, history)
    return found


def unsupported(history: SchemeHistory) -> str | None:
    """Why the plan cannot evaluate ``history`` exactly, if it cannot."""
    current = history.current
    if current.scorecard is not None and any(
        definition.grades for definition in current.lists.values()
    ):
        # Such a list's start needs the instants a factor can change at (a record
        # leaving a window, an age crossing a bin's edge), which the plan does not list.
        return "a scorecard scheme with a list held by grade: not in the batch plan yet"
    limits: dict[str, set[tuple[int, str] | None]] = {}
    for rules in history.rules.values():
        for code, rule in rules.items():
            limit = (rule.limit.count, rule.limit.per) if rule.limit is not None else None
            limits.setdefault(code, set()).add(limit)
    for code, found in sorted(limits.items()):
        if len(found - {None}) > 1:
            # The per-subject engine then counts record by record, each against
            # its own version's limit, in slots a day and a week can share; a
            # window over one period cannot.
            return f"its versions give category {code!r} different limits"
    return None


def _add_scheme(found: DefinitionTables, history: SchemeHistory) -> None:
    current = history.current
    scheme_id, score = current.id, current.definition.score
    found.add(
        "d_scheme",
        scheme=scheme_id,
        current_version=current.version,
        scored=score is not None,
        base=score.base if score else None,
        score_min=score.min if score else None,
        score_max=score.max if score else None,
        monthly=current.monthly,
        needs_consent=current.needs_consent,
        scorecard=current.scorecard is not None,
    )
    for version, rules in sorted(history.rules.items()):
        found.add("d_version", scheme=scheme_id, version=version)
        for code, rule in sorted(rules.items()):
            cap = rule.category.grade_cap
            found.add(
                "d_rule",
                scheme=scheme_id,
                version=version,
                category=code,
                limit_count=rule.limit.count if rule.limit else None,
                limit_per=rule.limit.per if rule.limit else None,
                cap_rank=current.grade_rank.get(cap) if cap is not None else None,
                cap_grade=cap if cap is not None and cap in current.grade_rank else None,
            )
            for target in rule.lists:
                duration = target.duration
                found.add(
                    "d_target",
                    scheme=scheme_id,
                    version=version,
                    category=code,
                    list_id=target.list,
                    has_duration=duration is not None,
                    months=duration.months if duration else 0,
                    seconds=int(duration.span.total_seconds()) if duration else 0,
                )
    _add_grades_and_lists(found, history)
    _add_rescorings(found, history)
    _add_scorecard(found, history)


def _add_scorecard(found: DefinitionTables, history: SchemeHistory) -> None:
    card = history.current.scorecard
    for n, item in enumerate(card.factors if card is not None else ()):
        factor, window = item.factor, item.factor.window
        found.add(
            "d_factor",
            scheme=history.id,
            factor_n=n,
            measure=factor.measure,
            has_window=window is not None,
            window_months=window.months if window else 0,
            window_seconds=int(window.span.total_seconds()) if window else 0,
            missing=factor.missing,
        )
        for code in sorted(item.codes):
            found.add(
                "d_factor_code",
                scheme=history.id,
                factor_n=n,
                category=code,
                numerator=code in item.numerator,
                denominator=code in item.denominator,
            )
        for bin_n, found_bin in enumerate(factor.bins):
            found.add(
                "d_bin",
                scheme=history.id,
                factor_n=n,
                bin_n=bin_n,
                below=found_bin.below,
                points=found_bin.points,
            )


def _add_grades_and_lists(found: DefinitionTables, history: SchemeHistory) -> None:
    current = history.current
    for rank, (grade, minimum) in enumerate(current.bands):
        found.add("d_grade", scheme=current.id, grade=grade, grade_rank=rank, grade_min=minimum)
    for list_id, definition in sorted(current.lists.items()):
        found.add("d_list", scheme=current.id, list_id=list_id, kind=definition.kind)
        for grade in sorted(set(definition.grades or ())):  # a grade named twice holds once
            found.add("d_grade_list", scheme=current.id, list_id=list_id, grade=grade)


def _add_rescorings(found: DefinitionTables, history: SchemeHistory) -> None:
    """Each rescoring as the interval in which its version is the target
    (``SchemeHistory.points``: the last rescoring at or before t), and the
    points of each category of each target version."""
    ordered = list(history.rescorings)
    for index, (at, version) in enumerate(ordered):
        until: datetime | None = ordered[index + 1][0] if index + 1 < len(ordered) else None
        found.add("d_rescore", scheme=history.id, target=version, from_at=at, to_at=until)
    for version in sorted({version for _, version in ordered}):
        compiled = history.versions.get(version)
        for code, category in sorted((compiled.categories if compiled else {}).items()):
            found.add(
                "d_repoints",
                scheme=history.id,
                version=version,
                category=code,
                points=category.points,
            )


__all__ = ["DEFINITION_COLUMNS", "DefinitionTables", "Rows", "definition_tables", "unsupported"]
