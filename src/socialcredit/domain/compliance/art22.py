"""GDPR art. 22 in the ``eu`` profile, judged against what the platform
guarantees: a denial or a raised price can be referred to a reviewer of the
authority, every record can be contested (its effect frozen meanwhile), and
the subject is told of each. What a scheme can still get wrong:

- deciding with legal or similarly significant effect by automated processing
  alone, with no exception of art. 22(2) shown (``eu.automated-decision``);
- letting another party rely on such a decision, the SCHUFA pattern
  (``eu.score-relied-on``, CJEU C-634/21);
- turning referral off where art. 22(3) asks for human intervention
  (``eu.referral-off``);
- running with no reviewer to answer (``eu.no-reviewer``).

A lawful basis stands in for the exceptions: ``contract`` for (a) and
``consent`` for (c), though (a) needs the decision to be necessary for the
contract and (c) needs explicit consent, which the file cannot show;
``automated_decision_law`` for (b).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Literal

from socialcredit.domain.compliance.reading import decided_by_person, praise, rates_people
from socialcredit.domain.compliance.rules import Finding, Platform, Rule
from socialcredit.domain.schemes.models import Measure, Memorandum, MemorandumMeasure, Scheme

AUTOMATED_DECISION = Rule(
    "eu.automated-decision",
    "eu",
    "GDPR art. 22(1) and (2)",
    "rest the decisions on a contract with the subject or explicit consent, name the law that "
    "authorises them in automated_decision_law, or have a person decide each entry "
    "(decided_by_person)",
)
SCORE_RELIED_ON = Rule(
    "eu.score-relied-on",
    "eu",
    "GDPR art. 22(1) and (2) (CJEU C-634/21)",
    "rest the scheme on explicit consent or a contract with the subject that covers the other "
    "party's use, or name the authorising law in automated_decision_law",
)
REFERRAL_OFF = Rule(
    "eu.referral-off",
    "eu",
    "GDPR art. 22(3)",
    "leave referral on, or state in human_review how a person looks at a decision again",
)
NO_REVIEWER = Rule(
    "eu.no-reviewer",
    "eu",
    "GDPR art. 22(3)",
    "create a reviewer key for the authority (socialcredit keys create --role reviewer "
    "--authority ...)",
)

RULES: tuple[Rule, ...] = (AUTOMATED_DECISION, SCORE_RELIED_ON, REFERRAL_OFF, NO_REVIEWER)

Exception = Literal["a", "b", "c"] | None
AnyMeasure = Measure | MemorandumMeasure


def exception(scheme: Scheme) -> Exception:
    """The point of art. 22(2) the file shows, if any."""
    if (scheme.automated_decision_law or "").strip():
        return "b"
    return {"contract": "a", "consent": "c"}.get(scheme.lawful_basis)  # type: ignore[return-value]


def lint_scheme(scheme: Scheme, platform: Platform) -> list[Finding]:
    automated = [
        (i, m)
        for i, m in enumerate(scheme.measures)
        if not decided_by_person(scheme, m) and not praise(scheme, m.on.list_id, m.effect)
    ]
    others = [(i, m) for i, m in automated if m.applied_by not in (None, scheme.authority.id)]
    own = [(i, m) for i, m in automated if m.applied_by in (None, scheme.authority.id)]
    return _for_people(
        scheme,
        [
            *_automated_decision(scheme, own),
            *_relied_on(scheme, others, "the scheme's grades or lists decide"),
            *_referral(scheme, automated, platform),
            *_reviewer(scheme, automated, platform),
        ],
    )


def _for_people(scheme: Scheme, findings: list[Finding]) -> list[Finding]:
    """The GDPR protects natural persons. A scheme that rates only businesses
    or public bodies is reported as a warning: its decisions fall on the people
    who run them, but no data subject's own decision is taken."""
    if rates_people(scheme):
        return findings
    return [replace(f, severity="warning") for f in findings]


def lint_memorandum(memo: Memorandum, scheme: Scheme, platform: Platform) -> list[Finding]:
    """Every measure of a memorandum is another authority relying on the
    scheme's list: unless a person decides each entry, that is the SCHUFA
    pattern, and each of those authorities answers referrals of it."""
    listed = next((lst for lst in scheme.lists if lst.id == memo.on.list_id), None)
    if listed is not None and listed.decided_by_person:
        return []
    measures = [
        (i, m) for i, m in enumerate(memo.measures) if not praise(scheme, memo.on.list_id, m.effect)
    ]
    found = list(_relied_on(scheme, measures, f"{scheme.id}'s list {memo.on.list_id!r} decides"))
    for index, measure in measures:
        if _referable(measure) and platform.has_reviewer(measure.authority) is False:
            found.append(_no_reviewer(measure.authority, f"measures[{index}].authority"))
    return _for_people(scheme, found)


