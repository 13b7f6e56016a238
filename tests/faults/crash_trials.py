"""Crash trials: a real `socialcredit` command killed with SIGKILL at a random
moment, then the ledger checked and the command run again. Shared by
``tests/faults/`` (a few trials, in CI) and ``bench/faults.py`` (hundreds).

After every kill:
- ``verify`` passes, the transparency log included, and the log still gives
  every head published before the trial;
- no record is lost or duplicated against the source file: what is held of the
  trial's ids is a subset of the file's lines, each once and as sent;
- running the command again completes the work exactly once: every line held,
  none twice, nothing refused.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialcredit import bootstrap
from socialcredit.adapters.files.heads import FileHeads
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric

KEY = "fa" * 32
BIN = Path(sys.executable).parent / "socialcredit"


@dataclass
class Tally:
    """What the trials of one target on one store came to."""

    trials: int = 0
    failures: list[str] = field(default_factory=list)
    moments: Counter[str] = field(default_factory=Counter)  # before / during / after the work

    def as_dict(self) -> dict[str, object]:
        return {
            "trials": self.trials,
            "failures": len(self.failures),
            "killed": dict(self.moments),
            "first_failures": self.failures[:3],
        }


def new_ledger(location: str) -> None:
    system = bootstrap.open(location, create=True, env={"SOCIALCREDIT_KEY": KEY})
    try:
        system.definitions.add_files(shipped_scheme_files())
    finally:
        system.close()


def _source(folder: Path, trial: int, lines: int, rng: random.Random) -> Path:
    people = ["cn-ric:" + generate_ric(rng) for _ in range(max(1, lines // 5))]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    path = folder / f"trial-{trial}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            occurred = start + timedelta(minutes=n)
            item = {
                "id": f"t{trial}-{n}",
                "scheme": "rongcheng-personal",
                "category": ("traffic-violation", "volunteering-8h")[n % 2],
                "subject": people[n % len(people)],
                "occurred_at": occurred.isoformat(),
                "reported_at": (occurred + timedelta(days=1)).isoformat(),
                "reporter": "police",
            }
            out.write(json.dumps(item) + "\n")
    return path


def import_trial(location: str, folder: Path, trial: int, rng: random.Random, tally: Tally) -> None:
    """Kill `socialcredit records import` at a random moment, then check and re-run."""
    lines = 20_000
    source = _source(folder, trial, lines, rng)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["SOCIALCREDIT_KEY"] = KEY
    command = [str(BIN), "--db", location, "records", "import", str(source), "--json"]
    _publish_head(location, folder)
    started = time.monotonic()
    running = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if rng.random() < 0.2:
        time.sleep(rng.uniform(0.0, 1.5))  # anywhere from start-up on
    else:
        _first_records(location, trial, running)  # once it writes, a moment later
        time.sleep(rng.uniform(0.0, 0.3))
    running.send_signal(signal.SIGKILL)
    running.wait(timeout=60)
    _settled(location)
    tally.trials += 1
    held, problem = _check_and_finish(location, source, trial, lines)
    moment = "before" if held == 0 else "after" if held == lines else "during"
    tally.moments[moment] += 1
    if problem:
        tally.failures.append(f"trial {trial} ({time.monotonic() - started:.1f} s): {problem}")


def _publish_head(location: str, folder: Path) -> None:
    """A head published before the trial, which the log must still give after the kill."""
    system = bootstrap.open(location, env={"SOCIALCREDIT_KEY": KEY})
    try:
        system.log.publish(FileHeads(f"file:{folder / 'heads.jsonl'}"))
    finally:
        system.close()


def _settled(location: str) -> None:
    """Wait for the server to finish what the killed client left it: a COMMIT
    sent just before the kill still lands, a moment later. (SQLite has no
    server: what the process did not finish, nobody does.)"""
    if not location.startswith("postgres"):
        return
    import psycopg

    with psycopg.connect(location, autocommit=True) as connection:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            (others,) = connection.execute(
                "SELECT COUNT(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            if others == 0:
                return
            time.sleep(0.02)
        raise RuntimeError("the killed client's backend is still at work after a minute")


def _first_records(location: str, trial: int, running: subprocess.Popen[bytes]) -> None:
    """Wait until the command's first records are in (or it has ended)."""
    watcher = bootstrap.open(location, env={"SOCIALCREDIT_KEY": KEY})
    try:
        deadline = time.monotonic() + 30
        while running.poll() is None and time.monotonic() < deadline:
            if _held(watcher, trial, limit=1):
                return
            time.sleep(0.01)
    finally:
        watcher.close()


def _check_and_finish(
    location: str, source: Path, trial: int, lines: int
) -> tuple[int, str | None]:
    """How many of the trial's records the kill left, and None if the ledger
    holds after the kill and after the re-run, or else what is wrong."""
    system = bootstrap.open(location, env={"SOCIALCREDIT_KEY": KEY})
    try:
        held = _held(system, trial)
        return len(held), _judge(system, source, trial, lines, held)
    finally:
        system.close()


def _judge(
    system: bootstrap.Services,
    source: Path,
    trial: int,
    lines: int,
    held: list[tuple[str, tuple[str, str]]],
) -> str | None:
    problems = system.integrity.check().problems
    if problems:
        return f"verify after the kill: {problems[:2]}"
    sent = {
        item["id"]: (item["category"], item["occurred_at"])
        for item in map(json.loads, source.read_text().splitlines())
    }
    ids = [i for i, _ in held]
    if len(ids) != len(set(ids)):
        return "a record held twice"
    wrong = [i for i, found in held if sent.get(i) != found]
    if wrong:
        return f"records held that the file does not have as sent: {wrong[:3]}"
    report = system.imports.import_file(source)
    if report.rejected:
        return f"the re-run refused lines: {report.rejected[:2]}"
    if report.accepted + report.duplicates != lines or report.duplicates != len(held):
        return f"the re-run took {report.accepted} and found {report.duplicates} repeats"
    after = _held(system, trial)
    if sorted(i for i, _ in after) != sorted(sent):
        return f"after the re-run {len(after)} of {lines} records are held"
    problems = system.integrity.check().problems
    return f"verify after the re-run: {problems[:2]}" if problems else None


def _held(
    system: bootstrap.Services, trial: int, limit: int | None = None
) -> list[tuple[str, tuple[str, str]]]:
    query = "SELECT id, category, occurred_at FROM records WHERE id LIKE ?"
    rows = system.uow.database.connection.execute(
        query + (f" LIMIT {limit}" if limit else ""), (f"t{trial}-%",)
    ).fetchall()
    return [(row[0], (row[1], _iso(row[2]))) for row in rows]


def _iso(text: str) -> str:
    return datetime.fromisoformat(text).isoformat()
