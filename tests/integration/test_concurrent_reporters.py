"""Several processes reporting about the same subjects at once: no record is
lost and every subject's chain stays whole."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from pathlib import Path

from ledger_support import KEY_ENV, NOW, at, line, location, numbered, people, shipped_system

from socialcredit import bootstrap

WRITERS, PER_WRITER, BATCH = 4, 600, 50


def _report(path: str, writer: int, subjects: list[str]) -> None:
    system = bootstrap.open(location(path), clock=lambda: NOW, env=KEY_ENV)
    lines = [
        line(
            f"w{writer}-{n}",
            subjects[n % len(subjects)],
            "traffic-violation",
            at(2025, 1, 1) + timedelta(minutes=n),
            reported_at=at(2025, 1, 2) + timedelta(minutes=n),
        )
        for n in range(PER_WRITER)
    ]
    report = system.imports.import_records(numbered(lines), batch_size=BATCH)
    assert report.accepted == PER_WRITER, report.rejected[:3]
    system.close()


def test_concurrent_writers_lose_nothing_and_keep_every_chain_whole(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    shipped_system(path).close()
    subjects = people(12, seed=99)
    context = multiprocessing.get_context(
        "spawn"
    )  # fresh interpreters, as separate reporters would be
    workers = [
        context.Process(target=_report, args=(str(path), w, subjects)) for w in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0

    system = bootstrap.open(location(path), clock=lambda: NOW, env=KEY_ENV)
    assert system.integrity.verify() == []
    [(count,)] = system.uow.database.connection.execute("SELECT COUNT(*) FROM records").fetchall()
    assert count == WRITERS * PER_WRITER
    for subject in subjects:
        key = system.subjects.identify(subject).key
        seqs = [
            s
            for (s,) in system.uow.database.connection.execute(
                "SELECT seq FROM records WHERE subject = ? ORDER BY seq", (key,)
            )
        ]
        assert seqs == list(range(1, len(seqs) + 1))
