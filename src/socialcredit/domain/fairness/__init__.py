"""The fairness audit: who a scheme's grades and lists fall on, by coarse
attributes that never feed a score."""

from socialcredit.domain.fairness.attributes import (
    DIMENSIONS,
    AuditAttributes,
    audit_attributes,
    group_label,
    parse_dimensions,
)
from socialcredit.domain.fairness.figures import (
    FOUR_FIFTHS,
    MIN_GROUP,
    GroupCounts,
    GroupFinding,
    Interval,
    findings,
    suppressed,
    wilson,
)

__all__ = [
    "DIMENSIONS",
    "FOUR_FIFTHS",
    "MIN_GROUP",
    "AuditAttributes",
    "GroupCounts",
    "GroupFinding",
    "Interval",
    "audit_attributes",
    "findings",
    "group_label",
    "parse_dimensions",
    "suppressed",
    "wilson",
]
