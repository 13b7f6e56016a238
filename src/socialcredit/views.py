"""JSON shapes of scores, decisions and list entries, shared by the CLI's
``--json`` and the HTTP API so that both say the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from socialcredit.domain.ledger.values import StoredDefinition
from socialcredit.domain.rights.cases import Case
from socialcredit.domain.sanctions.check import Reason
from socialcredit.domain.scoring.engine import ListEntry, SchemeEvaluation
from socialcredit.domain.scoring.scorecard import dimension_points


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def score_view(evaluation: SchemeEvaluation, subject: str) -> dict[str, Any]:
    e = evaluation.explanation
    return {
        "subject": subject,
        "scheme": e.scheme,
        "version": e.version,
        "at": iso(e.at),
        "enrolled": e.enrolled,
        "score": e.score,
        "grade": e.grade,
        "band": e.band,
        "base": e.base,
        "cap": (
            {"grade": e.cap.grade, "record": e.cap.record, "category": e.cap.category}
            if e.cap
            else None
        ),
        "counted": [
            {
                "record": c.record,
                "category": c.category,
                "points": c.points,
                "occurred_at": iso(c.occurred_at),
                "expires_at": iso(c.expires_at),
            }
            for c in e.counted
        ],
        "excluded": [
            {"record": x.record, "category": x.category, "reason": x.reason} for x in e.excluded
        ],
        # A scorecard scheme's factors and per-dimension subtotals (empty otherwise):
        # score = clamp(base + sum of their points, min, max).
        "factors": [
            {
                "dimension": f.dimension,
                "factor": f.factor,
                "value": f.value,
                "bin": f.bin,
                "points": f.points,
            }
            for f in e.factors
        ],
        "dimensions": [
            {"dimension": dimension, "points": points}
            for dimension, points in dimension_points(e.factors).items()
        ],
        "lists": [entry_view(entry) for entry in evaluation.entries],
    }


def entry_view(entry: ListEntry) -> dict[str, Any]:
    return {
        "scheme": entry.scheme,
        "list": entry.list,
        "kind": entry.kind,
        "since": iso(entry.since),
        "until": iso(entry.until),
        "records": list(entry.records),
        "grade": entry.grade,
    }


def reason_view(reason: Reason) -> dict[str, Any]:
    view: dict[str, Any] = {
        "effect": reason.effect,
        "factor": reason.factor,
        "source": reason.source,
        "scheme": reason.scheme,
        "authority": reason.authority,
        "context": reason.context,
        "rationale": reason.rationale,
        "grade": reason.grade,
        "list": reason.list,
        "list_kind": reason.list_kind,
        "since": iso(reason.since),
        "until": iso(reason.until),
        "memorandum": reason.memorandum,
        "records": list(reason.records),
        "via": reason.via,
    }
    return view


def reasons_json(reasons: Sequence[Reason]) -> str:
    """``orjson.dumps([reason_view(r) for r in reasons])``, the form a decision's
    reasons are logged in, without building a dict per reason: orjson writes a
    dataclass instance's ``__dict__``, which holds the fields in declaration
    order, the order of :func:`reason_view`, and with ``OPT_UTC_Z`` a UTC time
    the way :func:`iso` does. Every check logs its reasons; a test holds the two
    forms equal."""
    return orjson.dumps(reasons, option=orjson.OPT_UTC_Z).decode()


def check_view(decision_id: str, subject: str, decision: Any) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "subject": subject,
        "action": decision.action,
        "at": iso(decision.at),
        "effect": decision.effect,
        "factor": decision.factor,
        "reasons": [reason_view(r) for r in decision.reasons],
    }


def latest_definitions(stored: list[StoredDefinition]) -> list[StoredDefinition]:
    """The latest version of every scheme and memorandum, schemes first, by id."""
    latest = {row.id: row for row in stored}  # rows come ordered by id, version
    return sorted(latest.values(), key=lambda r: (r.type, r.id))


def definition_summary(row: StoredDefinition) -> dict[str, Any]:
    return {"id": row.id, "type": row.type, "version": row.version, "added_at": iso(row.added_at)}


def definition_view(row: StoredDefinition, versions: list[int]) -> dict[str, Any]:
    return {**definition_summary(row), "versions": versions, "digest": row.digest, "text": row.text}


def case_view(case: Case, masked: str, now: datetime) -> dict[str, Any]:
    """A due-process case as the CLI's ``--json`` and the HTTP API show it."""
    return {
        "id": case.id, "kind": case.kind, "subject": masked, "record": case.record,
        "decision": case.decision, "scheme": case.scheme, "authorities": list(case.authorities),
        "statement": case.statement, "evidence": case.evidence, "opened_at": iso(case.opened_at),
        "opened_by": case.opened_by, "due_at": iso(case.due_at), "extended": case.extended,
        "outcome": case.outcome, "decided_at": iso(case.decided_at), "decided_by": case.decided_by,
        "reason": case.reason, "details": dict(case.details), "open": case.open,
        "overdue": case.overdue(now),
    }  # fmt: skip
