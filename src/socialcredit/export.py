"""Everything held about a subject, as one export (GDPR art. 15): the data,
and for each scheme its purpose, lawful basis, sources, recipients,
retention and the logic of the scoring in plain words, with the subject's
own numbers. JSON for machines, a self-contained HTML page for people."""

from __future__ import annotations

import html
from typing import Any

import orjson

from socialcredit.app import SocialCredit
from socialcredit.delivery import stored_notice_view
from socialcredit.domain.ledger.records import ERASED, status_at
from socialcredit.domain.ledger.values import SubjectLedger
from socialcredit.domain.rights.consent import SCORING
from socialcredit.domain.rights.consent import periods as consent_periods
from socialcredit.domain.schemes.models import Scheme
from socialcredit.domain.schemes.paperwork import recipients
from socialcredit.domain.scoring.engine import SchemeEvaluation, score_history
from socialcredit.views import entry_view, iso, score_view


def access_export(system: SocialCredit, identifier: str, *, kind: str | None = None,
                  actor: str = "cli") -> dict[str, Any]:  # fmt: skip
    subject, evaluations = system.scores(
        identifier, kind=kind, actor=actor, purpose="access request (art. 15)"
    )
    now = system.clock()
    ledger = system.store.subject_ledger(subject, None)
    records = []
    for record in sorted(ledger.records, key=lambda r: (r.occurred_at, r.id)):
        events = ledger.events.get(record.id, [])
        records.append({
            "id": record.id, "scheme": record.scheme, "category": record.category,
            "occurred_at": iso(record.occurred_at), "reported_at": iso(record.reported_at),
            "expires_at": iso(record.expires_at), "points": record.points,
            "reporter": record.reporter, "evidence": record.evidence,
            "status": status_at(events, now) or "standing",
            "events": [{"kind": e.kind, "at": iso(e.at), "actor": e.actor, "reason": e.reason}
                       for e in events],
        })  # fmt: skip
    decisions = [{"decision_id": d.id, "action": d.action, "at": iso(d.at), "effect": d.effect,
                  "factor": d.factor, "reasons": orjson.loads(d.reasons_json),
                  "asked_by": d.asked_by, "purpose": d.purpose}
                 for d in system.store.decisions(subject.key)]  # fmt: skip
    reads = [{"at": iso(at), "by": by, "purpose": purpose, "what": what}
             for at, by, purpose, what in system.store.access_log(subject.key)]  # fmt: skip
    work = system.casework
    return {
        "subject": {"identifier": subject.masked, "kind": subject.kind},
        "exported_at": iso(now),
        "schemes": [_scheme_part(system, e, ledger, subject.masked) for e in evaluations],
        "records": records,
        "decisions": decisions,
        "access_log": reads,
        "notices": [stored_notice_view(s) for s in work.notices(subject)],
        "cases": [work.view(c) for c in work.cases(subject=subject.key)],
        "consents": work.consents(subject),
        "overrides": [{"action": o.action, "effect": o.effect, "factor": o.factor,
                       "since": iso(o.since), "until": iso(o.until), "case": o.case,
                       "reviewer": o.reviewer, "reason": o.reason}
                      for o in system.store.overrides(subject.key)],
        "mobility": _mobility(system, subject),
    }  # fmt: skip


def _mobility(system: SocialCredit, subject: Any) -> dict[str, Any]:
    """Trips as kept (coarse cells), precise positions kept with consent, and
    rider reports (docs/mobility.md)."""
    from socialcredit.mobility.service import Mobility  # numpy and shapely only when used

    return Mobility(system).export(subject)


def _scheme_part(
    system: SocialCredit, evaluation: SchemeEvaluation, ledger: SubjectLedger, masked: str
) -> dict[str, Any]:
    history = system.registry.history(evaluation.explanation.scheme)
    scheme = history.current.definition
    mine = [r for r in ledger.records if r.scheme == scheme.id]
    sources = sorted({r.reporter for r in mine if r.category != ERASED})
    spans = (
        consent_periods(system.store.consents(ledger.subject.key), scheme.id, SCORING)
        if scheme.lawful_basis == "consent" else []
    )  # fmt: skip
    changes = score_history(history, mine, ledger.events, evaluation.explanation.at,
                            ledger.enrolments.get(scheme.id), spans)  # fmt: skip
    return {
        "scheme": scheme.id,
        "title": scheme.title,
        "controller": scheme.authority.name,
        "purpose": (scheme.description or scheme.title).strip(),
        "lawful_basis": scheme.lawful_basis,
        "sources": sources,
        "recipients": recipients(scheme, system.registry.memoranda),
        "retention": scheme.retention.text,
        "human_review": scheme.human_review,
        "logic": explain_in_words(scheme, evaluation),
        "score": score_view(evaluation, masked),
        "score_history": [{"at": iso(at), "score": score, "grade": grade}
                          for at, score, grade in changes],
        "lists": [entry_view(e) for e in evaluation.entries],
    }  # fmt: skip


