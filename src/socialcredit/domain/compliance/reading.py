"""What a scheme file says, read the way the rules need it: which conduct can
put a person on a list, which lists are published, whom the scheme rates."""

from __future__ import annotations

from dataclasses import dataclass

from socialcredit.domain.schemes.models import (
    Category,
    ListDefinition,
    Measure,
    Scheme,
)


@dataclass(frozen=True, slots=True)
class Causes:
    """The categories that can put someone on a list: directly, for a list
    that records enter, or by adding up, for a list that a grade enters (any
    category that takes points off can lower the grade)."""

    categories: tuple[Category, ...]
    direct: bool

    def of_severity(self, *severities: str) -> list[str]:
        return [c.code for c in self.categories if c.severity in severities]


def list_of(scheme: Scheme, list_id: str) -> ListDefinition | None:
    return next((lst for lst in scheme.lists if lst.id == list_id), None)


def causes(scheme: Scheme, list_id: str) -> Causes:
    found = list_of(scheme, list_id)
    if found is not None and found.grades is not None:
        return Causes(tuple(c for c in scheme.categories if c.points < 0), direct=False)
    return Causes(tuple(c for c in scheme.categories if list_id in c.lists), direct=True)


def published_lists(scheme: Scheme) -> set[str]:
    """The lists a ``publish`` measure of the scheme covers (a memorandum that
    publishes its list is judged in the memorandum's own lint)."""
    return {
        m.on.list_id for m in scheme.measures if m.effect == "publish" and m.on.list_id is not None
    }


def praise(scheme: Scheme, list_id: str | None, effect: str) -> bool:
    """Publishing a red list (an honour roll) is praise, not a detriment."""
    found = list_of(scheme, list_id) if list_id else None
    return effect == "publish" and found is not None and found.kind == "red"


def rates_people(scheme: Scheme) -> bool:
    """The AI Act's art. 5(1)(c) concerns natural persons: a scheme rates them
    when it rates persons, or when a list reaches a business's legal
    representative."""
    return "person" in scheme.subjects or any(lst.reach for lst in scheme.lists)


def decided_by_person(scheme: Scheme, measure: Measure) -> bool:
    """A measure on a list whose every entry a person decides case by case."""
    found = list_of(scheme, measure.on.list_id) if measure.on.list_id else None
    return found is not None and found.decided_by_person


__all__ = [
    "Causes",
    "causes",
    "decided_by_person",
    "list_of",
    "praise",
    "published_lists",
    "rates_people",
]
