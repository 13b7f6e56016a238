"""The ``cn`` profile: the PRC's own rules on publishing dishonesty and on
credit repair, as binding rules where they are binding. Each rule's provision
is quoted in docs/compliance.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from socialcredit.domain.compliance.reading import causes, list_of, published_lists
from socialcredit.domain.compliance.rules import Finding, Rule
from socialcredit.domain.rights.repair import MINIMUM_PUBLICATION
from socialcredit.domain.schemes.durations import Duration
from socialcredit.domain.schemes.models import (
    Category,
    ListDefinition,
    Memorandum,
    Scheme,
    Severity,
)

_MEASURES = "NDRC Credit Repair Measures (Order No. 36 of 2025)"

PUBLISHED_TOO_LONG = Rule(
    "cn.published-too-long",
    "cn",
    f"{_MEASURES}, publication periods",
    "shorten the list's duration (or the category's validity) to the maximum for the severity",
)
MINOR_PUBLISHED = Rule(
    "cn.minor-published",
    "cn",
    f"{_MEASURES}, publication periods",
    "keep minor conduct off published lists, or class the conduct by its real severity",
)
PUBLISHED_TOO_SHORT = Rule(
    "cn.published-too-short",
    "cn",
    f"{_MEASURES}, publication periods",
    "publish for at least the minimum, or say why the scheme publishes for less",
)
LISTED_OUT_OF_RANGE = Rule(
    "cn.listed-out-of-range",
    "cn",
    f"{_MEASURES}, publication periods",
    "keep the list's period inside the range for the severity",
)
REPAIR_TOO_EARLY = Rule(
    "cn.repair-too-early",
    "cn",
    f"{_MEASURES}, conditions for repair",
    "let repair open no earlier than the minimum publication period for the severity",
)
LIST_WITHOUT_BASIS = Rule(
    "cn.list-without-basis",
    "cn",
    "State Council General Office Opinions, Guo Ban Fa [2020] No. 49, para. (6)",
    "name the law or regulation the list rests on, in the list's legal_basis or each category's",
)

RULES: tuple[Rule, ...] = (
    PUBLISHED_TOO_LONG,
    MINOR_PUBLISHED,
    PUBLISHED_TOO_SHORT,
    LISTED_OUT_OF_RANGE,
    REPAIR_TOO_EARLY,
    LIST_WITHOUT_BASIS,
)

# How long a record of each severity may be published: (minimum, maximum).
# Minor conduct is not published at all; a scheme that does is judged against
# the shortest range, and reported besides.
PUBLICATION: Mapping[Severity, tuple[Duration | None, Duration]] = {
    "minor": (None, Duration.parse("P3M")),
    "general": (Duration.parse("P3M"), Duration.parse("P1Y")),
    "serious": (Duration.parse("P1Y"), Duration.parse("P3Y")),
}
_RANGE_WORDS: Mapping[Severity, str] = {
    "minor": "not at all (at most 3 months)",
    "general": "3 months to 1 year",
    "serious": "1 to 3 years",
}
# A day's slack either way: P3M is 91.3 days by the average month used.
_SLACK_DAYS = 1.0


def lint_cn(definition: Scheme | Memorandum, schemes: Mapping[str, Scheme]) -> list[Finding]:
    if isinstance(definition, Memorandum):
        return _memorandum(definition, schemes[definition.on.scheme])
    scheme = definition
    return [*_publication(scheme), *_repair(scheme), *_legal_basis(scheme)]


def _memorandum(memo: Memorandum, scheme: Scheme) -> list[Finding]:
    """A memorandum that publishes its list makes the list's periods
    publication periods, whatever the scheme itself does with it."""
    listed = list_of(scheme, memo.on.list_id)
    if listed is None or listed.grades is not None:
        return []
    if not any(m.effect == "publish" for m in memo.measures):
        return []
    return [
        finding
        for category in causes(scheme, listed.id).categories
        for finding in _period("on.list", listed, category, published=True)
    ]


def _publication(scheme: Scheme) -> Iterable[Finding]:
    """A record-triggered list keeps a record for the list's duration, or the
    record's validity: on a published list, that is its publication period.
    A grade-based list holds while the grade does, and has no period."""
    published = published_lists(scheme)
    for index, lst in enumerate(scheme.lists):
        if lst.grades is not None:
            continue
        for category in causes(scheme, lst.id).categories:
            yield from _period(f"lists[{index}]", lst, category, lst.id in published)


def _period(
    path: str, lst: ListDefinition, category: Category, published: bool
) -> Iterable[Finding]:
    held = lst.duration or category.validity
    days = held.approx_days()
    low, high = PUBLICATION[category.severity]
    too_long = days > high.approx_days() + _SLACK_DAYS
    too_short = low is not None and days < low.approx_days() - _SLACK_DAYS
    what = f"{category.code} ({category.severity}) stays on {lst.id!r} for {held}"
    allowed = f"{category.severity} dishonesty is published for {_RANGE_WORDS[category.severity]}"
    if published and category.severity == "minor":
        yield MINOR_PUBLISHED.finding(
            "error" if too_long else "warning",
            path,
            f"{what}, and the list is published; minor dishonesty is not published",
        )
    elif published and too_long:
        yield PUBLISHED_TOO_LONG.finding(
            "error", path, f"{what}, and the list is published; {allowed}"
        )
    elif published and too_short:
        yield PUBLISHED_TOO_SHORT.finding(
            "warning", path, f"{what}, and the list is published; {allowed}"
        )
    elif not published and (too_long or too_short):
        yield LISTED_OUT_OF_RANGE.finding(
            "warning",
            path,
            f"{what}; {allowed}. The list is not published here, so whether the period binds "
            "depends on where else it is shown",
        )


def _repair(scheme: Scheme) -> Iterable[Finding]:
    if scheme.repair is None:
        return
    for severity, after in scheme.repair.after:
        minimum = MINIMUM_PUBLICATION[severity]
        if minimum is not None and after.approx_days() < minimum.approx_days() - _SLACK_DAYS:
            yield REPAIR_TOO_EARLY.finding(
                "error",
                f"repair.after.{severity}",
                f"{severity} records may be repaired {after} after their report; the minimum "
                f"publication period is {minimum}",
            )


def _legal_basis(scheme: Scheme) -> Iterable[Finding]:
    """Para. (6) governs lists of serious dishonesty: a black list that serious
    conduct enters, or that holding a grade does. The list itself must rest on
    a named basis; the laws behind the conduct are not the law behind the list."""
    for index, lst in enumerate(scheme.lists):
        if lst.kind != "black" or (lst.legal_basis or "").strip():
            continue
        found = causes(scheme, lst.id)
        serious = found.of_severity("serious")
        if found.direct and not serious:
            continue
        path = f"lists[{index}].legal_basis"
        if not found.direct:
            yield LIST_WITHOUT_BASIS.finding(
                "error",
                path,
                f"{lst.id!r} is entered by holding grade {'/'.join(lst.grades or ())}, and no "
                "law, regulation or central policy document that provides for the list is named",
            )
        elif all((c.legal_basis or "").strip() for c in found.categories):
            yield LIST_WITHOUT_BASIS.finding(
                "warning",
                path,
                f"serious conduct ({', '.join(serious)}) puts people on {lst.id!r}; its "
                "categories name the laws behind the conduct, but nothing names the one that "
                "provides for the list",
            )
        else:
            yield LIST_WITHOUT_BASIS.finding(
                "error",
                path,
                f"serious conduct ({', '.join(serious)}) puts people on {lst.id!r}, and no legal "
                "basis is named for the list or for all the conduct that enters it",
            )


__all__ = ["PUBLICATION", "RULES", "lint_cn"]