def explain_in_words(scheme: Scheme, evaluation: SchemeEvaluation) -> str:
    """The scoring logic in plain words, with the subject's own numbers."""
    e = evaluation.explanation
    if e.score is None:
        listed = ", ".join(
            f"{x.list} until {iso(x.until) or 'the grade changes'}" for x in evaluation.entries
        )
        return (
            f"{scheme.title} keeps no score; records of its categories put a subject on its "
            f"lists. You are {'on: ' + listed if listed else 'on none of its lists'}."
        )
    parts = [f"{c.points:+d} ({c.category})" for c in e.counted]
    sentence = f"Everyone starts at {e.base}. "
    sentence += (
        f"Your counted records add {' '.join(parts)}, "
        if parts
        else "No record of yours counts now, "
    )
    sentence += f"which gives {e.score}"
    rule = scheme.score
    if rule and (rule.min is not None or rule.max is not None):
        sentence += f" (kept between {rule.min if rule.min is not None else '-∞'} and {rule.max if rule.max is not None else '∞'})"
    sentence += f": grade {e.grade}."
    if e.cap is not None and e.band != e.grade:
        sentence += f" The score alone gives {e.band}, but record {e.cap.record} caps the grade at {e.cap.grade}."
    if e.excluded:
        sentence += (
            f" {len(e.excluded)} of your records do not count now (see each record's reason)."
        )
    return sentence


def export_html(export: dict[str, Any]) -> str:
    """A self-contained page: no scripts, no external assets, every value escaped."""

    def esc(value: Any) -> str:
        return html.escape("" if value is None else str(value))

    def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
        if not rows:
            return "<p>None.</p>"
        head = "".join(f"<th>{esc(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    subject = export["subject"]
    sections = [f"<h1>What is held about {esc(subject['identifier'])}</h1>",
                f"<p>A {esc(subject['kind'])}. Exported {esc(export['exported_at'])}.</p>"]  # fmt: skip
    for part in export["schemes"]:
        sections += [
            f"<h2>{esc(part['title'])}</h2>",
            f"<p class='logic'>{esc(part['logic'])}</p>",
            "<h3>Score history</h3>", table(part["score_history"], ["at", "score", "grade"]),
            "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in (
                ("Controller", part["controller"]), ("Purpose", part["purpose"]),
                ("Lawful basis", part["lawful_basis"]), ("Sources", ", ".join(part["sources"]) or "none"),
                ("Recipients", ", ".join(part["recipients"]) or "none beyond the controller"),
                ("Retention", part["retention"]), ("Human review", part["human_review"] or "not stated"),
            )) + "</dl>",
        ]  # fmt: skip
    sections += ["<h2>Records</h2>", table(export["records"], ["id", "scheme", "category", "points",
                 "occurred_at", "reported_at", "expires_at", "status", "reporter", "evidence"]),
                 "<h2>Decisions</h2>", table(export["decisions"], ["at", "action", "effect", "factor", "asked_by", "purpose"]),
                 "<h2>Your requests</h2>", table(export["cases"], ["id", "kind", "record", "decision", "opened_at", "due_at", "outcome", "reason"]),
                 "<h2>Consents</h2>", table(export["consents"], ["scheme", "purpose", "active"]),
                 "<h2>Notices sent to you</h2>", table(export["notices"], ["at", "kind", "title", "text", "delivered_at"]),
                 "<h2>Trips</h2>", table(export["mobility"]["trips"], ["id", "scheme", "ended_at", "end_cell", "verdict", "zone", "record"]),
                 "<h2>Precise positions (kept with your consent)</h2>", table(export["mobility"]["precise_positions"], ["trip", "kind", "lon", "lat", "at", "purpose", "kept_until"]),
                 "<h2>Who read your data</h2>", table(export["access_log"], ["at", "by", "purpose", "what"])]  # fmt: skip
    style = ("body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
             ".logic{background:#f4f4f4;padding:.5em}")  # fmt: skip
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Access export</title>"
            f"<style>{style}</style></head><body>{''.join(sections)}</body></html>")  # fmt: skip


__all__ = ["access_export", "explain_in_words", "export_html"]
