"""Schemes compiled into the lookup tables the scoring hot path needs.

The pydantic models are the source of truth; this module only reshapes them
(dicts keyed by code, grade ranks, measures keyed by action) so that scoring a
subject is a handful of dict lookups rather than scans of thousands of
categories.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from socialcredit.domain.schemes.durations import Duration
from socialcredit.domain.schemes.models import (
    Category,
    Limit,
    ListDefinition,
    Measure,
    Memorandum,
    MemorandumMeasure,
    Scheme,
)
from socialcredit.domain.schemes.scorecard import CompiledScorecard, compile_scorecard


@dataclass(frozen=True, slots=True)
class CompiledScheme:
    definition: Scheme
    version: int
    categories: Mapping[str, Category]
    bands: tuple[tuple[str, int | None], ...]
    grade_rank: Mapping[str, int]  # 0 is the top grade; a higher rank is a lower grade
    lists: Mapping[str, ListDefinition]
    scorecard: CompiledScorecard | None = None  # a scorecard scheme's factors, ready to compute
    # Read on every evaluation, so worked out once: does counting need consent,
    # and is the scheme recomputed monthly?
    needs_consent: bool = False
    monthly: bool = False

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def scored(self) -> bool:
        return self.definition.score is not None

    def grade_for(self, score: int) -> str | None:
        for name, minimum in self.bands:
            if minimum is None or score >= minimum:
                return name
        return None


def compile_scheme(scheme: Scheme, version: int) -> CompiledScheme:
    return CompiledScheme(
        definition=scheme,
        version=version,
        categories={c.code: c for c in scheme.categories},
        bands=tuple((g.name, g.min) for g in scheme.grades),
        grade_rank={g.name: rank for rank, g in enumerate(scheme.grades)},
        lists={lst.id: lst for lst in scheme.lists},
        scorecard=compile_scorecard(scheme.scorecard) if scheme.scorecard is not None else None,
        needs_consent=scheme.lawful_basis == "consent",
        monthly=scheme.recompute == "monthly",
    )


class ListTarget(NamedTuple):
    """A list of the current version that a category's records put their subject
    on (one whose entries records cause, not grades), and for how long."""

    list: str
    duration: Duration | None  # None: for as long as the record is valid


class RecordRule(NamedTuple):
    """What scoring reads of a record's category, looked up once per (version,
    code) when the history is built rather than on every record of every score
    (the C evaluator reads these tuples too)."""

    category: Category
    limit: Limit | None
    lists: tuple[ListTarget, ...]


def _record_rules(
    categories: Mapping[str, Category], lists: Mapping[str, ListDefinition]
) -> dict[str, RecordRule]:
    rules = {}
    for code, category in categories.items():
        targets = []
        for list_id in category.lists:
            definition = lists.get(list_id)
            if definition is not None and definition.grades is None:
                targets.append(ListTarget(list_id, definition.duration))
        rules[code] = RecordRule(category, category.limit, tuple(targets))
    return rules


@dataclass(frozen=True, slots=True)
class SchemeHistory:
    """Every version of one scheme. Records keep the category rules of the
    version they were reported under; grades, lists and measures come from
    the current (latest) version."""

    versions: Mapping[int, CompiledScheme]
    # (time, version): from that time on, records reported under an older
    # version take their points from this one. Rescoring is explicit and
    # logged; without it records keep the points they were reported with.
    rescorings: tuple[tuple[datetime, int], ...] = ()
    current: CompiledScheme = field(init=False)
    # Each version's categories as RecordRules, lists taken from the current
    # version (records keep their version's rules; lists are the current one's).
    rules: Mapping[int, Mapping[str, RecordRule]] = field(init=False)
    current_rules: Mapping[str, RecordRule] = field(init=False)

    def __post_init__(self) -> None:
        if not self.versions:
            raise ValueError("a scheme history needs at least one version")
        latest = max(self.versions)
        current = self.versions[latest]
        object.__setattr__(self, "current", current)
        object.__setattr__(self, "rescorings", tuple(sorted(self.rescorings)))
        rules = {
            number: _record_rules(compiled.categories, current.lists)
            for number, compiled in self.versions.items()
        }
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "current_rules", rules[latest])

    def points(self, record_version: int, code: str, recorded: int, t: datetime) -> int:
        """The points a record counts for at ``t``: its own, unless a rescoring
        in force at ``t`` moved it to a later version that still has its category."""
        target = None
        for at, version in self.rescorings:
            if at > t:
                break
            target = version
        if target is None or target <= record_version:
            return recorded
        category = self.versions[target].categories.get(code)
        return category.points if category is not None else recorded

    @property
    def id(self) -> str:
        return self.current.id

    def category(self, version: int, code: str) -> Category | None:
        rule = self.rule(version, code)
        return rule.category if rule is not None else None

    def rule(self, version: int, code: str) -> RecordRule | None:
        """The rule of a record reported under ``version`` (the current version's
        for a version no longer known) in category ``code``, if it has one."""
        return self.rules.get(version, self.current_rules).get(code)

    @classmethod
    def of(
        cls,
        definitions: Iterable[tuple[int, Scheme]],
        rescorings: Iterable[tuple[datetime, int]] = (),
    ) -> SchemeHistory:
        compiled = {number: compile_scheme(scheme, number) for number, scheme in definitions}
        return cls(compiled, tuple(rescorings))


def list_end(definition: ListDefinition, occurred_at: datetime, expires_at: datetime) -> datetime:
    """When a record-triggered list entry ends: the list's duration, else the record's validity."""
    duration: Duration | None = definition.duration
    return duration.after(occurred_at) if duration is not None else expires_at


@dataclass(frozen=True, slots=True)
class MeasureSource:
    """One measure on one action, with where it comes from."""

    action: str
    effect: str
    factor: float | None
    context: str
    rationale: str
    scheme: str
    authority: str
    grades: frozenset[str] | None = None
    list: str | None = None
    memorandum: str | None = None


@dataclass(frozen=True, slots=True)
class MeasureIndex:
    """Every measure of every current scheme and memorandum, keyed by action."""

    by_action: Mapping[str, tuple[MeasureSource, ...]]

    def sources(self, action: str) -> tuple[MeasureSource, ...]:
        return self.by_action.get(action, ())

    def schemes_for(self, action: str) -> frozenset[str]:
        """The schemes whose grades or lists can bear on ``action``."""
        return frozenset(source.scheme for source in self.sources(action))

    @property
    def actions(self) -> list[str]:
        return sorted(self.by_action)


def build_measure_index(
    schemes: Iterable[CompiledScheme], memoranda: Iterable[Memorandum]
) -> MeasureIndex:
    found: dict[str, list[MeasureSource]] = {}
    for scheme in schemes:
        for measure in scheme.definition.measures:
            found.setdefault(measure.action, []).append(_scheme_source(scheme, measure))
    for memo in memoranda:
        for consequence in memo.measures:
            found.setdefault(consequence.action, []).append(_memo_source(memo, consequence))
    return MeasureIndex({action: tuple(sources) for action, sources in found.items()})


def _scheme_source(scheme: CompiledScheme, measure: Measure) -> MeasureSource:
    grades = frozenset(measure.on.grades) if measure.on.grades is not None else None
    return MeasureSource(
        action=measure.action,
        effect=measure.effect,
        factor=measure.factor,
        context=measure.context,
        rationale=measure.rationale,
        scheme=scheme.id,
        authority=scheme.definition.authority.id,
        grades=grades,
        list=measure.on.list_id,
    )


def _memo_source(memo: Memorandum, consequence: MemorandumMeasure) -> MeasureSource:
    return MeasureSource(
        action=consequence.action,
        effect=consequence.effect,
        factor=consequence.factor,
        context=consequence.context,
        rationale=consequence.rationale,
        scheme=memo.on.scheme,
        authority=consequence.authority,
        list=memo.on.list_id,
        memorandum=memo.id,
    )
