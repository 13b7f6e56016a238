"""The audit log (decisions and reads) is chained per subject like the ledger."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from ledger_support import at, line, numbered, open_system, people, shipped_system, sql

from socialcredit.app import SocialCredit
from socialcredit.ledger.store import DecisionRow
from socialcredit.store.common import iso
from socialcredit.store.sqlite import SQLiteStore


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


def _a_listed_person(path: Path) -> tuple[SocialCredit, str]:
    system = shipped_system(path)
    [who] = people(1, seed=96)
    system.import_records(
        numbered([line("a1", who, "cabin-disorder", at(2025, 5, 1), scheme="caac-flight-ban")])
    )
    return system, who


def test_a_check_overtaken_before_its_audit_write_runs_again_and_logs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check reads in one snapshot and its audit write takes it over; when
    another writer commits in between, nothing of the first try is written and
    the check runs again the plain way, to the same answer."""
    path = tmp_path / "ledger.db"
    system, who = _a_listed_person(path)
    other = open_system(path)
    plain = system.check(who, "travel.air.ticket")
    tries: list[str] = []
    log_decision = system.store.log_decision

    def overtaken(row: DecisionRow) -> None:
        tries.append(row.id)
        if len(tries) == 1:  # another process checks the same subject meanwhile
            other.check(who, "travel.air.ticket")
        log_decision(row)

    monkeypatch.setattr(system.store, "log_decision", overtaken)
    result = system.check(who, "travel.air.ticket")

    assert result.decision == plain.decision and result.decision.effect == "deny"
    logged = [d.id for d in system.store.decisions(system.subject_row(who).key)]
    assert len(logged) == 3 and logged[-1] == result.decision_id == tries[-1]
    assert set(tries[:-1]).isdisjoint(logged)
    assert system.verify() == []


def test_a_check_meeting_a_held_write_lock_runs_again_and_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.db"
    system, who = _a_listed_person(path)
    sql(path, "SELECT 1")  # skips on PostgreSQL: this holds SQLite's write lock directly
    holder = sqlite3.connect(str(path), isolation_level=None)
    tries: list[str] = []
    log_decision = system.store.log_decision

    def blocked(row: DecisionRow) -> None:
        tries.append(row.id)
        if len(tries) > 1:
            log_decision(row)
            return
        holder.execute("BEGIN IMMEDIATE")
        try:
            log_decision(row)
        finally:
            holder.execute("ROLLBACK")

    monkeypatch.setattr(system.store, "log_decision", blocked)
    result = system.check(who, "travel.air.ticket")
    holder.close()

    assert len(tries) == 2 and result.decision_id == tries[1]
    logged = [d.id for d in system.store.decisions(system.subject_row(who).key)]
    assert logged == [result.decision_id]
    assert system.verify() == []


def test_log_decision_writes_the_rows_the_generic_audit_path_writes(tmp_path: Path) -> None:
    """log_decision spells out _audit_rows for one decision (every check logs
    one); both give the same rows, hashes and head, after a read and without."""
    subject = "5" * 32
    when = at(2025, 6, 1, 12)
    written = []
    for name, spelt_out in (("fast", True), ("plain", False), ("fast-first", True)):
        store = SQLiteStore(tmp_path / f"{name}.db", create=True)
        store.initialise()
        if name != "fast-first":
            store.log_access(subject, when, "cli", "score", "scores")
        for n, factor in enumerate((None, 0.5)):
            row = DecisionRow(f"d{n}", subject, "fee.heating", when, "adjust", factor,
                              '[{"why": "x"}]', when, "cli", "check")  # fmt: skip
            if spelt_out:
                store.log_decision(row)
            else:
                fields = (row.id, row.action, iso(row.at), row.effect, row.factor,
                          row.reasons_json, iso(row.asked_at), row.asked_by, row.purpose)  # fmt: skip
                entries = [(subject, "decision", fields)]
                store._in_audit_transaction(lambda e=entries, s=store: s._audit_rows(e))  # type: ignore[misc]
        written.append((
            store._db.execute("SELECT * FROM decisions ORDER BY seq").fetchall(),
            store._db.execute("SELECT * FROM audit_heads").fetchall(),
        ))  # fmt: skip
        assert store.verify() == []
        store.close()
    assert written[0] == written[1]
    assert [row[:10] for row in written[2][0]] == [row[:10] for row in written[0][0]]
