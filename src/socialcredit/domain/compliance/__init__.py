"""Checking a scheme against the law before it runs.

Two profiles: ``eu`` (the AI Act's ban on social scoring and the GDPR) and
``cn`` (the PRC's rules on publishing dishonesty and on credit repair). Every
rule enforces one provision, quoted in docs/compliance.md, and every finding
carries that provision and how to fix it. Pure functions of definitions and of
what the platform guarantees; the entry points format and count them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from socialcredit.domain.compliance import cn, eu
from socialcredit.domain.compliance.rules import (
    PROFILES,
    THIS_PLATFORM,
    Finding,
    Platform,
    Profile,
    Rule,
    has_errors,
)
from socialcredit.domain.schemes.models import Memorandum, Scheme

RULES: dict[str, Rule] = {rule.id: rule for rule in (*eu.RULES, *cn.RULES)}

UNKNOWN_SCHEME = Rule(
    "lint.unknown-scheme",
    "eu",
    "none: the memorandum cannot be judged alone",
    "lint the memorandum together with the scheme it applies to",
)
LAWFUL_BASIS = Rule(
    "eu.lawful-basis",
    "eu",
    "GDPR art. 6(1)",
    "state the scheme's lawful_basis: one of the six of art. 6(1)",
)
RETENTION = Rule(
    "eu.retention",
    "eu",
    "GDPR art. 5(1)(e)",
    "state how long records are kept at all, in retention",
)
RULES.update({r.id: r for r in (LAWFUL_BASIS, RETENTION)})


def lint(
    definition: Scheme | Memorandum,
    profile: Profile,
    schemes: Mapping[str, Scheme],
    platform: Platform = THIS_PLATFORM,
) -> list[Finding]:
    """Findings for one definition under one profile; ``schemes`` resolves
    what memoranda refer to, ``platform`` is what the platform guarantees."""
    if isinstance(definition, Memorandum) and definition.on.scheme not in schemes:
        return [
            UNKNOWN_SCHEME.finding(
                "error",
                "on.scheme",
                f"scheme {definition.on.scheme!r} is not known: lint the memorandum together "
                "with the scheme it applies to",
            )
        ]
    if profile == "eu":
        return eu.lint_eu(definition, schemes, platform)
    return cn.lint_cn(definition, schemes)


# Validation problems that are also legal findings: the fields the law requires.
_REQUIRED_BY_LAW = {"lawful_basis": LAWFUL_BASIS, "retention": RETENTION}


def legal_findings(problems: Iterable[tuple[str, str]]) -> list[Finding]:
    """Findings for validation problems (path, message) that the law names:
    a scheme without a lawful basis or a retention period cannot even load."""
    return [
        _REQUIRED_BY_LAW[path].finding("error", path, f"{path} {message}: the law requires one")
        for path, message in problems
        if path in _REQUIRED_BY_LAW
    ]


__all__ = [
    "PROFILES",
    "RULES",
    "THIS_PLATFORM",
    "Finding",
    "Platform",
    "Profile",
    "Rule",
    "has_errors",
    "legal_findings",
    "lint",
]
