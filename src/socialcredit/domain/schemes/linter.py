"""Checking a scheme against the law before it runs.

Two profiles:
- ``eu``: the AI Act's ban on social scoring (art. 5(1)(c)) and the GDPR;
- ``cn``: the PRC credit-repair rules on how long dishonesty may be published.

A finding carries a severity (``error`` or ``warning``), the rule it rests on,
the path in the file, and a sentence saying what is wrong. Pure functions of
definitions; the CLI formats and counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from socialcredit.domain.schemes.durations import Duration
from socialcredit.domain.schemes.models import (
    Category,
    Measure,
    Memorandum,
    MemorandumMeasure,
    Scheme,
)

Profile = Literal["eu", "cn"]
PROFILES: tuple[Profile, ...] = ("eu", "cn")

# GDPR art. 9 special categories and art. 10 criminal-offence data, as data-category prefixes.
SPECIAL = (
    "user.health",
    "user.biometric",
    "user.genetic",
    "user.political",
    "user.religious",
    "user.sexual",
    "user.racial",
    "user.ethnic",
    "user.trade_union",
)
CRIMINAL = ("user.criminal_history",)
# Location data is taken as precise unless it says it is not (bare "user.location" included).
IMPRECISE_LOCATION = ("user.location.imprecise",)
# PRC credit repair: how long a record of each severity may be published, in days.
# (Bounds in days, with a day's slack: P3M is 91.3 days by the average month used.)
CN_PERIODS = {"minor": (0, 92), "general": (91, 366), "serious": (365, 1096)}


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Literal["error", "warning"]
    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.severity}: {self.rule}: {self.message}"


def lint(
    definition: Scheme | Memorandum, profile: Profile, schemes: Mapping[str, Scheme]
) -> list[Finding]:
    """Findings for one definition; ``schemes`` resolves what memoranda refer to."""
    if isinstance(definition, Memorandum):
        scheme = schemes.get(definition.on.scheme)
        if scheme is None:
            return [
                Finding(
                    "error",
                    "lint",
                    "on.scheme",
                    f"scheme {definition.on.scheme!r} is not known: lint the memorandum "
                    "together with the scheme it applies to",
                )
            ]
        return list(_memorandum_eu(definition, scheme)) if profile == "eu" else []
    if profile == "eu":
        return [
            *_context(definition),
            *_proportion(definition),
            *_data(definition),
            *_human_review(definition),
            *_price(definition),
            *_location(definition),
        ]
    return [*_cn_lists(definition), *_cn_publication(definition, schemes)]


def _detrimental(effect: str, factor: float | None) -> bool:
    """Art. 5(1)(c) bans detrimental or unfavourable treatment; a reward in
    another context is reported as a warning (others are left worse off); a
    factor of 0, a waiver, is such a reward."""
    return effect in ("deny", "publish") or (
        effect == "adjust" and factor is not None and factor > 1
    )


def _context(scheme: Scheme) -> Iterable[Finding]:
    for index, measure in enumerate(scheme.measures):
        if measure.context != scheme.context:
            yield _elsewhere(index, measure, scheme.context, "")


def _elsewhere(
    index: int, measure: Measure | MemorandumMeasure, collected: str, who: str
) -> Finding:
    """A measure acting outside the context its data comes from (art. 5(1)(c)(i))."""
    return Finding(
        "error" if _detrimental(measure.effect, measure.factor) else "warning",
        "AI Act art. 5(1)(c)(i)",
        f"measures[{index}].context",
        f"{who}{measure.effect} {measure.action!r} in the {measure.context!r} context, for "
        f"data collected in the {collected!r} context",
    )


def _triggers(scheme: Scheme, list_id: str) -> list[Category]:
    return [c for c in scheme.categories if list_id in c.lists]


def _proportion(scheme: Scheme) -> Iterable[Finding]:
    minor_deductions = [c for c in scheme.categories if c.severity == "minor" and c.points < 0]
    for index, measure in enumerate(scheme.measures):
        if not _detrimental(measure.effect, measure.factor):
            continue
        if measure.on.list_id is not None:
            minor = [c.code for c in _triggers(scheme, measure.on.list_id) if c.severity == "minor"]
            if minor:
                yield Finding(
                    "error",
                    "AI Act art. 5(1)(c)(ii)",
                    f"measures[{index}]",
                    f"minor behaviour ({', '.join(minor)}) leads to {measure.effect} {measure.action!r}",
                )
        elif minor_deductions and measure.effect == "deny":
            yield Finding(
                "warning",
                "AI Act art. 5(1)(c)(ii)",
                f"measures[{index}]",
                f"minor deductions ({len(minor_deductions)} categories) can add up to grade "
                f"{'/'.join(measure.on.grades or ())}, which brings deny {measure.action!r}",
            )


def _data(scheme: Scheme) -> Iterable[Finding]:
    for index, category in enumerate(scheme.categories):
        path = f"categories[{index}].data_categories"
        for data in category.data_categories:
            kind = _special_kind(data)
            if kind and not (category.legal_basis or "").strip():
                yield Finding(
                    "error",
                    f"GDPR art. {kind}",
                    path,
                    f"{data!r} is processed with no legal_basis stated",
                )
            if data.startswith("user.location") and not data.startswith(IMPRECISE_LOCATION):
                yield Finding(
                    "warning",
                    "GDPR art. 5(1)(c)",
                    path,
                    f"{data!r}: precise location; keep only what the purpose needs",
                )


# A surcharge of this many times the normal price is out of proportion to any
# minor or general conduct (Mobike 2017 and 2018 charged 100 times the fare).
DISPROPORTIONATE_FACTOR = 10.0
# The purposes a subject consents to for exact positions, and for positions outside a trip.
PRECISE_LOCATION, BACKGROUND_LOCATION = "precise-location", "background-location"


def _price(scheme: Scheme) -> Iterable[Finding]:
    """Disproportion (AI Act art. 5(1)(c)(ii)): a price multiplied tenfold or
    more for a grade or list that minor or general conduct can bring about."""
    lesser = [
        c.code for c in scheme.categories if c.severity in ("minor", "general") and c.points < 0
    ]
    for index, measure in enumerate(scheme.measures):
        if measure.effect != "adjust" or (measure.factor or 0) < DISPROPORTIONATE_FACTOR:
            continue
        if measure.on.list_id is not None:
            causes = [
                c.code
                for c in _triggers(scheme, measure.on.list_id)
                if c.severity in ("minor", "general")
            ]
            target = f"list {measure.on.list_id!r}"
        else:
            causes, target = lesser, f"grade {'/'.join(measure.on.grades or ())}"
        if causes:
            yield Finding(
                "error",
                "AI Act art. 5(1)(c)(ii)",
                f"measures[{index}].factor",
                f"{measure.action!r} is multiplied by {measure.factor:g} for {target}, which "
                f"minor or general conduct ({', '.join(causes)}) can bring about: a surcharge "
                "that size is out of proportion to the conduct",
            )


def _location(scheme: Scheme) -> Iterable[Finding]:
    """Location kept beyond what the purpose needs (GDPR art. 5(1)(c)), and taken
    outside any trip without the subject's consent (art. 6(1))."""
    location = scheme.location
    if location is None:
        return
    if location.background and BACKGROUND_LOCATION not in scheme.purposes:
        yield Finding(
            "error" if location.precision == "precise" else "warning",
            "GDPR art. 5(1)(c) and art. 6(1)",
            "location.background",
            f"{location.precision} positions are taken outside trips (in the background) with no "
            f"purpose the subject consents to ({BACKGROUND_LOCATION!r} is not in purposes): where "
            "someone goes when not riding is not needed to rate where a bike was left",
        )
    elif location.background:
        yield Finding(
            "warning",
            "GDPR art. 5(1)(c)",
            "location.background",
            "positions are taken outside trips, with consent: keep them only as long as the "
            "stated purpose needs",
        )
    if location.precision == "precise" and PRECISE_LOCATION not in scheme.purposes:
        yield Finding(
            "warning",
            "GDPR art. 5(1)(c)",
            "location.precision",
            f"exact positions are kept with no purpose the subject consents to "
            f"({PRECISE_LOCATION!r} is not in purposes): a zone verdict and a coarse cell are "
            "enough to rate parking",
        )


