"""Consent (GDPR art. 7): granted and withdrawn per subject, scheme and purpose.

A scheme whose lawful basis is consent accepts records only while consent to
its scoring purpose is active, and counts them only while it stays active.
Withdrawing is one call, as easy as granting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

SCORING = "scoring"  # the purpose whose consent lets a consent scheme count records

Period = tuple[datetime, datetime | None]  # [granted, withdrawn)


class ConsentChange(NamedTuple):
    subject: str
    scheme: str
    purpose: str
    granted: bool  # False: withdrawn
    at: datetime
    actor: str


def periods(changes: Iterable[ConsentChange], scheme: str, purpose: str) -> list[Period]:
    """The periods in which consent was active, from changes in the order they were made."""
    found: list[Period] = []
    start: datetime | None = None
    for change in changes:
        if change.scheme != scheme or change.purpose != purpose:
            continue
        if change.granted and start is None:
            start = change.at
        elif not change.granted and start is not None:
            found.append((start, change.at))
            start = None
    if start is not None:
        found.append((start, None))
    return found


def active_at(spans: Sequence[Period], t: datetime) -> bool:
    return any(start <= t and (end is None or t < end) for start, end in spans)


class ConsentStanding(NamedTuple):
    """A subject's consent to one scheme for one purpose, as it stands."""

    scheme: str
    purpose: str
    active: bool
    periods: list[Period]


def standings(changes: Sequence[ConsentChange], now: datetime) -> list[ConsentStanding]:
    """Each (scheme, purpose) the subject ever consented to, in that order, with
    its periods and whether it is active at ``now``."""
    pairs = sorted({(change.scheme, change.purpose) for change in changes})
    found = []
    for scheme, purpose in pairs:
        spans = periods(changes, scheme, purpose)
        found.append(ConsentStanding(scheme, purpose, active_at(spans, now), spans))
    return found
