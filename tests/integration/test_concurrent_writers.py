"""Two connections writing to one ledger: neither may chain from a stale head."""

from __future__ import annotations

from pathlib import Path

from ledger_support import KEY_ENV, at, line, location, numbered, people, shipped_system

from socialcredit import bootstrap
from socialcredit.bootstrap import Services


def _second(path: Path, first: Services) -> Services:
    """Another connection to the same ledger, with the same key and clock."""
    return bootstrap.open(location(path), clock=first.clock.read, env=KEY_ENV)


def test_an_event_written_elsewhere_is_not_overwritten_by_a_stale_head(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    a = shipped_system(path)
    b = _second(path, a)
    subject, other = people(2)
    first = line("r1", subject, "traffic-violation", at(2025, 1, 2), reported_at=at(2025, 1, 3))
    assert a.imports.import_records(numbered([first])).accepted == 1
    b.records.add_event(
        "r1", "contested", at=at(2025, 2, 1), actor="cli"
    )  # written through the other connection
    a.subjects.enrol(
        other, "rongcheng-personal", actor="cli"
    )  # a's own commit must not vouch for its stale cache
    second = line("r2", subject, "traffic-violation", at(2025, 3, 1), reported_at=at(2025, 3, 2))

    assert a.imports.import_records(numbered([second])).accepted == 1

    assert a.integrity.verify() == []
    assert b.integrity.verify() == []
    seqs = a.uow.database.connection.execute(
        "SELECT seq FROM records WHERE subject = (SELECT subject FROM records WHERE id = 'r2') "
        "UNION ALL SELECT seq FROM record_events ORDER BY 1"
    ).fetchall()
    assert [seq for (seq,) in seqs] == [1, 2, 3]
