"""Credit repair under the PRC rules (DESIGN.md §4): when a record may be repaired.

The rules class dishonest conduct by severity and fix how long it stays
published before the subject may apply to have it repaired:

- minor: normally not published at all, so repair may be sought at once;
- general: published for 3 months to 1 year; repair after 3 months;
- serious: published for 1 to 3 years; repair after 1 year.

The publication period runs from the report (the finding is published when
it is reported). A scheme may allow earlier removal on a stated condition,
as the Supreme People's Court list does once the judgment is performed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from socialcredit.domain.schemes.durations import Duration
from socialcredit.domain.schemes.models import Severity
from socialcredit.domain.times import iso
from socialcredit.errors import RepairRefused

MINIMUM_PUBLICATION: Mapping[Severity, Duration | None] = {
    "minor": None,
    "general": Duration.parse("P3M"),
    "serious": Duration.parse("P1Y"),
}
RULE = "PRC credit-repair rules: repair only after the minimum publication period"


def repair_opens_at(
    severity: Severity,
    reported_at: datetime,
    early_removal: bool,
    wait: Duration | None = None,
) -> datetime:
    """The first instant a repair application for such a record may be made:
    after the scheme's own ``wait`` for the severity where it sets one (the
    cn linter reports one shorter than the minimum), else the minimum."""
    minimum = wait if wait is not None else MINIMUM_PUBLICATION[severity]
    if early_removal or minimum is None:
        return reported_at
    return minimum.after(reported_at)


def check_application(
    record_id: str,
    severity: Severity,
    reported_at: datetime,
    early_removal: bool,
    now: datetime,
    wait: Duration | None = None,
) -> None:
    opens = repair_opens_at(severity, reported_at, early_removal, wait)
    if now < opens:
        if wait is not None:
            why = f"its scheme lets {severity} conduct be repaired {wait} after its report"
        else:
            minimum = MINIMUM_PUBLICATION[severity]
            why = f"{RULE}: {severity} conduct is published for at least {minimum}"
        raise RepairRefused(
            f"record {record_id!r}, reported {reported_at.date().isoformat()}: a repair "
            f"application is possible from {iso(opens)} ({why})",
            opens,
        )
