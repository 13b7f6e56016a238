"""Records and record events: the immutable facts everything else is computed from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, NamedTuple

EventKind = Literal["contested", "upheld", "overturned", "repaired", "erased", "restricted"]
EVENT_KINDS: tuple[EventKind, ...] = (
    "contested",
    "upheld",
    "overturned",
    "repaired",
    "erased",
    "restricted",
)

# Statuses under which a record stops counting (DESIGN.md §3); ``upheld`` counts.
# ``restricted`` (GDPR art. 18) is an extension: erasure was asked for where
# the lawful basis does not allow it, so the record is frozen until reviewed.
SUSPENDING_STATUSES: frozenset[str] = frozenset(
    {"contested", "overturned", "repaired", "erased", "restricted"}
)

# What an erased record's category reads after erasure: its contents are gone
# (only id, subject, place in the chain, scheme and reporter stay), so nothing
# about it can count or be shown, at any time.
ERASED = ""


class Record(NamedTuple):
    """One reported fact. ``points`` and ``expires_at`` are fixed at report time
    from the scheme version the record was reported under.

    A named tuple rather than a frozen dataclass: just as immutable, and several
    times cheaper to build, which matters when every score and check builds
    each of the subject's records from a database row."""

    id: str
    subject: str  # the subject's keyed hash, never the raw identifier
    scheme: str
    scheme_version: int
    category: str
    occurred_at: datetime
    reported_at: datetime
    expires_at: datetime
    points: int
    reporter: str
    evidence: str | None = None


class RecordEvent(NamedTuple):
    record: str
    kind: EventKind
    at: datetime
    actor: str
    reason: str | None = None
    # Only on an ``erased`` event: "<hash before the record>:<the record's hash>",
    # which lets ``verify`` check the chain across the record once its contents are gone.
    seal: str | None = None


def status_at(events: Sequence[RecordEvent], t: datetime) -> EventKind | None:
    """The record's status at ``t``: the kind of the last event at or before ``t``.

    ``events`` must be in the order they were appended (ledger order), which
    also breaks ties between events with the same time."""
    status: EventKind | None = None
    for event in events:
        if event.at <= t:
            status = event.kind
    return status
