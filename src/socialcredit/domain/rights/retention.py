"""Retention: a scheme keeps a record for its ``retention`` period from the
conduct it describes (``occurred_at``), and not a moment longer."""

from __future__ import annotations

from datetime import datetime

from socialcredit.domain.ledger.records import Record
from socialcredit.domain.schemes.durations import Duration


def kept_until(record: Record, retention: Duration) -> datetime:
    return retention.after(record.occurred_at)


def past_retention(record: Record, retention: Duration, now: datetime) -> bool:
    return now >= kept_until(record, retention)