def _special_kind(data: str) -> str | None:
    if data.startswith(CRIMINAL):
        return "10"
    if data.startswith(SPECIAL):
        return "9"
    return None


def _human_review(scheme: Scheme) -> Iterable[Finding]:
    significant = [i for i, m in enumerate(scheme.measures) if _detrimental(m.effect, m.factor)]
    if significant and not (scheme.human_review or "").strip():
        yield Finding(
            "error",
            "GDPR art. 22(3)",
            "human_review",
            f"{len(significant)} measures deny, surcharge or publish by automated scoring, and the scheme "
            "names no way to have a person review such a decision",
        )


def _memorandum_eu(memo: Memorandum, scheme: Scheme) -> Iterable[Finding]:
    triggers = _triggers(scheme, memo.on.list_id)
    for index, measure in enumerate(memo.measures):
        if measure.context != scheme.context:
            yield _elsewhere(index, measure, scheme.context, f"{measure.authority} applies ")
        minor = [c.code for c in triggers if c.severity == "minor"]
        if _detrimental(measure.effect, measure.factor) and minor:
            yield Finding(
                "error",
                "AI Act art. 5(1)(c)(ii)",
                f"measures[{index}]",
                f"minor behaviour ({', '.join(minor)}) leads to {measure.effect} {measure.action!r}",
            )


