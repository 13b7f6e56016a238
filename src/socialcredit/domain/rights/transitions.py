"""Which record event may follow which: a record is contested while it
stands, reviewed while contested or restricted, repaired or restricted while
it stands, and erased at any point (DESIGN.md §3; GDPR arts. 17 and 18)."""

from __future__ import annotations

from collections.abc import Mapping

from socialcredit.domain.ledger.records import SUSPENDING_STATUSES
from socialcredit.errors import UsageError

ALLOWED_BEFORE: Mapping[str, frozenset[str | None]] = {
    "contested": frozenset({None, "upheld"}),
    "upheld": frozenset({"contested", "restricted"}),
    "overturned": frozenset({"contested", "restricted"}),
    "repaired": frozenset({None, "upheld"}),
    "restricted": frozenset({None, "upheld"}),
    "erased": frozenset({None, "upheld", "contested", "overturned", "repaired", "restricted"}),
}


def check_transition(record_id: str, status: str | None, kind: str) -> None:
    """Refuse an event of ``kind`` on a record whose status is ``status``
    (None: it stands, never contested), saying why."""
    if status in ALLOWED_BEFORE[kind]:
        return
    shown = status or "standing (never contested)"
    if kind in ("upheld", "overturned"):
        raise UsageError(
            f"record {record_id!r} is {shown}: only a contested or restricted record can be reviewed"
        )
    if status in SUSPENDING_STATUSES:
        raise UsageError(f"record {record_id!r} is already {status}")
    raise UsageError(f"record {record_id!r} is {shown} and cannot be {kind}")


__all__ = ["ALLOWED_BEFORE", "check_transition"]
