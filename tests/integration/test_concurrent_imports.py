"""Issue 15, item 4: eight processes import overlapping record files about the
same people and run checks between their batches, all at once. The ledger
must hold what one serial import of the same lines holds (every record once),
with every chain whole. On SQLite, and on PostgreSQL when the tests run there
(``location`` picks the store)."""

from __future__ import annotations

import json
import multiprocessing
import random
from datetime import timedelta
from pathlib import Path

from ledger_support import KEY_ENV, NOW, at, line, location, people, shipped_system

from socialcredit import bootstrap

PROCESSES, POOL, EACH, CHUNKS = 8, 900, 400, 4


def _pool() -> list[dict[str, str]]:
    """The lines every file draws from: fixed ids, so a line is the same wherever it appears."""
    subjects = people(30, seed=15)
    return [
        line(
            f"c-{n}",
            subjects[n % len(subjects)],
            ("traffic-violation", "volunteering-8h", "blood-donation")[n % 3],
            at(2025, 1, 1) + timedelta(hours=n),
            reported_at=at(2025, 1, 2) + timedelta(hours=n),
        )
        for n in range(POOL)
    ]


def _work(path: str, folder: str, worker: int) -> None:
    """Import this worker's file a chunk at a time, checking people in between."""
    rng = random.Random(worker)
    mine = rng.sample(_pool(), EACH)  # overlapping with the others, in its own order
    system = bootstrap.open(location(path), clock=lambda: NOW, env=KEY_ENV)
    try:
        size = EACH // CHUNKS
        for chunk in range(CHUNKS):
            source = Path(folder) / f"w{worker}-{chunk}.jsonl"
            lines = mine[chunk * size : (chunk + 1) * size]
            source.write_text("".join(json.dumps(item) + "\n" for item in lines))
            report = system.imports.import_file(source, batch_size=37)
            assert not report.rejected, report.rejected[:3]
            for item in lines[:5]:
                system.checks.check(item["subject"], "travel.rail.highspeed", actor=f"w{worker}")
    finally:
        system.close()


def _contents(system: bootstrap.Services) -> set[tuple[str, ...]]:
    rows = system.uow.database.connection.execute(
        "SELECT id, subject, scheme, category, occurred_at, reported_at, points FROM records"
    ).fetchall()
    return {tuple(str(value) for value in row) for row in rows}


def test_eight_processes_importing_overlapping_files_equal_a_serial_import(
    tmp_path: Path,
) -> None:
    path = tmp_path / "together.db"
    shipped_system(path).close()
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as separate reporters
    workers = [
        context.Process(target=_work, args=(str(path), str(tmp_path), w)) for w in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0

    together = bootstrap.open(location(path), clock=lambda: NOW, env=KEY_ENV)
    serial = shipped_system(tmp_path / "serial.db")
    try:
        taken = {
            item["id"]: item
            for w in range(PROCESSES)
            for item in random.Random(w).sample(_pool(), EACH)
        }
        report = serial.imports.import_records(enumerate(taken.values(), 1))
        assert report.accepted == len(taken) and not report.rejected
        assert together.integrity.verify() == []
        found = _contents(together)
        assert found == _contents(serial)
        assert len(found) == len(taken)  # every record once
        connection = together.uow.database.connection
        for (key,) in connection.execute("SELECT DISTINCT subject FROM records").fetchall():
            seqs = [
                s
                for (s,) in connection.execute(
                    "SELECT seq FROM records WHERE subject = ? "
                    "UNION ALL SELECT seq FROM record_events WHERE subject = ? ORDER BY 1",
                    (key, key),
                )
            ]
            assert seqs == list(range(1, len(seqs) + 1)), key
        [(decisions,)] = connection.execute("SELECT COUNT(*) FROM decisions").fetchall()
        assert decisions == PROCESSES * CHUNKS * 5  # every check logged, once
    finally:
        together.close()
        serial.close()
