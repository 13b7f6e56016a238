"""The ``eu`` profile: the AI Act's ban on social scoring (art. 5(1)(c)) and
the GDPR, as a scheme file can show them. Each rule's provision is quoted in
docs/compliance.md."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from socialcredit.domain.compliance import art22
from socialcredit.domain.compliance.reading import causes, praise, published_lists, rates_people
from socialcredit.domain.compliance.rules import Finding, Platform, Rule, Severity
from socialcredit.domain.compliance.taxonomy import (
    is_criminal_offence_data,
    is_maybe_special,
    is_precise_location,
    special_kind,
)
from socialcredit.domain.schemes.models import (
    SPECIAL_CONDITION_POINTS,
    SPECIAL_CONDITIONS_NEEDING_LAW,
    Category,
    Measure,
    Memorandum,
    MemorandumMeasure,
    Scheme,
)

UNRELATED_CONTEXT = Rule(
    "eu.unrelated-context",
    "eu",
    "AI Act art. 5(1)(c)(i)",
    "apply the measure only in the context the scheme's data come from, or drop it",
)
DISPROPORTION = Rule(
    "eu.disproportion",
    "eu",
    "AI Act art. 5(1)(c)(ii)",
    "let only serious conduct lead to a denial, a surcharge or a publication",
)
SURCHARGE = Rule(
    "eu.surcharge",
    "eu",
    "AI Act art. 5(1)(c)(ii)",
    "cap the factor well below 10, or keep the measure for serious conduct",
)
SPECIAL_DATA = Rule(
    "eu.special-data",
    "eu",
    "GDPR art. 9(1) and (2)",
    "name the art. 9(2) condition in the category's special_condition, or stop processing the data",
)
SPECIAL_DATA_LAW = Rule(
    "eu.special-data-law",
    "eu",
    "GDPR art. 9(2)(b), (g), (h), (i) and (j)",
    "name the law that provides for the processing in special_condition.law",
)
MAYBE_SPECIAL = Rule(
    "eu.maybe-special-data",
    "eu",
    "GDPR art. 9(1)",
    "label the data with a specific key, and name an art. 9(2) condition if it is special",
)
CRIMINAL_DATA = Rule(
    "eu.criminal-data",
    "eu",
    "GDPR art. 10",
    "have a public authority run the scheme, or name the authorising law in criminal_data_law",
)
CRIMINAL_DATA_PUBLISHED = Rule(
    "eu.criminal-data-published",
    "eu",
    "GDPR art. 10, read with art. 5(1) and art. 6(1)(e) (CJEU C-439/19)",
    "do not publish a list that criminal-offence data put people on; disclose it only to those "
    "who need it",
)
REGISTER_RETENTION = Rule(
    "eu.register-retention",
    "eu",
    "GDPR art. 5(1)(a), read with art. 6(1)(f) (CJEU C-26/22 and C-64/22)",
    "keep the records no longer than the public register keeps them (retention and validity)",
)
PRECISE_LOCATION = Rule(
    "eu.precise-location",
    "eu",
    "GDPR art. 5(1)(c)",
    "record a coarse location (user.location.coarse), or justify the precision",
)
BACKGROUND_LOCATION = Rule(
    "eu.background-location",
    "eu",
    "GDPR art. 5(1)(c) and art. 6(1)(a)",
    "take no position outside a trip, or list the purpose 'background-location' so that only "
    "riders who consent give them",
)
RULES: tuple[Rule, ...] = (
    UNRELATED_CONTEXT,
    DISPROPORTION,
    SURCHARGE,
    SPECIAL_DATA,
    SPECIAL_DATA_LAW,
    MAYBE_SPECIAL,
    CRIMINAL_DATA,
    CRIMINAL_DATA_PUBLISHED,
    REGISTER_RETENTION,
    PRECISE_LOCATION,
    BACKGROUND_LOCATION,
    *art22.RULES,
)

# A surcharge of this many times the normal price is out of proportion to any
# minor or general conduct (Mobike 2017 and 2018 charged 100 times the fare).
DISPROPORTIONATE_FACTOR = 10.0
# The purpose a subject consents to for positions outside a trip.
BACKGROUND_PURPOSE = "background-location"


def lint_scheme(scheme: Scheme, platform: Platform) -> list[Finding]:
    return [
        *_context(scheme),
        *_proportion(scheme),
        *_price(scheme),
        *_special_data(scheme),
        *_criminal_data(scheme),
        *_criminal_data_published(scheme, published_lists(scheme), lambda i: _list_path(scheme, i)),
        *_register_retention(scheme),
        *_location_data(scheme),
        *_location_rule(scheme),
        *art22.lint_scheme(scheme, platform),
    ]


def lint_memorandum(memo: Memorandum, scheme: Scheme, platform: Platform) -> list[Finding]:
    """A memorandum carries a scheme's list into other authorities' hands: its
    measures are judged as the scheme's would be, and as other parties'."""
    found: list[Finding] = []
    for index, measure in enumerate(memo.measures):
        if measure.context != scheme.context:
            who = f"{measure.authority} applies "
            found.append(_elsewhere(scheme, index, measure, memo.on.list_id, who))
        found.extend(_disproportion(scheme, index, measure, memo.on.list_id))
    if any(m.effect == "publish" for m in memo.measures):
        found.extend(_criminal_data_published(scheme, {memo.on.list_id}, lambda _: "on.list"))
    found.extend(art22.lint_memorandum(memo, scheme, platform))
    return found


def detrimental(effect: str, factor: float | None) -> bool:
    """Art. 5(1)(c) bans detrimental or unfavourable treatment: a denial, a
    publication or a surcharge. A reward elsewhere leaves the others worse off,
    and is reported as a warning; a factor of 0, a waiver, is such a reward."""
    return effect in ("deny", "publish") or (
        effect == "adjust" and factor is not None and factor > 1
    )


# -- AI Act art. 5(1)(c) ------------------------------------------------------------------


def _for_people(scheme: Scheme, severity: Severity) -> Severity:
    """Art. 5(1)(c) bans the practice for natural persons. A scheme that rates
    only businesses or public bodies is reported, as a warning: its measures
    fall on the people who run them, but the text does not forbid it."""
    return severity if rates_people(scheme) else "warning"


def _context(scheme: Scheme) -> Iterable[Finding]:
    for index, measure in enumerate(scheme.measures):
        if measure.context != scheme.context:
            yield _elsewhere(scheme, index, measure, measure.on.list_id, "")


def _harms(scheme: Scheme, measure: Measure | MemorandumMeasure, list_id: str | None) -> bool:
    return detrimental(measure.effect, measure.factor) and not praise(
        scheme, list_id, measure.effect
    )


def _elsewhere(
    scheme: Scheme,
    index: int,
    measure: Measure | MemorandumMeasure,
    list_id: str | None,
    who: str,
) -> Finding:
    harmful = _harms(scheme, measure, list_id)
    return UNRELATED_CONTEXT.finding(
        _for_people(scheme, "error") if harmful else "warning",
        f"measures[{index}].context",
        f"{who}{measure.effect} {measure.action!r} in the {measure.context!r} context, for "
        f"data collected in the {scheme.context!r} context",
    )


def _proportion(scheme: Scheme) -> Iterable[Finding]:
    minor_deductions = [c for c in scheme.categories if c.severity == "minor" and c.points < 0]
    for index, measure in enumerate(scheme.measures):
        if measure.on.list_id is not None:
            yield from _disproportion(scheme, index, measure, measure.on.list_id)
        elif minor_deductions and measure.effect == "deny":
            yield DISPROPORTION.finding(
                "warning",
                f"measures[{index}]",
                f"minor deductions ({len(minor_deductions)} categories) can add up to grade "
                f"{'/'.join(measure.on.grades or ())}, which brings deny {measure.action!r}",
            )


def _disproportion(
    scheme: Scheme, index: int, measure: Measure | MemorandumMeasure, list_id: str
) -> Iterable[Finding]:
    """Minor conduct that puts someone on a list bringing a detriment: an error
    where one record does it, a warning where records must add up to a grade."""
    if not _harms(scheme, measure, list_id):
        return
    found = causes(scheme, list_id)
    minor = found.of_severity("minor")
    if not minor:
        return
    if found.direct:
        message = f"minor behaviour ({', '.join(minor)}) leads to"
    else:
        message = f"minor deductions ({', '.join(minor)}) can add up to list {list_id!r}, and"
    yield DISPROPORTION.finding(
        _for_people(scheme, "error") if found.direct else "warning",
        f"measures[{index}]",
        f"{message} {measure.effect} {measure.action!r}",
    )


def _price(scheme: Scheme) -> Iterable[Finding]:
    """A price multiplied tenfold or more for a grade or list that minor or
    general conduct can bring about."""
    lesser = [
        c.code for c in scheme.categories if c.severity in ("minor", "general") and c.points < 0
    ]
    for index, measure in enumerate(scheme.measures):
        if measure.effect != "adjust" or (measure.factor or 0) < DISPROPORTIONATE_FACTOR:
            continue
        if measure.on.list_id is not None:
            reasons = causes(scheme, measure.on.list_id).of_severity("minor", "general")
            target = f"list {measure.on.list_id!r}"
        else:
            reasons, target = lesser, f"grade {'/'.join(measure.on.grades or ())}"
        if reasons:
            yield SURCHARGE.finding(
                _for_people(scheme, "error"),
                f"measures[{index}].factor",
                f"{measure.action!r} is multiplied by {measure.factor:g} for {target}, which "
                f"minor or general conduct ({', '.join(reasons)}) can bring about: a surcharge "
                "that size is out of proportion to the conduct",
            )


# -- GDPR art. 9 and 10 -------------------------------------------------------------------


def _special_data(scheme: Scheme) -> Iterable[Finding]:
    for index, category in enumerate(scheme.categories):
        path = f"categories[{index}]"
        special = [(key, kind) for key in category.data_categories if (kind := special_kind(key))]
        if special:
            yield from _special_condition(path, category, special)
        for key in category.data_categories:
            if is_maybe_special(key):
                yield MAYBE_SPECIAL.finding(
                    "warning",
                    f"{path}.data_categories",
                    f"{key!r} may be special-category data (biometric data are, when used to "
                    "identify a person); the file does not say",
                )


def _special_condition(
    path: str, category: Category, special: Sequence[tuple[str, str]]
) -> Iterable[Finding]:
    """Special-category data need an art. 9(2) condition, and five of the
    conditions need the law that provides for the processing."""
    condition = category.special_condition
    if condition is None:
        named = ", ".join(f"{key!r} ({kind})" for key, kind in special)
        yield SPECIAL_DATA.finding(
            "error",
            f"{path}.special_condition",
            f"{named}: special-category data with no art. 9(2) condition named; a "
            "legal_basis text is not a condition",
        )
        return
    needs_law = condition.condition in SPECIAL_CONDITIONS_NEEDING_LAW
    if needs_law and not (condition.law or "").strip():
        point = SPECIAL_CONDITION_POINTS[condition.condition]
        yield SPECIAL_DATA_LAW.finding(
            "error",
            f"{path}.special_condition.law",
            f"condition {condition.condition!r} (art. 9(2)({point})) holds only where a "
            "law provides for the processing, and none is named",
        )


def _criminal(category: Category) -> list[str]:
    return [key for key in category.data_categories if is_criminal_offence_data(key)]


def _criminal_data(scheme: Scheme) -> Iterable[Finding]:
    if scheme.authority.kind == "government":
        return
    for index, category in enumerate(scheme.categories):
        criminal = _criminal(category)
        if criminal and not (category.criminal_data_law or "").strip():
            yield CRIMINAL_DATA.finding(
                "error",
                f"categories[{index}].criminal_data_law",
                f"{criminal[0]!r}: criminal-offence data processed by a "
                f"{scheme.authority.kind} body, not under official authority, and no law "
                "authorising it is named",
            )


def _criminal_data_published(
    scheme: Scheme, published: set[str], path: Callable[[str], str]
) -> Iterable[Finding]:
    """A published list that criminal-offence data put people on: an error
    where the records enter it, a warning where they only lower a grade that
    does (the grade reveals the offences less directly)."""
    for list_id in sorted(published):
        if praise(scheme, list_id, "publish"):
            continue  # an honour roll shows who has no such record
        found = causes(scheme, list_id)
        reasons = [c.code for c in found.categories if _criminal(c)]
        if not reasons:
            continue
        yield CRIMINAL_DATA_PUBLISHED.finding(
            "error" if found.direct else "warning",
            path(list_id),
            f"{list_id!r} is published, and criminal-offence data "
            f"{'put people on it' if found.direct else 'lower the grade that does'} "
            f"({', '.join(reasons)}): they are made available to anyone",
        )


def _list_path(scheme: Scheme, list_id: str) -> str:
    index = next(i for i, lst in enumerate(scheme.lists) if lst.id == list_id)
    return f"lists[{index}]"


def _register_retention(scheme: Scheme) -> Iterable[Finding]:
    if scheme.lawful_basis != "legitimate_interests":
        return
    for index, category in enumerate(scheme.categories):
        source = category.source
        if source is None:
            continue
        # What counts is how long the information is stored: the scheme keeps
        # every record for its retention, even after it stops counting.
        kept = max(category.validity, scheme.retention, key=lambda d: d.approx_days())
        if kept.approx_days() > source.kept_for.approx_days():
            yield REGISTER_RETENTION.finding(
                "error",
                f"categories[{index}]",
                f"{category.code} is kept for {kept}, but {source.name} keeps the information "
                f"for {source.kept_for}: a private body's legitimate interests do not outlast "
                "the register's",
            )


# -- location -----------------------------------------------------------------------------


def _location_data(scheme: Scheme) -> Iterable[Finding]:
    for index, category in enumerate(scheme.categories):
        for key in category.data_categories:
            if is_precise_location(key):
                yield PRECISE_LOCATION.finding(
                    "warning",
                    f"categories[{index}].data_categories",
                    f"{key!r}: precise location; keep only what the purpose needs",
                )


def _location_rule(scheme: Scheme) -> Iterable[Finding]:
    """Positions taken outside any trip without the subject's consent. Exact
    trip ends are not reported: the Berlin authority found a trip's start and
    end enough to keep (tests/cases), and the platform keeps them exact only
    with consent to 'precise-location' whatever a scheme declares."""
    location = scheme.location
    if location is None:
        return
    if location.background and BACKGROUND_PURPOSE not in scheme.purposes:
        yield BACKGROUND_LOCATION.finding(
            "error" if location.precision == "precise" else "warning",
            "location.background",
            f"{location.precision} positions are taken outside trips (in the background) with no "
            f"purpose the subject consents to ({BACKGROUND_PURPOSE!r} is not in purposes): where "
            "someone goes when not riding is not needed to rate where a bike was left",
        )
    elif location.background:
        yield BACKGROUND_LOCATION.finding(
            "warning",
            "location.background",
            "positions are taken outside trips, with consent: keep them only as long as the "
            "stated purpose needs",
        )


def lint_eu(
    definition: Scheme | Memorandum, schemes: Mapping[str, Scheme], platform: Platform
) -> list[Finding]:
    if isinstance(definition, Memorandum):
        return lint_memorandum(definition, schemes[definition.on.scheme], platform)
    return lint_scheme(definition, platform)


__all__ = ["DISPROPORTIONATE_FACTOR", "RULES", "detrimental", "lint_eu"]
