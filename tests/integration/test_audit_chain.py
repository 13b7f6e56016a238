"""The audit log (decisions and reads) is chained per subject like the ledger."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from ledger_support import at, line, numbered, open_system, people, shipped_system, sql

from socialcredit.adapters.db.audit import AuditRows
from socialcredit.adapters.db.integrity import ChainRows
from socialcredit.adapters.db.rows import decision_number
from socialcredit.adapters.db.schema import CORE_TRACK
from socialcredit.adapters.db.sqlite import open_sqlite
from socialcredit.bootstrap import Services
from socialcredit.domain.ledger.chain import GENESIS, link_hash
from socialcredit.domain.ledger.values import DecisionRow
from socialcredit.domain.times import ledger_time as iso
from socialcredit.pilots.mobility.store import TRACK as MOBILITY_TRACK
from socialcredit.services.ids import time_ordered_id


def _drop_triggers(path: Path) -> None:
    for (name,) in sql(path, "SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        sql(path, f"DROP TRIGGER {name}")


def _ledger_with_an_audit_trail(path: Path) -> tuple[str, str]:
    system = shipped_system(path)
    [who] = people(1, seed=95)
    system.imports.import_records(
        numbered([line("a1", who, "cabin-disorder", at(2025, 5, 1), scheme="caac-flight-ban")])
    )
    decision = system.checks.check(who, "travel.air.ticket", actor="cli").decision_id
    system.checks.scores(who, actor="cli")
    system.checks.check(who, "travel.air.ticket", actor="cli")
    assert system.integrity.verify() == []
    return who, decision


def test_an_edited_decision_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _, decision = _ledger_with_an_audit_trail(path)
    _drop_triggers(path)
    sql(path, "UPDATE decisions SET effect = 'allow' WHERE id = ?", (decision,))

    [problem] = shipped_system(path).integrity.verify()

    assert problem.table == "decisions" and decision in problem.row and "edited" in problem.problem


def test_a_removed_read_breaks_the_audit_chain(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _ledger_with_an_audit_trail(path)
    _drop_triggers(path)
    sql(path, "DELETE FROM access_log")

    problems = shipped_system(path).integrity.verify()

    assert problems and problems[0].table == "decisions"  # the next row no longer follows on
    assert "removed or reordered" in problems[0].problem


def test_ledger_and_audit_rows_are_append_only_on_either_store(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    who, decision = _ledger_with_an_audit_trail(path)
    system = shipped_system(path)
    work = system.casework  # a row in each due-process table
    system.consents.set(who, "caac-flight-ban", "scoring", True, actor="cli")
    case = work.refer_decision(decision, "I must fly to a funeral.", actor="cli")
    work.decide(
        case.id, "overridden", "compassion", effect="allow", until=at(2026, 1, 1), actor="cli"
    )
    db = system.uow.database.connection
    statements = (
        "DELETE FROM access_log",
        "UPDATE decisions SET effect = 'allow'",
        "DELETE FROM records",
        "UPDATE subjects SET kind = 'business'",
        "DELETE FROM definitions",
        "UPDATE records SET points = 0",
        "UPDATE records SET category = ''",  # no erasure seal
        "DELETE FROM case_events",
        "UPDATE consents SET granted = 1",
        "DELETE FROM overrides",
        "UPDATE notices SET body = '{}'",
    )
    for statement in statements:
        with pytest.raises(Exception, match="append-only"):  # sqlite3 or psycopg, as the store is
            db.execute(statement)


def _a_listed_person(path: Path) -> tuple[Services, str]:
    system = shipped_system(path)
    [who] = people(1, seed=96)
    system.imports.import_records(
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
    plain = system.checks.check(who, "travel.air.ticket", actor="cli")
    tries: list[str] = []
    log_decision = system.uow.audit.log_decision

    def overtaken(row: DecisionRow) -> None:
        tries.append(row.id)
        if len(tries) == 1:  # another process checks the same subject meanwhile
            other.checks.check(who, "travel.air.ticket", actor="cli")
        log_decision(row)

    monkeypatch.setattr(system.uow.audit, "log_decision", overtaken)
    result = system.checks.check(who, "travel.air.ticket", actor="cli")

    assert result.decision == plain.decision and result.decision.effect == "deny"
    logged = [d.id for d in system.uow.audit.decisions(system.subjects.identify(who).key)]
    assert len(logged) == 3 and logged[-1] == result.decision_id == tries[-1]
    assert set(tries[:-1]).isdisjoint(logged)
    assert system.integrity.verify() == []


def test_a_check_meeting_a_held_write_lock_runs_again_and_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.db"
    system, who = _a_listed_person(path)
    sql(path, "SELECT 1")  # skips on PostgreSQL: this holds SQLite's write lock directly
    holder = sqlite3.connect(str(path), isolation_level=None)
    tries: list[str] = []
    log_decision = system.uow.audit.log_decision

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

    monkeypatch.setattr(system.uow.audit, "log_decision", blocked)
    result = system.checks.check(who, "travel.air.ticket", actor="cli")
    holder.close()

    assert len(tries) == 2 and result.decision_id == tries[1]
    logged = [d.id for d in system.uow.audit.decisions(system.subjects.identify(who).key)]
    assert logged == [result.decision_id]
    assert system.integrity.verify() == []


def _decision(decision_id: str, subject: str, effect: str = "deny") -> DecisionRow:
    when = at(2025, 6, 1, 12)
    return DecisionRow(
        decision_id,
        subject,
        "travel.air.ticket",
        when,
        effect,
        None,
        '[{"why": "x"}]',
        when,
        "cli",
        "check",
    )


class _Store:
    """The audit repository and the chain walk over one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.database = open_sqlite(path, create=True)
        self._db = self.database.connection
        self.audit = AuditRows(self.database)
        self.chains = ChainRows(self.database, self.audit)


