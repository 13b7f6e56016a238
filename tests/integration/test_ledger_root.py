"""The ledger root, kept outside the database, catches what chains alone cannot."""

from __future__ import annotations

from pathlib import Path

from ledger_support import at, line, numbered, people, shipped_system, sql


def _drop_triggers(path: Path) -> None:
    for (name,) in sql(path, "SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        sql(path, f"DROP TRIGGER {name}")


def test_a_tail_cut_with_its_head_set_back_passes_verify_but_not_the_root(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    system = shipped_system(path)
    [who] = people(1, seed=81)
    system.imports.import_records(
        numbered(
            [
                line("t1", who, "traffic-violation", at(2025, 1, 2), reported_at=at(2025, 1, 3)),
                line("t2", who, "drunk-driving", at(2025, 2, 2), reported_at=at(2025, 2, 3)),
            ]
        )
    )
    recorded_root = system.integrity.ledger_root()
    assert system.integrity.verify() == []

    # The attack: remove the damaging record and set the head back to the one before.
    _drop_triggers(path)
    [(subject, first_hash)] = sql(path, "SELECT subject, hash FROM records WHERE id = 't1'")
    sql(path, "DELETE FROM records WHERE id = 't2'")
    sql(path, "UPDATE chain_heads SET seq = 1, hash = ? WHERE subject = ?", (first_hash, subject))

    assert system.integrity.verify() == []  # every remaining chain is consistent...
    assert (
        system.integrity.ledger_root() != recorded_root
    )  # ...but the root recorded elsewhere no longer matches


def test_the_root_changes_with_every_appended_row_and_only_then(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    [who] = people(1, seed=82)
    empty = system.integrity.ledger_root()
    system.imports.import_records(numbered([line("u1", who, "traffic-violation", at(2025, 1, 2))]))
    one = system.integrity.ledger_root()
    system.checks.scores(who, actor="cli")  # reads do not move it
    assert empty != one == system.integrity.ledger_root()
    system.records.add_event("u1", "contested", actor="cli")
    assert system.integrity.ledger_root() != one
