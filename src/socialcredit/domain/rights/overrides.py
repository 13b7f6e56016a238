"""Human review of adverse automated decisions (GDPR art. 22(3)).

A reviewer who overrides a decision sets, for one subject and one action, the
effect that later checks give for a stated period. Checks apply it on top of
what the schemes decide, and say so among the decision's reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from socialcredit.domain.sanctions.check import Decision, Reason


def adverse(effect: str, factor: float | None) -> bool:
    """Whether a decision goes against the subject: a denial, or a price raised.
    An adjustment by a factor of 1 or less (a discount, a waived deposit) is a benefit."""
    return effect == "deny" or (effect == "adjust" and factor is not None and factor > 1)


# The same rule in SQL, for the store's search for decisions to tell subjects about.
ADVERSE_SQL = "(effect = 'deny' OR (effect = 'adjust' AND factor > 1))"


class Override(NamedTuple):
    subject: str
    action: str
    effect: str
    factor: float | None
    since: datetime
    until: datetime
    case: str
    scheme: str
    reviewer: str  # the reviewer's authority
    reason: str
    made_at: datetime  # when the ledger learnt of it: a check as at an earlier time ignores it


def in_force(override: Override, t: datetime) -> bool:
    return override.made_at <= t and override.since <= t < override.until


def apply_overrides(decision: Decision, overrides: Sequence[Override]) -> Decision:
    """The decision after any override in force at its time (the latest made wins)."""
    current = [o for o in overrides if o.action == decision.action and in_force(o, decision.at)]
    if not current:
        return decision
    chosen = max(current, key=lambda o: (o.made_at, o.case))
    reason = Reason(
        effect=chosen.effect,
        factor=chosen.factor,
        source="override",
        scheme=chosen.scheme,
        authority=chosen.reviewer,
        context="human review (GDPR art. 22)",
        rationale=f"case {chosen.case}: {chosen.reason}",
        since=chosen.since,
        until=chosen.until,
    )
    return replace(
        decision,
        effect=chosen.effect,
        factor=chosen.factor,
        reasons=(reason, *decision.reasons),
    )