def _assert_filed(store: _Store, subject: str, ids: list[str]) -> None:
    """Every decision is found by its id and in its subject's list, in seq order."""
    audit = store.audit
    assert [d.id for d in audit.decisions(subject)] == ids
    for decision_id in ids:
        found = audit.decision(decision_id)
        assert found is not None and found.id == decision_id
    assert audit.decision(time_ordered_id()) is None and audit.decision("no-such-id") is None
    assert store.chains.verify() == []


def test_decisions_are_filed_under_the_number_their_id_carries(tmp_path: Path) -> None:
    store = _Store(tmp_path / "ledger.db")
    store.database.initialise([MOBILITY_TRACK])
    subject, other = "5" * 32, "6" * 32
    first = time_ordered_id()
    taken = first[:-1] + ("0" if first[-1] != "0" else "1")  # the same number
    ids = [first, taken, "not-a-uuid", time_ordered_id()]
    for n, decision_id in enumerate(ids):
        store.audit.log_decision(_decision(decision_id, subject))
        store.audit.log_decision(_decision(time_ordered_id(), other))
        if n == 1:
            store.audit.log_access(subject, at(2025, 6, 1), "cli", "score", "scores")
    filed = dict(store._db.execute("SELECT id, n FROM decisions WHERE subject = ?", (subject,)))
    assert filed == {
        first: decision_number(first),
        taken: -1,
        "not-a-uuid": -2,
        ids[3]: decision_number(ids[3]),
    }
    assert decision_number(first) == decision_number(taken) > 0
    _assert_filed(store, subject, ids)
    assert len(store.audit.decisions(other)) == 4


def test_migration_4_files_the_decisions_of_an_older_ledger(tmp_path: Path) -> None:
    store = _Store(tmp_path / "ledger.db")
    # The ledger as schema 3 left it: the core's first two migrations and the
    # bike-sharing tables (now the mobility plugin's first migration).
    for migration in (*CORE_TRACK.migrations[:2], *MOBILITY_TRACK.migrations):
        for statement in migration.statements("sqlite"):
            store._db.execute(statement)
    store._db.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    subject, other = "5" * 32, "6" * 32
    first = time_ordered_id()
    taken = first[:-1] + ("0" if first[-1] != "0" else "1")  # the same number
    ids = [first, "a-uuid4-era-id", taken, time_ordered_id()]
    heads: dict[str, tuple[int, str]] = {}
    for decision_id, who in [(i, subject) for i in ids] + [(time_ordered_id(), other)]:
        seq, previous = heads.get(who, (0, GENESIS))
        row = _decision(decision_id, who)
        fields = (
            row.id,
            row.action,
            iso(row.at),
            row.effect,
            row.factor,
            row.reasons_json,
            iso(row.asked_at),
            row.asked_by,
            row.purpose,
        )
        heads[who] = (seq + 1, link_hash(previous, "decision", (who, seq + 1, *fields)))
        store._db.execute(
            "INSERT INTO decisions VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (row.id, who, *fields[1:], *heads[who]),
        )
    store._db.executemany(
        "INSERT INTO audit_heads VALUES (?, ?, ?)", [(s, q, h) for s, (q, h) in heads.items()]
    )

    assert store.database.initialise([MOBILITY_TRACK]) == [
        ("core", 4),
        ("core", 5),
        ("core", 6),
        ("core", 7),
    ]

    filed = dict(store._db.execute("SELECT id, n FROM decisions WHERE subject = ?", (subject,)))
    assert filed[first] == decision_number(first) and filed[ids[3]] == decision_number(ids[3])
    assert filed[taken] < 0 and filed["a-uuid4-era-id"] < 0
    _assert_filed(store, subject, ids)
    store.audit.log_decision(_decision(latest := time_ordered_id(), subject))  # chains on
    _assert_filed(store, subject, [*ids, latest])
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store._db.execute("DELETE FROM decisions")


def test_an_edited_link_between_decisions_is_named(tmp_path: Path) -> None:
    """A subject's decisions are read along their links, which the hashes do not
    cover; verify checks them, so that rewriting one cannot hide a decision."""
    path = tmp_path / "ledger.db"
    who, first = _ledger_with_an_audit_trail(path)
    _drop_triggers(path)
    sql(path, "UPDATE decisions SET prev = NULL WHERE id <> ?", (first,))
    sql(path, "UPDATE audit_heads SET decision = (SELECT n FROM decisions WHERE id = ?)", (first,))
    system = shipped_system(path)
    assert [d.id for d in system.uow.audit.decisions(system.subjects.identify(who).key)] == [first]

    problems = system.integrity.verify()

    assert [p.table for p in problems] == ["decisions", "audit_heads"]
    assert "previous decision was edited" in problems[0].problem and problems[0].seq == 3
    assert "last decision" in problems[1].problem
