"""Every JSON shape the system shows, written once: the CLI's ``--json``, the
HTTP API and the access export page all render through these, so that they
say the same thing in the same words."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from socialcredit.domain.consent import ConsentStanding
from socialcredit.domain.fairness import FOUR_FIFTHS, GroupFinding, Interval
from socialcredit.domain.ledger.values import DecisionRow, StoredKey
from socialcredit.domain.rights.notices import Notice, StoredNotice
from socialcredit.domain.sanctions.check import Decision, Reason
from socialcredit.domain.schemes.loader import StoredDefinition
from socialcredit.domain.schemes.scorecard import dimension_points
from socialcredit.domain.scoring.engine import ListEntry, SchemeEvaluation
from socialcredit.domain.times import iso
from socialcredit.services.casework import ShownCase
from socialcredit.services.checks import CheckResult, ListedEntry
from socialcredit.services.export import AccessExport, SchemePart
from socialcredit.services.fairness import FairnessReport
from socialcredit.services.imports import ImportReport, Rejection
from socialcredit.services.records import RecordState
from socialcredit.services.retention import RetentionReport

# -- scores, decisions, lists ----------------------------------------------------------


def score_view(evaluation: SchemeEvaluation, subject: str) -> dict[str, Any]:
    e = evaluation.explanation
    cap = e.cap
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
        "cap": {"grade": cap.grade, "record": cap.record, "category": cap.category}
        if cap
        else None,
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


def listed_view(listed: ListedEntry) -> dict[str, Any]:
    """An entry of a published or enquired list: the subject masked, never in clear."""
    return {"subject": listed.subject, "subject_kind": listed.kind, **entry_view(listed.entry)}


def reason_view(reason: Reason) -> dict[str, Any]:
    return {
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


def check_view(result: CheckResult) -> dict[str, Any]:
    return decision_answer(result.decision_id, result.subject, result.decision)


def decision_answer(decision_id: str, subject: str, decision: Decision) -> dict[str, Any]:
    return {
        "decision_id": decision_id,
        "subject": subject,
        "action": decision.action,
        "at": iso(decision.at),
        "effect": decision.effect,
        "factor": decision.factor,
        "reasons": [reason_view(r) for r in decision.reasons],
    }


def decision_view(decision: DecisionRow) -> dict[str, Any]:
    """A logged decision, as its subject reads it back."""
    d = decision
    return {
        "decision_id": d.id,
        "action": d.action,
        "at": iso(d.at),
        "effect": d.effect,
        "factor": d.factor,
        "reasons": orjson.loads(d.reasons_json),
        "asked_at": iso(d.asked_at),
        "asked_by": d.asked_by,
        "purpose": d.purpose,
    }


def access_view(entry: tuple[datetime, str, str, str]) -> dict[str, Any]:
    """One read of a subject's data: when, by whom, why, and what."""
    at, by, purpose, what = entry
    return {"at": iso(at), "by": by, "purpose": purpose, "what": what}


def describe_reason(reason: dict[str, Any]) -> str:
    """A reason of a decision (as :func:`reason_view` shows it) in one sentence."""
    effect = reason["effect"] + (f" x{reason['factor']:g}" if reason["factor"] is not None else "")
    if reason["grade"] and reason["source"] == "grade":
        cause = f"grade {reason['grade']} in {reason['scheme']}"
    else:
        listed = f"{reason['scheme']}/{reason['list']}"
        cause = f"{reason['list_kind']} list {listed} since {reason['since']}"
    if reason["memorandum"]:
        cause += f", via memorandum {reason['memorandum']} (signatory {reason['authority']})"
    if reason["via"]:
        cause += f", as {reason['via']}"
    records = f"; records {', '.join(reason['records'])}" if reason["records"] else ""
    return f"{effect}: {cause}{records}. {reason['rationale']}"


# -- definitions and keys --------------------------------------------------------------


def definition_summary(row: StoredDefinition) -> dict[str, Any]:
    return {"id": row.id, "type": row.type, "version": row.version, "added_at": iso(row.added_at)}


def definition_view(row: StoredDefinition, versions: Sequence[int]) -> dict[str, Any]:
    return {
        **definition_summary(row),
        "versions": list(versions),
        "digest": row.digest,
        "text": row.text,
    }


def key_view(key: StoredKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "role": key.role,
        "authority": key.authority,
        "subject": key.subject_masked,
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
        "expires_at": iso(key.expires_at),
    }


# -- records and imports -------------------------------------------------------------------


def record_view(state: RecordState) -> dict[str, Any]:
    r = state.record
    return {
        "id": r.id,
        "scheme": r.scheme,
        "scheme_version": r.scheme_version,
        "category": r.category,
        "subject": state.subject,
        "occurred_at": iso(r.occurred_at),
        "reported_at": iso(r.reported_at),
        "expires_at": iso(r.expires_at),
        "points": r.points,
        "reporter": r.reporter,
        "evidence": r.evidence,
        "status": state.status,
        "events": [
            {"kind": e.kind, "at": iso(e.at), "actor": e.actor, "reason": e.reason}
            for e in state.events
        ],
    }