def _significant(measure: AnyMeasure) -> bool:
    """Legal or similarly significant effects: a refusal, a publication, a
    price raised on the score's strength."""
    return measure.effect in ("deny", "publish") or (
        measure.effect == "adjust" and (measure.factor or 0) > 1
    )


def _refusal_or_publication(measures: Iterable[tuple[int, AnyMeasure]]) -> bool:
    """A refusal or a publication has legal effect: an error where nothing
    allows it. Whether a price has a similarly significant effect depends on
    its size and on the subject's situation, which the file cannot show."""
    return any(m.effect in ("deny", "publish") for _, m in measures)


def _automated_decision(scheme: Scheme, own: Sequence[tuple[int, AnyMeasure]]) -> Iterable[Finding]:
    if exception(scheme) is not None:
        return
    significant = [(i, m) for i, m in own if _significant(m)]
    if not significant:
        return
    actions = ", ".join(sorted({m.action for _, m in significant}))
    yield AUTOMATED_DECISION.finding(
        "error" if _refusal_or_publication(significant) else "warning",
        f"measures[{significant[0][0]}]",
        f"{actions}: decided by the scheme's rules alone, with legal or similarly significant "
        f"effect, under {scheme.lawful_basis}; no exception of art. 22(2) is shown (no contract "
        "with the subject, no consent, no authorising law named)",
    )


def _relied_on(
    scheme: Scheme, measures: Sequence[tuple[int, AnyMeasure]], what: str
) -> Iterable[Finding]:
    """Another party acting on the scheme's grades or lists: refusing, publishing,
    or setting a price or a deposit (a waiver for some is a charge for the rest)."""
    relied = [(i, m) for i, m in measures if m.effect in ("deny", "publish", "adjust")]
    if not relied:
        return
    shown = exception(scheme)
    missing = shown is None and _refusal_or_publication(relied)
    actions = ", ".join(sorted({m.action for _, m in relied}))
    yield SCORE_RELIED_ON.finding(
        "error" if missing else "warning",
        f"measures[{relied[0][0]}]",
        f"{what} {actions} for another party: whoever relies on them relies on an automated "
        f"decision; {_what_must_hold(scheme, shown)}",
    )


def _what_must_hold(scheme: Scheme, shown: Exception) -> str:
    if shown is None:
        return "no exception of art. 22(2) is shown"
    if shown == "b":
        return f"the law named ({scheme.automated_decision_law}) must lay down suitable safeguards"
    return "the contract or the explicit consent must cover the other party's use"


def _referable(measure: AnyMeasure) -> bool:
    """What the platform's referral covers: a denial or a raised price."""
    return measure.effect == "deny" or (measure.effect == "adjust" and (measure.factor or 0) > 1)


def _covered(measure: AnyMeasure, scheme: Scheme, platform: Platform) -> bool:
    """Whether a subject has a person to turn to: referral for a denial or a
    raised price (unless the scheme or the platform turns it off), contest of
    the causing records for the rest."""
    if _referable(measure):
        return platform.referral and scheme.referral
    return platform.contest


def _referral(
    scheme: Scheme, automated: Sequence[tuple[int, AnyMeasure]], platform: Platform
) -> Iterable[Finding]:
    """Art. 22(3) asks for human intervention where (a) or (c) allows the
    decision; under (b) the authorising law must provide the safeguards."""
    if (scheme.human_review or "").strip():
        return
    uncovered = [m for _, m in automated if _significant(m) and not _covered(m, scheme, platform)]
    if not uncovered:
        return
    shown = exception(scheme)
    yield REFERRAL_OFF.finding(
        "error" if shown in ("a", "c") else "warning",
        "referral",
        f"{len(uncovered)} measures deny, surcharge or publish by automated scoring, and no "
        "person can be asked to look at such a decision again"
        + ("" if shown in ("a", "c") else "; the law that allows them must give a way"),
    )


def _reviewer(
    scheme: Scheme, automated: Sequence[tuple[int, AnyMeasure]], platform: Platform
) -> Iterable[Finding]:
    if not any(_significant(m) for _, m in automated):
        return
    if platform.has_reviewer(scheme.authority.id) is False:
        yield _no_reviewer(scheme.authority.id, "authority.id")


def _no_reviewer(authority: str, path: str) -> Finding:
    return NO_REVIEWER.finding(
        "error",
        path,
        f"{authority!r} has no reviewer: a referral or a contest of its decisions would wait "
        "for a person who does not exist",
    )


__all__ = ["RULES", "exception", "lint_memorandum", "lint_scheme"]
