"""The forked import worker is a faster path to the same ledger: it must give
exactly what the in-process path gives, row for row and hash for hash."""

from __future__ import annotations

import json
import random
from pathlib import Path

from ledger_support import at, people, shipped_system, sql


def _record_file(path: Path, count: int) -> Path:
    rng = random.Random(7)
    residents = people(300)
    categories = ["traffic-violation", "volunteering-8h", "drunk-driving", "no-such-category"]
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            occurred = at(2025, 1, 1 + n % 28, n % 24)
            fields = {
                "id": f"w{n % (count - 40)}",  # the last 40 lines repeat earlier ids
                "scheme": "rongcheng-personal",
                "category": rng.choice(categories),
                "subject": rng.choice(residents),
                "occurred_at": occurred.isoformat(),
                "reporter": "police",
            }
            if n % 3:
                fields["reported_at"] = occurred.replace(hour=23).isoformat()
            out.write(json.dumps(fields) + "\n")
        out.write("{not json\n")
    return path


def test_the_worker_and_the_in_process_path_write_the_same_ledger(tmp_path: Path) -> None:
    source = _record_file(tmp_path / "records.jsonl", 3_000)
    forked, plain = shipped_system(tmp_path / "forked.db"), shipped_system(tmp_path / "plain.db")

    by_worker = forked.import_file(source, batch_size=700, worker=True)
    in_process = plain.import_file(source, batch_size=700, worker=False)

    assert by_worker.accepted == in_process.accepted > 0
    assert by_worker.duplicates == in_process.duplicates
    assert by_worker.rejected == in_process.rejected
    assert len(by_worker.rejected) > 40  # unknown categories, repeats that conflict, bad JSON
    query = "SELECT subject, seq, id, points, reported_at, hash FROM records ORDER BY subject, seq"
    rows = sql(tmp_path / "forked.db", query)
    assert rows == sql(tmp_path / "plain.db", query)
    assert len(rows) == by_worker.accepted
    assert forked.verify() == [] and plain.verify() == []