def _days(duration: Duration | None) -> float | None:
    return duration.approx_days() if duration is not None else None


def _cn_lists(scheme: Scheme) -> Iterable[Finding]:
    """A record-triggered list holds a record for the list's duration (or the
    record's validity): that is its publication period under the repair rules."""
    for index, lst in enumerate(scheme.lists):
        if lst.grades is not None:
            continue
        for category in _triggers(scheme, lst.id):
            held = lst.duration or category.validity
            low, high = CN_PERIODS[category.severity]
            days = held.approx_days()
            if not low <= days <= high:
                yield Finding(
                    "warning",
                    "PRC credit repair (publication period)",
                    f"lists[{index}]",
                    f"{category.code} ({category.severity}) stays on {lst.id!r} for {held}; "
                    f"{category.severity} dishonesty is published for {_range(category.severity)}",
                )


def _cn_publication(scheme: Scheme, schemes: Mapping[str, Scheme]) -> Iterable[Finding]:
    for index, measure in enumerate(scheme.measures):
        if measure.effect != "publish" or measure.on.list_id is None:
            continue
        minor = [c.code for c in _triggers(scheme, measure.on.list_id) if c.severity == "minor"]
        if minor:
            yield Finding(
                "warning",
                "PRC credit repair (minor records)",
                f"measures[{index}]",
                f"publishes {measure.on.list_id!r}, which minor records ({', '.join(minor)}) enter; "
                "minor dishonesty is normally not published",
            )


def _range(severity: str) -> str:
    return {
        "minor": "at most 3 months",
        "general": "3 months to 1 year",
        "serious": "1 to 3 years",
    }[severity]


def has_errors(findings: Sequence[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


# Validation problems that are also legal findings: the fields the law requires.
_REQUIRED_BY_LAW = {
    "lawful_basis": "GDPR art. 6(1)",
    "retention": "GDPR art. 5(1)(e)",
}


def legal_findings(problems: Iterable[tuple[str, str]]) -> list[Finding]:
    """Findings for validation problems (path, message) that the law names:
    a scheme without a lawful basis or a retention period cannot even load."""
    return [
        Finding("error", _REQUIRED_BY_LAW[path], path, f"{path} {message}: the law requires one")
        for path, message in problems
        if path in _REQUIRED_BY_LAW
    ]
