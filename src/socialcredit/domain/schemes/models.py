"""Typed models of the scheme language (DESIGN.md §3b).

The field names are fixed by the design; extensions are added, never renamed.
Structural rules (types, required fields, formats) live here; rules that
relate one part of a definition to another live in ``references.py``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from socialcredit.domain.schemes.durations import Duration, DurationError

SubjectKind = Literal["person", "business", "institution"]
Severity = Literal["minor", "general", "serious"]
Effect = Literal["deny", "allow", "adjust", "publish", "priority"]
LawfulBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
]
Period = Literal["day", "week", "month", "year"]
Reach = Literal["legal_representative"]

SEVERITIES: tuple[Severity, ...] = ("minor", "general", "serious")
EFFECTS_STRONGEST_FIRST: tuple[Effect, ...] = ("deny", "adjust", "publish", "priority", "allow")

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_ACTION = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$")


def _parse_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    try:
        return Duration.parse(value)
    except DurationError as error:
        raise PydanticCustomError("iso_duration", str(error).replace("{", "{{")) from None


def _pattern(kind: str, regex: re.Pattern[str], hint: str) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not regex.match(value):
            text = repr(value).replace("{", "{{")
            raise PydanticCustomError(kind, f"{text} is not a valid {kind}: {hint}")
        return value

    return PlainValidator(check, json_schema_input_type=str)


IsoDuration = Annotated[
    Duration,
    PlainValidator(_parse_duration, json_schema_input_type=str),
    PlainSerializer(lambda d: d.text, return_type=str),
]
Slug = Annotated[str, _pattern("id", _SLUG, "lower-case letters, digits and '-'")]
Code = Annotated[str, _pattern("code", _CODE, "lower-case letters, digits, '.', '_' and '-'")]
Action = Annotated[str, _pattern("action", _ACTION, "dotted lower-case names, e.g. fee.heating")]
# A data-category key: dotted lower-case names, as the taxonomy spells them, so
# that "User.Health" or "user.health " cannot slip past the linter unread.
DataCategory = Annotated[
    str,
    _pattern(
        "data category",
        re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"),
        "dotted lower-case names, e.g. user.health",
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Authority(_Model):
    id: Slug
    name: str
    kind: Literal["government", "commercial"] = "government"


class ScoreRule(_Model):
    base: int
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _range_is_ordered(self) -> ScoreRule:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError("score_range", "min must not exceed max")
        return self


class Grade(_Model):
    name: str = Field(min_length=1)
    min: int | None = None
    description: str | None = None


class ListDefinition(_Model):
    id: Slug
    kind: Literal["black", "red"]
    title: str | None = None
    duration: IsoDuration | None = None
    grades: tuple[str, ...] | None = Field(default=None, min_length=1)
    # Extension: who else the list's measures reach. A business's entry on a
    # list with ``reach: [legal_representative]`` also restricts the person
    # linked to it as legal representative (SPC rules, art. 3).
    reach: tuple[Reach, ...] = ()
    # Extension: the law or regulation that sets the list up. PRC rules allow a
    # dishonesty list only where a law or regulation provides for it; a
    # record-triggered list may rest on its categories' ``legal_basis`` instead.
    legal_basis: str | None = None
    # Extension: each entry is decided by a person, case by case (a court's
    # decision to list a defaulter), so the list's measures rest on that
    # decision rather than on automated processing alone (GDPR art. 22(1)).
    decided_by_person: bool = False


class Limit(_Model):
    count: int = Field(ge=1)
    per: Period


# GDPR art. 9(2): the conditions under which special-category data may be
# processed, by point. The points marked in SPECIAL_CONDITIONS_NEEDING_LAW
# hold only where Union or Member State law (or, for (b), a collective
# agreement) provides for the processing.
SpecialConditionName = Literal[
    "explicit-consent",  # (a)
    "employment-and-social-security",  # (b)
    "vital-interests",  # (c)
    "not-for-profit-body",  # (d)
    "made-public-by-the-subject",  # (e)
    "legal-claims",  # (f)
    "substantial-public-interest",  # (g)
    "health-or-social-care",  # (h)
    "public-health",  # (i)
    "archiving-research-statistics",  # (j)
]
SPECIAL_CONDITION_POINTS: dict[str, str] = {
    "explicit-consent": "a",
    "employment-and-social-security": "b",
    "vital-interests": "c",
    "not-for-profit-body": "d",
    "made-public-by-the-subject": "e",
    "legal-claims": "f",
    "substantial-public-interest": "g",
    "health-or-social-care": "h",
    "public-health": "i",
    "archiving-research-statistics": "j",
}
SPECIAL_CONDITIONS_NEEDING_LAW = frozenset(
    name for name, point in SPECIAL_CONDITION_POINTS.items() if point in "bghij"
)


class SpecialCondition(_Model):
    """Extension: the GDPR art. 9(2) condition a category's special-category
    data are processed under, and the law that provides for it where the
    condition needs one."""

    condition: SpecialConditionName
    law: str | None = None


class PublicSource(_Model):
    """Extension: a public register the category's records are copied from,
    and how long that register keeps them (CJEU C-26/22 and C-64/22)."""

    name: str
    kept_for: IsoDuration


class Category(_Model):
    code: Code
    title: str
    points: int = 0
    severity: Severity
    validity: IsoDuration
    grade_cap: str | None = None
    limit: Limit | None = None
    lists: tuple[Slug, ...] = ()
    data_categories: tuple[DataCategory, ...] = ()
    legal_basis: str | None = None
    # Extension: the art. 9(2) condition for special-category data.
    special_condition: SpecialCondition | None = None
    # Extension: the law that authorises a body other than a public authority
    # to process criminal-offence data, with its safeguards (GDPR art. 10).
    criminal_data_law: str | None = None
    # Extension: the public register the records come from, if any.
    source: PublicSource | None = None


class MeasureTarget(_Model):
    grades: tuple[str, ...] | None = Field(default=None, min_length=1)
    list_id: Slug | None = Field(default=None, alias="list")

    @model_validator(mode="after")
    def _exactly_one(self) -> MeasureTarget:
        if (self.grades is None) == (self.list_id is None):
            raise PydanticCustomError("measure_target", "give exactly one of 'grades' or 'list'")
        return self


class _Consequence(_Model):
    action: Action
    effect: Effect
    # ge=0: a factor of 0 is a waiver (a deposit adjusted by 0 is not asked for).
    factor: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    context: str
    rationale: str

    @model_validator(mode="after")
    def _factor_only_with_adjust(self) -> _Consequence:
        if self.effect == "adjust" and self.factor is None:
            raise PydanticCustomError("factor", "an 'adjust' measure needs a factor")
        if self.effect != "adjust" and self.factor is not None:
            raise PydanticCustomError("factor", "only an 'adjust' measure takes a factor")
        return self


class Measure(_Consequence):
    on: MeasureTarget
    # Extension: who applies the measure, where it is not the scheme's own
    # authority: a bank refusing credit on a credit agency's score, a hotel
    # waiving a deposit. Such a party relies on the scheme's automated decision
    # (CJEU C-634/21).
    applied_by: str | None = None


def _severity_waits(value: Any) -> tuple[tuple[Severity, Duration], ...]:
    """``{general: P6M}`` as sorted pairs, so that a scheme stays hashable."""
    if isinstance(value, tuple):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("repair_after", "give a mapping of severity to duration")
    pairs = []
    for severity, text in value.items():
        if severity not in SEVERITIES:
            raise PydanticCustomError(
                "repair_after", f"{severity!r} is not minor, general or serious".replace("{", "{{")
            )
        pairs.append((severity, _parse_duration(text)))
    return tuple(sorted(pairs, key=lambda pair: SEVERITIES.index(pair[0])))


SeverityWaits = Annotated[
    tuple[tuple[Severity, Duration], ...],
    PlainValidator(_severity_waits, json_schema_input_type=dict[str, str]),
    PlainSerializer(lambda pairs: {s: d.text for s, d in pairs}, return_type=dict[str, str]),
]


class RepairRule(_Model):
    """Extension: how credit repair works in a scheme beyond the PRC defaults
    (repair after the minimum publication period of the record's severity)."""

    # The condition on which a record may be removed before that period, such as
    # performing the judgment for the SPC list. A reviewer checks it is met.
    early_removal: str | None = None
    # How long after its report a record of each severity may be repaired, where
    # the scheme sets its own wait (the PRC minimum otherwise).
    after: SeverityWaits = ()

    def wait(self, severity: Severity) -> Duration | None:
        """The scheme's own wait before a record of this severity may be repaired."""
        return dict(self.after).get(severity)


FACTOR_MEASURES: tuple[str, ...] = ("count", "sum", "ratio", "age", "recency")


class Ratio(_Model):
    """Records of the ``numerator`` categories per record of the ``denominator`` ones."""

    numerator: tuple[Code, ...] = Field(min_length=1)
    denominator: tuple[Code, ...] = Field(min_length=1)


class Bin(_Model):
    """Values below ``below`` (and at or above the bin before) score ``points``;
    the last bin has no ``below`` and holds the rest."""

    below: float | None = Field(default=None, allow_inf_nan=False)
    points: int


class Factor(_Model):
    """Extension: one scorecard factor, computed from the records that count at t."""

    id: Slug
    title: str
    # Exactly one measure, each over category codes.
    count: tuple[Code, ...] | None = Field(default=None, min_length=1)
    sum: tuple[Code, ...] | None = Field(default=None, min_length=1)
    ratio: Ratio | None = None
    age: tuple[Code, ...] | None = Field(default=None, min_length=1)
    recency: tuple[Code, ...] | None = Field(default=None, min_length=1)
    # Only records that occurred less than this long before t.
    window: IsoDuration | None = None
    bins: tuple[Bin, ...] = Field(min_length=1)
    # Points when the value is missing: a ratio over nothing, an age or recency with no record.
    missing: int = 0

    @model_validator(mode="after")
    def _exactly_one_measure(self) -> Factor:
        given = [name for name in FACTOR_MEASURES if getattr(self, name) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "factor_measure",
                "give exactly one measure: count, sum, ratio, age or recency"
                + (f" (found {', '.join(given)})" if given else ""),
            )
        return self

    @property
    def measure(self) -> str:
        return next(name for name in FACTOR_MEASURES if getattr(self, name) is not None)

    @property
    def codes(self) -> tuple[str, ...]:
        """Every category code the factor reads."""
        if self.ratio is not None:
            return (*self.ratio.numerator, *self.ratio.denominator)
        found: tuple[str, ...] = getattr(self, self.measure)
        return found


class Dimension(_Model):
    id: Slug
    title: str
    factors: tuple[Factor, ...] = Field(min_length=1)


class Scorecard(_Model):
    """Extension: score by binned factors grouped in dimensions instead of by
    the sum of record points (docs/schemes.md, *Scorecards*)."""

    dimensions: tuple[Dimension, ...] = Field(min_length=1)

    @property
    def factors(self) -> tuple[tuple[Dimension, Factor], ...]:
        return tuple((d, f) for d in self.dimensions for f in d.factors)


class LocationRule(_Model):
    """Extension: what a scheme keeps of where its subjects are (docs/mobility.md).

    ``precision: coarse`` keeps only a cell of about 1 km and the zone verdict;
    ``precise`` also keeps exact trip ends, but only for subjects who consent to
    the purpose ``precise-location``. ``background: true`` accepts positions
    outside a trip, only from subjects who consent to ``background-location``."""

    precision: Literal["precise", "coarse"] = "coarse"
    background: bool = False


class Scheme(_Model):
    type: Literal["scheme"]
    id: Slug
    title: str
    description: str | None = None
    authority: Authority
    context: str
    lawful_basis: LawfulBasis
    subjects: tuple[SubjectKind, ...] = Field(min_length=1)
    retention: IsoDuration
    score: ScoreRule | None = None
    grades: tuple[Grade, ...] = ()
    lists: tuple[ListDefinition, ...] = ()
    categories: tuple[Category, ...] = ()
    measures: tuple[Measure, ...] = ()
    # Extension: the public sources the definition rests on.
    sources: tuple[str, ...] = ()
    # Extension: how a person can have an adverse automated decision reviewed
    # by a human (GDPR art. 22(3)), beyond the platform's own referral: the
    # scheme's stated safeguard.
    human_review: str | None = None
    # Extension: whether a subject may refer the scheme's adverse decisions to a
    # reviewer of its authority through the platform (``socialcredit refer``).
    # On by default; a scheme modelling a system without it turns it off.
    referral: bool = True
    # Extension: the law that authorises the scheme's automated decisions and
    # lays down safeguards for them (GDPR art. 22(2)(b)).
    automated_decision_law: str | None = None
    # Extension: credit-repair rules beyond the PRC defaults.
    repair: RepairRule | None = None
    # Extension: how often scores are recomputed. "monthly": the scheme answers
    # at t as it stood at the start of t's month (UTC), with what was known then.
    recompute: Literal["monthly"] | None = None
    # Extension: the purposes a subject may consent to, each on its own (GDPR
    # art. 7(2)); consent to "scoring" is what lets a consent scheme count records.
    purposes: tuple[Slug, ...] = ("scoring",)
    # Extension: location data, for schemes that rate where and how people move
    # (bike sharing). Absent: the scheme takes no positions.
    location: LocationRule | None = None
    # Extension: score = clamp(base + points of the binned factors, min, max)
    # instead of base + record points (docs/schemes.md, *Scorecards*).
    scorecard: Scorecard | None = None

    @model_validator(mode="after")
    def _consent_scheme_scores_by_consent(self) -> Scheme:
        if self.lawful_basis == "consent" and "scoring" not in self.purposes:
            raise PydanticCustomError(
                "purposes", "a scheme with lawful_basis consent must list the purpose 'scoring'"
            )
        return self


class Signatory(_Model):
    id: Slug
    name: str


class MemorandumTarget(_Model):
    scheme: Slug
    list_id: Slug = Field(alias="list")


class MemorandumMeasure(_Consequence):
    authority: Slug


class Memorandum(_Model):
    type: Literal["memorandum"]
    id: Slug
    title: str
    description: str | None = None
    signatories: tuple[Signatory, ...] = Field(min_length=1)
    on: MemorandumTarget
    measures: tuple[MemorandumMeasure, ...] = Field(min_length=1)
    sources: tuple[str, ...] = ()


Definition = Scheme | Memorandum
