"""The fairness audit: who a scheme's bottom grades and black lists fall on,
by decade of birth, sex and place of registration.

The attributes are derived from resident IDs at intake, only while the
operator has the audit on (``Imports``, ``Subjects``), kept in their own table,
never written to a snapshot or an export to anyone else, and never read by
anything that scores or decides. Turning the audit off deletes them.

The figures are counted in the analytics engine over the whole population;
only counts per group come out of it, and a group under k subjects is
suppressed before anything is reported (``domain/fairness/figures.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from socialcredit.domain.fairness import (
    MIN_GROUP,
    AuditAttributes,
    GroupFinding,
    findings,
    group_label,
    parse_dimensions,
)
from socialcredit.domain.registry import Registry
from socialcredit.domain.rights.overrides import adverse
from socialcredit.errors import UsageError
from socialcredit.services.population import Population
from socialcredit.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class DimensionFindings:
    dimension: str  # "sex", "age_band", "sex+region", ...
    groups: list[GroupFinding]


@dataclass(frozen=True)
class FairnessReport:
    scheme: str
    at: datetime
    subjects: int  # enrolled in the scheme at ``at``
    with_attributes: int  # of them, those the audit holds attributes of
    bottom_grades: list[str]
    black_lists: list[str]
    home: str  # the prefecture (or prefix) "registered here" means
    k: int
    dimensions: list[DimensionFindings]


class FairnessAudit:
    def __init__(self, uow: UnitOfWork, population: Population) -> None:
        self._uow = uow
        self._population = population

    def status(self) -> tuple[str | None, int]:
        """When and by whom the audit was turned on (None: off), and how many
        people's attributes are kept."""
        since = self._uow.fairness.audit_on()
        return since, self._uow.fairness.held() if since else 0

    def turn_on(self, *, actor: str) -> bool:
        """Derive attributes from now on; False if the audit was on already."""
        if self._uow.fairness.audit_on():
            return False
        self._uow.fairness.turn_on(f"{self._uow.clock().isoformat()} {actor}")
        return True

    def turn_off(self) -> int:
        """Stop, and delete every attribute kept: how many."""
        return self._uow.fairness.turn_off()

    def audit(
        self,
        scheme: str,
        at: datetime,
        by: str = "sex,age_band,region",
        *,
        home: str | None = None,
        bottom: list[str] | None = None,
        k: int = MIN_GROUP,
        engine: str = "duckdb",
        snapshot: Path | None = None,
    ) -> FairnessReport:
        """The figures of ``scheme`` at ``at`` for each group of each dimension in ``by``."""
        uow = self._uow
        if not uow.fairness.audit_on():
            raise UsageError(
                "the fairness audit is off: turn it on with `socialcredit audit on` "
                "(attributes are derived from resident IDs read from then on)"
            )
        try:
            dimensions = parse_dimensions(by)
        except ValueError as wrong:
            raise UsageError(f"--by: {wrong}") from None
        if k < 2:
            raise UsageError("--k: a group must have at least 2 subjects to be shown")
        registry = uow.registry
        history = registry.schemes.get(scheme)
        if history is None:
            raise UsageError(
                f"SCHEME: no scheme {scheme!r} (held: {', '.join(sorted(registry.schemes))})"
            )
        bottom = self._bottom(registry, scheme, bottom)
        attributes = list(uow.fairness.attributes())
        where = _home(home) if home is not None else _most_common_prefecture(attributes)
        rows = _group_rows(attributes, dimensions, at, where)
        subjects, counts = self._population.group_counts(
            scheme, at, rows, bottom, engine=engine, snapshot=snapshot
        )
        with_attributes = sum(g.subjects for g in counts.get("+".join(dimensions[0]), []))
        lists = [item.id for item in history.current.definition.lists if item.kind == "black"]
        return FairnessReport(
            scheme,
            at,
            subjects,
            with_attributes,
            bottom,
            lists,
            where,
            k,
            [
                DimensionFindings("+".join(d), findings(counts.get("+".join(d), []), k))
                for d in dimensions
            ],
        )

    @staticmethod
    def _bottom(registry: Registry, scheme: str, asked: list[str] | None) -> list[str]:
        """The bottom grades: those asked, or else those any measure acts on
        against the subject (a denial or a raised price)."""
        grades = [name for name, _ in registry.history(scheme).current.bands]
        if asked is not None:
            unknown = [g for g in asked if g not in grades]
            if unknown:
                raise UsageError(
                    f"--bottom: {scheme} has no grade {unknown[0]!r} ({', '.join(grades)})"
                )
            return asked
        acted_on = {
            grade
            for action in registry.index.actions
            for source in registry.index.sources(action)
            if source.scheme == scheme and source.grades and adverse(source.effect, source.factor)
            for grade in source.grades
        }
        return [g for g in grades if g in acted_on]


def _home(home: str) -> str:
    """The prefix "registered here" matches: a province (2 digits) or a
    prefecture (4); a county's 6 digits are cut to its prefecture, the finest
    place the audit keeps."""
    if not (home.isascii() and home.isdigit() and len(home) in (2, 4, 6)):
        raise UsageError(
            f"--home: {home!r} is not a GB/T 2260 province (2 digits), prefecture (4) "
            "or county (6) code"
        )
    return home[:4]


def _most_common_prefecture(attributes: list[AuditAttributes]) -> str:
    found = Counter(a.prefecture for a in attributes).most_common(1)
    return found[0][0] if found else ""


def _group_rows(
    attributes: Iterable[AuditAttributes],
    dimensions: list[tuple[str, ...]],
    at: datetime,
    home: str,
) -> list[tuple[str, str, str]]:
    """(dimension, group, subject) for every person and dimension. People share
    few distinct attribute values, so each label is worked out once."""
    labels: dict[tuple[int, str, str, tuple[str, ...]], str] = {}
    rows = []
    for person in attributes:
        for dimension in dimensions:
            key = (person.birth_decade, person.sex, person.prefecture, dimension)
            label = labels.get(key)
            if label is None:
                label = labels[key] = group_label(person, dimension, at, home)
            rows.append(("+".join(dimension), label, person.subject))
    return rows


__all__ = ["DimensionFindings", "FairnessAudit", "FairnessReport"]
