"""The ``cn`` profile: the PRC's own rules on publishing dishonesty and on
credit repair, as binding rules where they are binding. Each rule's provision
is quoted in docs/compliance.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from socialcredit.domain.compliance.rules import Finding, Rule, published_lists, triggers
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
    "let repair open no earlier than the minimum publication period, or state an "
    "early_removal condition the law provides for",
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
        return []
    scheme = definition
    return [*_publication(scheme), *_repair(scheme), *_legal_basis(scheme)]


def _publication(scheme: Scheme) -> Iterable[Finding]:
    """A record-triggered list keeps a record for the list's duration, or the
    record's validity: on a published list, that is its publication period."""
    published = published_lists(scheme)
    for index, lst in enumerate(scheme.lists):
        if lst.grades is not None:
            continue
        for category in triggers(scheme, lst.id):
            yield from _period(index, lst, category, lst.id in published)


def _period(
    index: int, lst: ListDefinition, category: Category, published: bool
) -> Iterable[Finding]:
    held = lst.duration or category.validity
    days = held.approx_days()
    low, high = PUBLICATION[category.severity]
    too_long = days > high.approx_days() + _SLACK_DAYS
    too_short = low is not None and days < low.approx_days() - _SLACK_DAYS
    what = f"{category.code} ({category.severity}) stays on {lst.id!r} for {held}"
    allowed = f"{category.severity} dishonesty is published for {_RANGE_WORDS[category.severity]}"
    path = f"lists[{index}]"
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
    for severity, after in scheme.repair.after.items():
        minimum = MINIMUM_PUBLICATION[severity]
        if minimum is not None and after.approx_days() < minimum.approx_days() - _SLACK_DAYS:
            yield REPAIR_TOO_EARLY.finding(
                "error",
                f"repair.after.{severity}",
                f"{severity} records may be repaired {after} after their report; the minimum "
                f"publication period is {minimum}",
            )


def _legal_basis(scheme: Scheme) -> Iterable[Finding]:
    for index, lst in enumerate(scheme.lists):
        if (lst.legal_basis or "").strip() or lst.kind != "black":
            continue
        if lst.grades is not None:
            yield LIST_WITHOUT_BASIS.finding(
                "error",
                f"lists[{index}].legal_basis",
                f"{lst.id!r} is entered by holding grade {'/'.join(lst.grades)}, and no law or "
                "regulation that provides for the list is named",
            )
            continue
        bare = [c.code for c in triggers(scheme, lst.id) if not (c.legal_basis or "").strip()]
        if bare:
            yield LIST_WITHOUT_BASIS.finding(
                "error",
                f"lists[{index}].legal_basis",
                f"{', '.join(bare)} put people on {lst.id!r} with no legal basis named, for the "
                "list or for the conduct",
            )


__all__ = ["PUBLICATION", "RULES", "lint_cn"]
