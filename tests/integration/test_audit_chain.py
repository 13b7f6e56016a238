"""The audit log (decisions and reads) is chained per subject like the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_support import at, line, numbered, people, shipped_system, sql


def _drop_triggers(path: Path) -> None:
    for (name,) in sql(path, "SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        sql(path, f"DROP TRIGGER {name}")


def _ledger_with_an_audit_trail(path: Path) -> tuple[str, str]:
    system = shipped_system(path)
    [who] = people(1, seed=95)
    system.import_records(
        numbered([line("a1", who, "cabin-disorder", at(2025, 5, 1), scheme="caac-flight-ban")])
    )
    decision = system.check(who, "travel.air.ticket").decision_id
    system.scores(who)
    system.check(who, "travel.air.ticket")
    assert system.verify() == []
    return who, decision


def test_an_edited_decision_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _, decision = _ledger_with_an_audit_trail(path)
    _drop_triggers(path)
    sql(path, "UPDATE decisions SET effect = 'allow' WHERE id = ?", (decision,))

    [problem] = shipped_system(path).verify()

    assert problem.table == "decisions" and decision in problem.row and "edited" in problem.problem


def test_a_removed_read_breaks_the_audit_chain(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _ledger_with_an_audit_trail(path)
    _drop_triggers(path)
    sql(path, "DELETE FROM access_log")

    problems = shipped_system(path).verify()

    assert problems and problems[0].table == "decisions"  # the next row no longer follows on
    assert "removed or reordered" in problems[0].problem


def test_ledger_and_audit_rows_are_append_only_on_either_store(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    who, decision = _ledger_with_an_audit_trail(path)
    system = shipped_system(path)
    work = system.casework  # a row in each due-process table
    work.set_consent(who, "caac-flight-ban", "scoring", True)
    case = work.refer_decision(decision, "I must fly to a funeral.")
    work.decide(case.id, "overridden", "compassion", effect="allow", until=at(2026, 1, 1))
    store = system.store
    statements = (
        "DELETE FROM access_log", "UPDATE decisions SET effect = 'allow'", "DELETE FROM records",
        "UPDATE subjects SET kind = 'business'", "DELETE FROM definitions",
        "UPDATE records SET points = 0", "UPDATE records SET category = ''",  # no erasure seal
        "DELETE FROM case_events", "UPDATE consents SET granted = 1", "DELETE FROM overrides",
        "UPDATE notices SET body = '{}'",
    )  # fmt: skip
    for statement in statements:
        with pytest.raises(Exception, match="append-only"):  # sqlite3 or psycopg, as the store is
            store._db.execute(statement)