def rejection_view(rejection: Rejection) -> dict[str, Any]:
    """One refused line of an import: its number, its record's id, and why."""
    return {"line": rejection.line, "id": rejection.record, "reason": rejection.reason}


def import_summary(report: ImportReport, rejects_file: str | None) -> dict[str, Any]:
    return {
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": len(report.rejected),
        "rejects_file": rejects_file,
    }


# -- due process ----------------------------------------------------------------------------


def case_view(shown: ShownCase) -> dict[str, Any]:
    """A due-process case as the CLI's ``--json`` and the HTTP API show it."""
    case = shown.case
    return {
        "id": case.id,
        "kind": case.kind,
        "subject": shown.subject,
        "record": case.record,
        "decision": case.decision,
        "scheme": case.scheme,
        "authorities": list(case.authorities),
        "statement": case.statement,
        "evidence": case.evidence,
        "opened_at": iso(case.opened_at),
        "opened_by": case.opened_by,
        "due_at": iso(case.due_at),
        "extended": case.extended,
        "outcome": case.outcome,
        "decided_at": iso(case.decided_at),
        "decided_by": case.decided_by,
        "reason": case.reason,
        "details": dict(case.details),
        "open": case.open,
        "overdue": case.overdue(shown.now),
    }


def consent_view(standing: ConsentStanding) -> dict[str, Any]:
    return {
        "scheme": standing.scheme,
        "purpose": standing.purpose,
        "active": standing.active,
        "periods": [{"from": iso(start), "until": iso(end)} for start, end in standing.periods],
    }


def notice_view(notice: Notice) -> dict[str, Any]:
    return notice.as_sent()


def stored_notice_view(stored: StoredNotice) -> dict[str, Any]:
    """A notice from the outbox, with when and where it was delivered."""
    return {
        **notice_view(stored.notice),
        "delivered_at": iso(stored.delivered_at),
        "channel": stored.channel,
    }


def retention_view(report: RetentionReport) -> dict[str, Any]:
    removed = [
        {
            "record": i.record,
            "scheme": i.scheme,
            "subject": i.subject,
            "kept_until": iso(i.kept_until),
        }
        for i in report.items
    ]
    view: dict[str, Any] = {
        "applied": report.applied,
        "removed": removed,
        "by_scheme": report.by_scheme(),
    }
    for section in report.plugins:
        view[section.name] = dict(section.counts)
    return view


# -- the access export (GDPR art. 15) ----------------------------------------------------------


def export_view(export: AccessExport) -> dict[str, Any]:
    subject = export.subject
    view: dict[str, Any] = {
        "subject": {"identifier": subject.masked, "kind": subject.kind},
        "exported_at": iso(export.exported_at),
        "schemes": [_scheme_part_view(part, subject.masked) for part in export.schemes],
        "records": [
            {
                "id": held.record.id,
                "scheme": held.record.scheme,
                "category": held.record.category,
                "occurred_at": iso(held.record.occurred_at),
                "reported_at": iso(held.record.reported_at),
                "expires_at": iso(held.record.expires_at),
                "points": held.record.points,
                "reporter": held.record.reporter,
                "evidence": held.record.evidence,
                "status": held.status,
                "events": [
                    {"kind": e.kind, "at": iso(e.at), "actor": e.actor, "reason": e.reason}
                    for e in held.events
                ],
                "log_proof": held.proof.to_json() if held.proof else None,
            }
            for held in export.records
        ],
        # What each record's log_proof leads to: check one with `socialcredit log check`.
        "log_head": export.log_head.to_json() if export.log_head else None,
        "decisions": [decision_view(d) for d in export.decisions],
        "access_log": [access_view(entry) for entry in export.access_log],
        "notices": [stored_notice_view(s) for s in export.notices],
        "cases": [case_view(c) for c in export.cases],
        "consents": [consent_view(c) for c in export.consents],
        "overrides": [
            {
                "action": o.action,
                "effect": o.effect,
                "factor": o.factor,
                "since": iso(o.since),
                "until": iso(o.until),
                "case": o.case,
                "reviewer": o.reviewer,
                "reason": o.reason,
            }
            for o in export.overrides
        ],
    }
    for section in export.sections:
        view[section.name] = dict(section.data)
    return view


def _scheme_part_view(part: SchemePart, masked: str) -> dict[str, Any]:
    scheme = part.scheme
    return {
        "scheme": scheme.id,
        "title": scheme.title,
        "controller": scheme.authority.name,
        "purpose": (scheme.description or scheme.title).strip(),
        "lawful_basis": scheme.lawful_basis,
        "sources": part.sources,
        "recipients": part.recipients,
        "retention": scheme.retention.text,
        "human_review": scheme.human_review,
        "logic": part.logic,
        "score": score_view(part.evaluation, masked),
        "score_history": [
            {"at": iso(at), "score": score, "grade": grade}
            for at, score, grade in part.score_history
        ],
        "lists": [entry_view(e) for e in part.evaluation.entries],
    }


