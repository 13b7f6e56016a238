"""Check decisions: may this subject do this action at t, and why (DESIGN.md §3 "Check")."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from socialcredit.domain.schemes.compiled import MeasureIndex, MeasureSource
from socialcredit.domain.schemes.models import EFFECTS_STRONGEST_FIRST
from socialcredit.domain.scoring.engine import ListEntry, ListStanding, SchemeEvaluation

# What a check reads of one scheme: its whole evaluation, or where no measure on
# the action is on a grade (or a list held by grade), only its record-caused entries.
Standing = SchemeEvaluation | ListStanding

_STRENGTH: dict[str, int] = {effect: rank for rank, effect in enumerate(EFFECTS_STRONGEST_FIRST)}


# Frozen but not slotted: every check builds a Reason per measure that applies
# and logs them as JSON, and orjson writes an instance's __dict__ several times
# faster than it reads a slotted one field by field (see _reason for building).
@dataclass(frozen=True)
class Reason:
    """One measure that applies, and what made it apply."""

    effect: str
    factor: float | None
    source: str  # "grade", "list" or "memorandum"
    scheme: str
    authority: str
    context: str
    rationale: str
    grade: str | None = None
    list: str | None = None
    list_kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    memorandum: str | None = None
    records: tuple[str, ...] = ()
    via: str | None = None  # e.g. "legal_representative of cn-uscc:913710********0001"


@dataclass(frozen=True, slots=True)
class Decision:
    action: str
    at: datetime
    effect: str
    factor: float | None
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Representation:
    """A business's evaluations that reach a person through a link such as
    legal representative (only lists declaring that reach are used)."""

    role: str
    represented: str  # the business's masked identifier, for the reason text
    evaluations: Mapping[str, Standing]


def decide(
    action: str,
    t: datetime,
    index: MeasureIndex,
    evaluations: Mapping[str, Standing],
    representations: Sequence[Representation] = (),
    list_reach: Mapping[tuple[str, str], frozenset[str]] | None = None,
) -> Decision:
    """Gather every measure on ``action`` that applies and combine them.

    ``evaluations`` are the subject's own, keyed by scheme id, for at least
    the schemes ``index.schemes_for(action)`` names. ``list_reach`` maps
    (scheme, list) to the link roles the list's measures reach."""
    reasons: list[Reason] = []
    for source in index.sources(action):
        evaluation = evaluations.get(source.scheme)
        if evaluation is not None:
            reasons.extend(_own_reasons(source, evaluation))
        for link in representations:
            linked = link.evaluations.get(source.scheme)
            if linked is None or source.list is None:
                continue
            if link.role in (list_reach or {}).get((source.scheme, source.list), frozenset()):
                via = f"{link.role} of {link.represented}"
                reasons.extend(_list_reasons(source, linked.entries, via))
    return combine(action, t, reasons)


def combine(action: str, t: datetime, reasons: list[Reason]) -> Decision:
    """The strongest effect present; with ``adjust``, the product of every factor."""
    if not reasons:
        return Decision(action, t, "allow", None, ())
    effect = min((r.effect for r in reasons), key=_STRENGTH.__getitem__)
    factor = None
    if effect == "adjust":
        # Sorted so that the float product does not depend on the order of the reasons.
        # A factor of 0 (a waiver) takes part: the product is then 0.
        factor = math.prod(
            sorted(r.factor for r in reasons if r.effect == "adjust" and r.factor is not None)
        )
    # A fixed order, so that the same facts always log the same decision.
    reasons.sort(key=_reason_order)
    return Decision(action, t, effect, factor, tuple(reasons))


def _reason_order(reason: Reason) -> tuple[str, ...]:
    return (
        reason.scheme,
        reason.memorandum or "",
        reason.list or "",
        reason.grade or "",
        reason.via or "",
        reason.authority,
        reason.effect,
    )


def _own_reasons(source: MeasureSource, evaluation: Standing) -> list[Reason]:
    if source.grades is not None:
        if not isinstance(evaluation, SchemeEvaluation):
            raise ValueError(f"a measure on {source.scheme}'s grades needs its score evaluated")
        explanation = evaluation.explanation
        if explanation.grade is None or explanation.grade not in source.grades:
            return []
        return [
            _reason(source, explanation.grade, records=tuple(c.record for c in explanation.counted))
        ]
    return _list_reasons(source, evaluation.entries, None)


def _list_reasons(
    source: MeasureSource, entries: Sequence[ListEntry], via: str | None
) -> list[Reason]:
    found = []
    for entry in entries:
        if entry.list == source.list:
            found.append(
                _reason(
                    source,
                    entry.grade,
                    entry.list,
                    entry.kind,
                    entry.since,
                    entry.until,
                    entry.records,
                    via,
                )
            )
    return found


def _reason(
    source: MeasureSource,
    grade: str | None,
    list_id: str | None = None,
    list_kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    records: tuple[str, ...] = (),
    via: str | None = None,
) -> Reason:
    # The frozen instance's attributes in one dict, in field order (the order
    # its JSON is logged in): a third of the cost of the generated __init__,
    # which sets each field through object.__setattr__. A test holds the two equal.
    kind = "memorandum" if source.memorandum else ("grade" if source.grades else "list")
    reason = _new_object(Reason)
    _set_attribute(
        reason,
        "__dict__",
        {
            "effect": source.effect,
            "factor": source.factor,
            "source": kind,
            "scheme": source.scheme,
            "authority": source.authority,
            "context": source.context,
            "rationale": source.rationale,
            "grade": grade,
            "list": list_id,
            "list_kind": list_kind,
            "since": since,
            "until": until,
            "memorandum": source.memorandum,
            "records": records,
            "via": via,
        },
    )
    return reason


_new_object = object.__new__
_set_attribute = object.__setattr__


def reasons_json(reasons: Sequence[Reason]) -> str:
    """A decision's reasons as the audit log keeps them: a JSON list of objects,
    each with the fields of :class:`Reason` in declaration order and times as
    ``...Z``. orjson writes a dataclass instance's ``__dict__`` directly, which is
    faster than building a dict per reason; every check logs its reasons, and a
    test holds this equal to the reason view of ``entrypoints/views.py``."""
    return orjson.dumps(reasons, option=orjson.OPT_UTC_Z).decode()
