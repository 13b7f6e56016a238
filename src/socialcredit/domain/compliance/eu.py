"""The ``eu`` profile: the AI Act's ban on social scoring (art. 5(1)(c)) and
the GDPR, as a scheme file can show them. Each rule's provision is quoted in
docs/compliance.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from socialcredit.domain.compliance.rules import (
    Finding,
    Platform,
    Rule,
    published_lists,
    triggers,
)
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
    "GDPR art. 10, read with art. 5(1)(c) (CJEU C-439/19)",
    "do not publish a list that criminal-offence data put people on; disclose it only to those "
    "who need it",
)
REGISTER_RETENTION = Rule(
    "eu.register-retention",
    "eu",
    "GDPR art. 6(1)(f) and art. 5(1)(e) (CJEU C-26/22 and C-64/22)",
    "let the records count no longer than the public register keeps them",
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
REFERRAL_OFF = Rule(
    "eu.referral-off",
    "eu",
    "GDPR art. 22(3)",
    "leave referral on, or state in human_review how a person reviews a decision on request",
)
NO_REVIEWER = Rule(
    "eu.no-reviewer",
    "eu",
    "GDPR art. 22(3)",
    "create a reviewer key for the authority (socialcredit keys create reviewer --authority ...)",
)
LEGAL_EFFECT = Rule(
    "eu.legal-effect-safeguards",
    "eu",
    "GDPR art. 22(1) and (2)(b)",
    "name the law that authorises the decisions in automated_decision_law, or state the "
    "scheme's own safeguard in human_review",
)
SCORE_RELIED_ON = Rule(
    "eu.score-relied-on",
    "eu",
    "GDPR art. 22(1) and (2) (CJEU C-634/21)",
    "base the scheme on explicit consent or a contract with the subject, or name the "
    "authorising law in automated_decision_law",
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
    REFERRAL_OFF,
    NO_REVIEWER,
    LEGAL_EFFECT,
    SCORE_RELIED_ON,
)

# A surcharge of this many times the normal price is out of proportion to any
# minor or general conduct (Mobike 2017 and 2018 charged 100 times the fare).
DISPROPORTIONATE_FACTOR = 10.0
# The purpose a subject consents to for positions outside a trip.
BACKGROUND_PURPOSE = "background-location"
# The lawful bases under which art. 22(2)(a) or (c) can allow an automated
# decision: a contract with the subject, or (explicit) consent.
_CONTRACT_OR_CONSENT = ("contract", "consent")


def lint_scheme(scheme: Scheme, platform: Platform) -> list[Finding]:
    return [
        *_context(scheme),
        *_proportion(scheme),
        *_price(scheme),
        *_special_data(scheme),
        *_criminal_data(scheme),
        *_criminal_data_published(scheme),
        *_register_retention(scheme),
        *_location_data(scheme),
        *_location_rule(scheme),
        *_automated_decisions(scheme, platform),
    ]


def lint_memorandum(memo: Memorandum, scheme: Scheme) -> list[Finding]:
    found: list[Finding] = []
    minor = [c.code for c in triggers(scheme, memo.on.list_id) if c.severity == "minor"]
    for index, measure in enumerate(memo.measures):
        if measure.context != scheme.context:
            found.append(
                _elsewhere(index, measure, scheme.context, f"{measure.authority} applies ")
            )
        if detrimental(measure.effect, measure.factor) and minor:
            found.append(
                DISPROPORTION.finding(
                    "error",
                    f"measures[{index}]",
                    f"minor behaviour ({', '.join(minor)}) leads to {measure.effect} "
                    f"{measure.action!r}",
                )
            )
    return found


def detrimental(effect: str, factor: float | None) -> bool:
    """Art. 5(1)(c) bans detrimental or unfavourable treatment: a denial, a
    publication or a surcharge. A reward elsewhere leaves the others worse off,
    and is reported as a warning; a factor of 0, a waiver, is such a reward."""
    return effect in ("deny", "publish") or (
        effect == "adjust" and factor is not None and factor > 1
    )


# -- AI Act art. 5(1)(c) ------------------------------------------------------------------


def _context(scheme: Scheme) -> Iterable[Finding]:
    for index, measure in enumerate(scheme.measures):
        if measure.context != scheme.context:
            yield _elsewhere(index, measure, scheme.context, "")


def _elsewhere(
    index: int, measure: Measure | MemorandumMeasure, collected: str, who: str
) -> Finding:
    return UNRELATED_CONTEXT.finding(
        "error" if detrimental(measure.effect, measure.factor) else "warning",
        f"measures[{index}].context",
        f"{who}{measure.effect} {measure.action!r} in the {measure.context!r} context, for "
        f"data collected in the {collected!r} context",
    )


def _proportion(scheme: Scheme) -> Iterable[Finding]:
    minor_deductions = [c for c in scheme.categories if c.severity == "minor" and c.points < 0]
    for index, measure in enumerate(scheme.measures):
        if not detrimental(measure.effect, measure.factor):
            continue
        if measure.on.list_id is not None:
            minor = [c.code for c in triggers(scheme, measure.on.list_id) if c.severity == "minor"]
            if minor:
                yield DISPROPORTION.finding(
                    "error",
                    f"measures[{index}]",
                    f"minor behaviour ({', '.join(minor)}) leads to {measure.effect} "
                    f"{measure.action!r}",
                )
        elif minor_deductions and measure.effect == "deny":
            yield DISPROPORTION.finding(
                "warning",
                f"measures[{index}]",
                f"minor deductions ({len(minor_deductions)} categories) can add up to grade "
                f"{'/'.join(measure.on.grades or ())}, which brings deny {measure.action!r}",
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
            causes = [
                c.code
                for c in triggers(scheme, measure.on.list_id)
                if c.severity in ("minor", "general")
            ]
            target = f"list {measure.on.list_id!r}"
        else:
            causes, target = lesser, f"grade {'/'.join(measure.on.grades or ())}"
        if causes:
            yield SURCHARGE.finding(
                "error",
                f"measures[{index}].factor",
                f"{measure.action!r} is multiplied by {measure.factor:g} for {target}, which "
                f"minor or general conduct ({', '.join(causes)}) can bring about: a surcharge "
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
                    f"{key!r} may be special-category data; the file does not say which kind",
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


def _criminal_data_published(scheme: Scheme) -> Iterable[Finding]:
    published = published_lists(scheme)
    for index, lst in enumerate(scheme.lists):
        causes = [c.code for c in triggers(scheme, lst.id) if _criminal(c)]
        if lst.id in published and causes:
            yield CRIMINAL_DATA_PUBLISHED.finding(
                "error",
                f"lists[{index}]",
                f"{lst.id!r} is published, and criminal-offence data put people on it "
                f"({', '.join(causes)}): they are made available to anyone",
            )


def _register_retention(scheme: Scheme) -> Iterable[Finding]:
    if scheme.lawful_basis != "legitimate_interests":
        return
    for index, category in enumerate(scheme.categories):
        source = category.source
        if source is None:
            continue
        if category.validity.approx_days() > source.kept_for.approx_days():
            yield REGISTER_RETENTION.finding(
                "error",
                f"categories[{index}].validity",
                f"{category.code} counts for {category.validity}, but {source.name} keeps "
                f"the information for {source.kept_for}: a private body's legitimate interests "
                "do not outlast the register's",
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


# -- GDPR art. 22 -------------------------------------------------------------------------


def _automated_decisions(scheme: Scheme, platform: Platform) -> Iterable[Finding]:
    """Art. 22, given what the platform guarantees: a subject may refer any
    adverse decision to a reviewer of the scheme's authority, contest any
    record, and is told of each. What a scheme can still get wrong is turning
    referral off, running without a reviewer, and deciding with legal effect
    with no exception of art. 22(2) shown."""
    adverse = [i for i, m in enumerate(scheme.measures) if detrimental(m.effect, m.factor)]
    stated = (scheme.human_review or "").strip()
    if adverse and not (scheme.referral and platform.referral) and not stated:
        yield REFERRAL_OFF.finding(
            "error",
            "referral",
            f"{len(adverse)} measures deny, surcharge or publish by automated scoring, referral "
            "to a person is turned off, and the scheme states no other way to obtain human "
            "intervention, to give one's view or to contest the decision",
        )
    if adverse and scheme.referral and platform.has_reviewer(scheme.authority.id) is False:
        yield NO_REVIEWER.finding(
            "error",
            "authority.id",
            f"{scheme.authority.id!r} has no reviewer: a referral or a contest of its "
            "decisions would wait for a person who does not exist",
        )
    yield from _exceptions(scheme)


def _automated(scheme: Scheme) -> list[tuple[int, Measure]]:
    """Measures that follow from automated processing alone: on a grade, or on
    a list whose entries no person decides case by case."""
    by_person = {lst.id for lst in scheme.lists if lst.decided_by_person}
    return [(i, m) for i, m in enumerate(scheme.measures) if m.on.list_id not in by_person]


def _exceptions(scheme: Scheme) -> Iterable[Finding]:
    """Art. 22(1) forbids decisions based solely on automated processing with
    legal or similarly significant effects unless art. 22(2) allows them."""
    law = (scheme.automated_decision_law or "").strip()
    shown = scheme.lawful_basis in _CONTRACT_OR_CONSENT or bool(law)
    automated = _automated(scheme)
    elsewhere = [
        (i, m)
        for i, m in automated
        if _relied_on_elsewhere(scheme, m) and _significant(m.effect, m.factor)
    ]
    if elsewhere:
        actions = ", ".join(sorted({m.action for _, m in elsewhere}))
        how = (
            "explicit consent or a contract must cover the partners' use"
            if shown and not law
            else "no art. 22(2) exception is shown"
            if not shown
            else f"the law named ({law}) must lay down suitable safeguards"
        )
        yield SCORE_RELIED_ON.finding(
            "warning" if shown else "error",
            f"measures[{elsewhere[0][0]}]",
            f"the scheme's grades or lists decide {actions} for another party or context: "
            f"whoever relies on them there relies on an automated decision; {how}",
        )
    if shown or (scheme.human_review or "").strip():
        return
    own = [
        (i, m)
        for i, m in automated
        if not _relied_on_elsewhere(scheme, m) and m.effect in ("deny", "publish")
    ]
    if own:
        actions = ", ".join(sorted({m.action for _, m in own}))
        yield LEGAL_EFFECT.finding(
            "warning",
            f"measures[{own[0][0]}]",
            f"{actions}: decided by the scheme's rules alone, with legal or similarly significant "
            f"effect, under {scheme.lawful_basis}; the file names no law that authorises such "
            "decisions and no safeguard of its own",
        )


def _relied_on_elsewhere(scheme: Scheme, measure: Measure) -> bool:
    """Another party acts on the scheme's grades or lists: in another context,
    or named as the one who applies the measure."""
    other_party = measure.applied_by not in (None, scheme.authority.id)
    return measure.context != scheme.context or other_party


def _significant(effect: str, factor: float | None) -> bool:
    """Refusing, publishing, or setting a price or a deposit on the score's
    strength: a waiver for some is a charge for the rest."""
    return effect in ("deny", "publish") or (effect == "adjust" and factor != 1)


def lint_eu(
    definition: Scheme | Memorandum, schemes: Mapping[str, Scheme], platform: Platform
) -> list[Finding]:
    if isinstance(definition, Memorandum):
        return lint_memorandum(definition, schemes[definition.on.scheme])
    return lint_scheme(definition, platform)


__all__ = ["DISPROPORTIONATE_FACTOR", "RULES", "detrimental", "lint_eu"]
