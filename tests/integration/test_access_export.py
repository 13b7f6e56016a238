"""The access export (GDPR art. 15): everything held, the logic in the subject's own numbers, safely rendered."""

from __future__ import annotations

from pathlib import Path

from ledger_support import at, line, numbered, people, shipped_system

from socialcredit.entrypoints.views import export_html, export_view


def test_the_export_holds_records_events_decisions_reads_and_the_logic(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    [who] = people(1, seed=101)
    system.imports.import_records(
        numbered(
            [
                line(
                    "x1",
                    who,
                    "traffic-violation",
                    at(2025, 5, 1),
                    reported_at=at(2025, 5, 2),
                    evidence="<script>alert('x')</script>",
                ),
                line("x2", who, "volunteering-8h", at(2025, 5, 3), reported_at=at(2025, 5, 4)),
            ]
        )
    )
    system.records.add_event(
        "x1", "contested", reason="not my car", at=at(2025, 5, 10), actor="cli"
    )
    decision = system.checks.check(who, "fee.heating", actor="cli").decision_id

    held = system.export.access_export(who, actor="cli")

    export = export_view(held)

    assert export["subject"]["identifier"].count("*") == 8
    assert {r["id"]: r["status"] for r in export["records"]} == {
        "x1": "contested",
        "x2": "standing",
    }
    assert export["records"][0]["events"][0]["reason"] == "not my car"
    assert [d["decision_id"] for d in export["decisions"]] == [decision]
    assert any(r["purpose"] == "access request (art. 15)" for r in export["access_log"])
    [personal] = [p for p in export["schemes"] if p["scheme"] == "rongcheng-personal"]
    assert personal["logic"].startswith(
        "Everyone starts at 1000. Your counted records add +2 (volunteering-8h)"
    )
    assert (
        "which gives 1002" in personal["logic"]
        and "1 of your records do not count now" in personal["logic"]
    )
    assert personal["sources"] == ["test-reporter"] and personal["lawful_basis"] == "public_task"

    page = export_html(held)
    assert "<script>alert" not in page and "&lt;script&gt;" in page  # evidence is escaped
    assert who.split(":")[1] not in page  # only the masked identifier


def test_the_export_adds_score_history_notices_cases_and_overrides(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")  # the clock stands at 2025-06-01 12:00
    [who] = people(1, seed=102)
    system.imports.import_records(
        numbered(
            [
                line("y1", who, "traffic-violation", at(2025, 3, 1), reported_at=at(2025, 3, 2)),
                line("y2", who, "volunteering-8h", at(2025, 4, 1), reported_at=at(2025, 4, 1)),
                line(
                    "y3",
                    who,
                    "obstructing-enforcement",
                    at(2025, 5, 1),
                    reported_at=at(2025, 5, 2),
                    scheme="spc-defaulters",
                ),
            ]
        )
    )
    work = system.casework
    contest = work.contest("y2", "I did more than eight hours: the count is wrong.", actor="cli")
    denied = system.checks.check(who, "travel.air.ticket", actor="cli")
    review = work.refer_decision(denied.decision_id, "I need to fly for work.", actor="cli")
    system.notices.sweep()

    held = system.export.access_export(who, actor="cli")

    export = export_view(held)

    [personal] = [p for p in export["schemes"] if p["scheme"] == "rongcheng-personal"]
    assert [(h["at"], h["score"]) for h in personal["score_history"]] == [
        ("2025-03-02T00:00:00Z", 995),  # y1 known from its report
        ("2025-04-01T00:00:00Z", 997),  # y2 counts
        ("2025-06-01T00:00:00Z", 1002),  # y1 expired after three months
        ("2025-06-01T12:00:00Z", 1000),  # y2 contested: frozen
    ]
    assert {c["id"] for c in export["cases"]} == {contest.id, review.id}
    assert {n["kind"] for n in export["notices"]} >= {
        "record_reported",
        "case_opened",
        "decision_adverse",
        "list_entered",
    }
    assert all("how_to_contest" in n for n in export["notices"])
    assert export["consents"] == [] and export["overrides"] == []
    page = export_html(held)
    assert "Score history" in page and "Your requests" in page and contest.id in page