_PAGE_STYLE = (
    "body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
    ".logic{background:#f4f4f4;padding:.5em}"
)


def export_html(export: AccessExport) -> str:
    """The export as a self-contained page: no scripts, no external assets,
    every value escaped."""
    view = export_view(export)
    subject = view["subject"]
    sections = [
        f"<h1>What is held about {_esc(subject['identifier'])}</h1>",
        f"<p>A {_esc(subject['kind'])}. Exported {_esc(view['exported_at'])}.</p>",
    ]
    for part in view["schemes"]:
        facts = (
            ("Controller", part["controller"]),
            ("Purpose", part["purpose"]),
            ("Lawful basis", part["lawful_basis"]),
            ("Sources", ", ".join(part["sources"]) or "none"),
            ("Recipients", ", ".join(part["recipients"]) or "none beyond the controller"),
            ("Retention", part["retention"]),
            ("Human review", part["human_review"] or "not stated"),
        )
        sections += [
            f"<h2>{_esc(part['title'])}</h2>",
            f"<p class='logic'>{_esc(part['logic'])}</p>",
            "<h3>Score history</h3>",
            _table(part["score_history"], ["at", "score", "grade"]),
            "<dl>" + "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in facts) + "</dl>",
        ]
    record_columns = "id scheme category points occurred_at reported_at expires_at status reporter"
    tables: list[tuple[str, list[dict[str, Any]], str | list[str]]] = [
        ("Records", view["records"], f"{record_columns} evidence"),
        ("Decisions", view["decisions"], "at action effect factor asked_by purpose"),
        ("Your requests", view["cases"], "id kind record decision opened_at due_at outcome reason"),
        ("Consents", view["consents"], "scheme purpose active"),
        ("Notices sent to you", view["notices"], "at kind title text delivered_at"),
    ]
    tables += [(t.title, t.rows, t.columns) for s in export.sections for t in s.tables]
    tables.append(("Who read your data", view["access_log"], "at by purpose what"))
    for title, rows, columns in tables:
        sections += [f"<h2>{_esc(title)}</h2>", _table(rows, columns)]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Access export</title>"
        f"<style>{_PAGE_STYLE}</style></head><body>{''.join(sections)}</body></html>"
    )


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(rows: list[dict[str, Any]], columns: str | list[str]) -> str:
    """Rows as an HTML table of ``columns`` (a list, or their names separated by spaces)."""
    if isinstance(columns, str):
        columns = columns.split()
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# -- the fairness audit -----------------------------------------------------------------


def _interval(found: Interval | None) -> list[float] | None:
    return [round(found.low, 4), round(found.high, 4)] if found else None


def _group_json(group: GroupFinding) -> dict[str, Any]:
    if group.suppressed:
        return {"group": group.group, "suppressed": True}
    return {
        "group": group.group,
        "suppressed": False,
        "subjects": group.subjects,
        "grades": group.grades,
        "bottom_share": round(group.bottom_share or 0.0, 4),
        "bottom_interval": _interval(group.bottom_interval),
        "lists": {
            name: {"share": round(share, 4), "interval": _interval(interval)}
            for name, (share, interval) in group.list_shares.items()
        },
        "mean_score": round(group.mean_score, 2) if group.mean_score is not None else None,
        "mean_interval": _interval(group.mean_interval),
        "favourable_rate": round(group.favourable_rate or 0.0, 4),
        "impact_ratio": round(group.impact_ratio, 4) if group.impact_ratio is not None else None,
        "impact_interval": _interval(group.impact_interval),
        "flagged": group.flagged,
        "most_favoured": group.most_favoured,
    }


def fairness_view(report: FairnessReport) -> dict[str, Any]:
    return {
        "scheme": report.scheme,
        "at": report.at.isoformat(),
        "subjects": report.subjects,
        "with_attributes": report.with_attributes,
        "bottom_grades": report.bottom_grades,
        "black_lists": report.black_lists,
        "home": report.home,
        "k": report.k,
        "four_fifths": FOUR_FIFTHS,
        "dimensions": {
            found.dimension: [_group_json(g) for g in found.groups] for found in report.dimensions
        },
    }


__all__ = [
    "access_view",
    "case_view",
    "check_view",
    "consent_view",
    "decision_answer",
    "decision_view",
    "definition_summary",
    "definition_view",
    "describe_reason",
    "entry_view",
    "export_html",
    "export_view",
    "fairness_view",
    "import_summary",
    "key_view",
    "listed_view",
    "notice_view",
    "reason_view",
    "record_view",
    "rejection_view",
    "retention_view",
    "score_view",
    "stored_notice_view",
]
