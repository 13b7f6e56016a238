"""The shape of the linter's rules and findings, and the facts it knows about
the platform a scheme runs on.

A rule enforces one provision. Its entry in ``docs/compliance.md`` quotes the
provision, says when the rule fires and why at that severity, and names the
test that holds it; ``tests/unit/test_compliance_doc.py`` keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Profile = Literal["eu", "cn"]
PROFILES: tuple[Profile, ...] = ("eu", "cn")
Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    rule: str  # the rule's id, as in docs/compliance.md
    provision: str  # article, paragraph and point
    path: str  # where in the file
    message: str  # what is wrong, in this file's terms
    fix: str  # how to put it right

    def __str__(self) -> str:
        return f"{self.path}: {self.severity}: {self.provision}: {self.message}"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    profile: Profile
    provision: str
    fix: str

    def finding(self, severity: Severity, path: str, message: str) -> Finding:
        return Finding(severity, self.id, self.provision, path, message, self.fix)


@dataclass(frozen=True, slots=True)
class Platform:
    """What the platform itself guarantees every subject, whatever the scheme
    says, so that the linter asks a scheme only for what it can get wrong.

    ``reviewers`` are the authorities with at least one reviewer to answer
    referrals and contests; ``None`` when the linter runs without a ledger and
    cannot know."""

    # A denial or a raised price can be referred to a person (``refer``).
    referral: bool = True
    # Any record can be contested, its effect frozen meanwhile: the human
    # intervention for what records bring about, list entries and grades
    # included, and so for publications, which cannot be referred.
    contest: bool = True
    reviewers: frozenset[str] | None = None

    def has_reviewer(self, authority: str) -> bool | None:
        return None if self.reviewers is None else authority in self.reviewers


THIS_PLATFORM = Platform()


def has_errors(findings: Sequence[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


__all__ = [
    "PROFILES",
    "THIS_PLATFORM",
    "Finding",
    "Platform",
    "Profile",
    "Rule",
    "Severity",
    "has_errors",
]
