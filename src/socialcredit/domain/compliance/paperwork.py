"""Records of processing (GDPR art. 30) and DPIA drafts (art. 35), written from
a scheme itself, so that the paperwork says what the code does."""

from __future__ import annotations

from collections.abc import Mapping

from socialcredit.domain.compliance import lint
from socialcredit.domain.schemes.models import Memorandum, Scheme

_BASIS = {
    "consent": "consent (art. 6(1)(a))",
    "contract": "performance of a contract (art. 6(1)(b))",
    "legal_obligation": "a legal obligation (art. 6(1)(c))",
    "vital_interests": "vital interests (art. 6(1)(d))",
    "public_task": "a task in the public interest or official authority (art. 6(1)(e))",
    "legitimate_interests": "legitimate interests (art. 6(1)(f))",
}


def record_of_processing(scheme: Scheme, memoranda: Mapping[str, Memorandum]) -> str:
    """GDPR art. 30(1): controller, purposes, categories, recipients, retention, safeguards."""
    data = sorted({d for c in scheme.categories for d in c.data_categories})
    recipients_ = recipients(scheme, memoranda)
    lines = [
        f"# Record of processing: {scheme.title} (`{scheme.id}`)",
        "",
        f"- **Controller:** {scheme.authority.name} (`{scheme.authority.id}`, {scheme.authority.kind})",
        f"- **Purpose:** {(scheme.description or scheme.title).strip()}",
        f"- **Lawful basis:** {_BASIS[scheme.lawful_basis]}",
        f"- **Data subjects:** {', '.join(scheme.subjects)}",
        f"- **Context of collection:** {scheme.context}",
        f"- **Categories of personal data:** {', '.join(data) or 'none stated'}",
        f"- **Behaviours recorded:** {len(scheme.categories)} categories "
        f"({sum(c.points < 0 for c in scheme.categories)} deductions, "
        f"{sum(c.points > 0 for c in scheme.categories)} rewards)",
        f"- **Recipients:** {', '.join(recipients_) or 'none beyond the controller'}",
        f"- **Retention:** records are kept for {scheme.retention} in all; each counts for its "
        "category's validity",
        "- **Security:** identifiers stored only as keyed hashes and masked forms; every record, "
        "decision and read hash-chained and logged",
        "",
    ]
    return "\n".join(lines)


def dpia_draft(scheme: Scheme, memoranda: Mapping[str, Memorandum]) -> str:
    """GDPR art. 35(7): description, necessity, risks (from the eu lint) and measures; a draft to complete."""
    findings = lint(scheme, "eu", {scheme.id: scheme})
    for memo in memoranda.values():
        if memo.on.scheme == scheme.id:
            findings += lint(memo, "eu", {scheme.id: scheme})
    measures = [
        f"- `{m.action}`: {m.effect}"
        + (f" x{m.factor:g}" if m.factor is not None else "")
        + f" on {'grade ' + '/'.join(m.on.grades) if m.on.grades else 'list ' + str(m.on.list_id)}"
        + f" ({m.context}). {m.rationale.strip()}"
        for m in scheme.measures
    ]
    risks = [
        f"- **{f.severity}** {f.provision} at `{f.path}`: {f.message}. To fix: {f.fix}."
        for f in findings
    ]
    lines = [
        f"# DPIA draft: {scheme.title} (`{scheme.id}`)",
        "",
        "A draft generated from the scheme definition. The controller completes it, consults the "
        "data protection officer (art. 35(2)) and, where risks remain high, the supervisory "
        "authority (art. 36).",
        "",
        "## 1. Systematic description (art. 35(7)(a))",
        "",
        record_of_processing(scheme, memoranda).split("\n", 2)[2].strip(),
        "",
        "### Consequences the scheme attaches",
        "",
        *(measures or ["- none"]),
        "",
        "## 2. Necessity and proportionality (art. 35(7)(b))",
        "",
        f"Lawful basis: {_BASIS[scheme.lawful_basis]}. The controller states here why each "
        "consequence above is necessary for the purpose, and why no less intrusive means would do.",
        "",
        "## 3. Risks to the rights of data subjects (art. 35(7)(c))",
        "",
        *(risks or ["- The eu lint profile finds nothing."]),
        "",
        "## 4. Measures to address the risks (art. 35(7)(d))",
        "",
        f"- Human review: {_human_review(scheme)}",
        "- Every score is explained, every record can be contested (its effect is frozen meanwhile) "
        "and every decision is logged with its reasons.",
        "- Identifiers are pseudonymised with a keyed hash; the subject can obtain everything held "
        "about them.",
        "",
    ]
    return "\n".join(lines)


def recipients(scheme: Scheme, memoranda: Mapping[str, Memorandum]) -> list[str]:
    """Who receives data or decisions derived from the scheme: memorandum signatories
    that apply measures on its lists, and the public when a list is published."""
    found = [
        f"{s.name} (memorandum `{m.id}`)"
        for m in memoranda.values()
        if m.on.scheme == scheme.id
        for s in m.signatories
        if any(x.authority == s.id for x in m.measures)
    ]
    if any(m.effect == "publish" for m in scheme.measures):
        found.append("the public (published lists, masked identifiers)")
    return found


def _human_review(scheme: Scheme) -> str:
    """The art. 22(3) safeguards: the scheme's own, then the platform's referral."""
    own = (scheme.human_review or "").strip()
    if scheme.referral:
        referral = (
            "any adverse decision can be referred to a reviewer of "
            f"{scheme.authority.name}, who must answer within a month (socialcredit refer)"
        )
        return f"{own} Besides, {referral}." if own else referral[0].upper() + referral[1:] + "."
    return own or "NONE: referral is turned off and the scheme states no other way"
