"""A link, like a record, counts at t only once the ledger knew of it (bi-temporal)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from ledger_support import NOW, at, businesses, line, numbered, people, shipped_system


def test_a_link_reported_later_does_not_rewrite_earlier_answers(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")  # its clock stands at NOW
    [representative] = people(1, seed=71)
    [firm] = businesses(1, seed=72)
    listed = at(2025, 3, 1)
    system.imports.import_records(
        numbered(
            [
                line(
                    "spc-9",
                    firm,
                    "able-but-refusing",
                    listed,
                    scheme="spc-defaulters",
                    reported_at=listed + timedelta(days=1),
                    reporter="court",
                ),
            ]
        )
    )
    system.subjects.link(
        firm, representative, since=at(2020, 1, 1), reporter="cli"
    )  # reported at NOW

    before = system.checks.check(
        representative, "travel.air.ticket", at=NOW - timedelta(days=1), actor="cli"
    )
    after = system.checks.check(representative, "travel.air.ticket", at=NOW, actor="cli")

    assert (before.decision.effect, before.decision.reasons) == ("allow", ())
    assert after.decision.effect == "deny"
