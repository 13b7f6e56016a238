"""Two connections writing to one ledger: neither may chain from a stale head."""

from __future__ import annotations

from pathlib import Path

from ledger_support import at, line, location, numbered, people, shipped_system

from socialcredit.app import SocialCredit


def _second(path: Path, first: SocialCredit) -> SocialCredit:
    return SocialCredit(type(first.store)(location(path)), first.pseudonymiser, first.clock)


def test_an_event_written_elsewhere_is_not_overwritten_by_a_stale_head(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    a = shipped_system(path)
    b = _second(path, a)
    subject, other = people(2)
    first = line("r1", subject, "traffic-violation", at(2025, 1, 2), reported_at=at(2025, 1, 3))
    assert a.import_records(numbered([first])).accepted == 1
    b.record_event("r1", "contested", at=at(2025, 2, 1))  # written through the other connection
    a.enrol(other, "rongcheng-personal")  # a's own commit must not vouch for its stale cache
    second = line("r2", subject, "traffic-violation", at(2025, 3, 1), reported_at=at(2025, 3, 2))

    assert a.import_records(numbered([second])).accepted == 1

    assert a.verify() == []
    assert b.verify() == []
    seqs = a.store._db.execute(
        "SELECT seq FROM records WHERE subject = (SELECT subject FROM records WHERE id = 'r2') "
        "UNION ALL SELECT seq FROM record_events ORDER BY 1"
    ).fetchall()
    assert [seq for (seq,) in seqs] == [1, 2, 3]
