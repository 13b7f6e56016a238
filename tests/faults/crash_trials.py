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
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialcredit import bootstrap
from socialcredit.adapters.files.heads import FileHeads
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric
from socialcredit.testing import restart_postgres

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
    lines = 20_000  # two transactions (the first batch is 10,000): a kill can land between
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


# -- the other targets: a contest and its review, an erasure, notice delivery, a rescore ----


Judge = Callable[[bootstrap.Services], tuple[int, str | None]]  # (work done, problem)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["SOCIALCREDIT_KEY"] = KEY
    return env


def _kill_at_random(
    location: str,
    args: list[str],
    rng: random.Random,
    window: float,
    started: Judge | None = None,
) -> None:
    """Start the command and kill it at a moment drawn from [0, window) seconds;
    or, given ``started``, mostly a moment after it has begun the work (many
    transactions: the kill then tends to land among them)."""
    command = [str(BIN), "--db", location, *args]
    running = subprocess.Popen(
        command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    if started is not None and rng.random() >= 0.2:
        with _opened(location) as watcher:
            deadline = time.monotonic() + 60
            while running.poll() is None and time.monotonic() < deadline:
                if started(watcher)[0] > 0:
                    break
                time.sleep(0.01)
        time.sleep(rng.uniform(0.0, window / 10))
    else:
        time.sleep(rng.uniform(0.0, window))
    running.send_signal(signal.SIGKILL)
    running.wait(timeout=60)
    _settled(location)


def _run(location: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "--db", location, *args], env=_env(), capture_output=True, text=True, timeout=300
    )


def _opened(location: str) -> bootstrap.Services:
    return bootstrap.open(location, env={"SOCIALCREDIT_KEY": KEY})


def _count(system: bootstrap.Services, sql: str, params: tuple[object, ...]) -> int:
    (found,) = system.uow.database.connection.execute(sql, params).fetchone()
    return int(found)


def _trial(
    location: str,
    folder: Path,
    args: list[str],
    rng: random.Random,
    tally: Tally,
    *,
    window: float,
    total: int,
    judge: Judge,
    rerun_may_say: str | None = None,
    started: Judge | None = None,
) -> None:
    """One kill of ``args``, then: the ledger verifies with its log and the head
    published before; the work is done 0..total times and no part twice
    (``judge``); the re-run succeeds (or says ``rerun_may_say``) and leaves it
    done exactly once."""
    _publish_head(location, folder)
    trial = tally.trials
    tally.trials += 1
    _kill_at_random(location, args, rng, window, started)
    with _opened(location) as system:
        done, problem = judge(system)
        problem = problem or _verified(system, "after the kill")
    tally.moments["before" if done == 0 else "after" if done == total else "during"] += 1
    if problem is None:
        again = _run(location, args)
        said = again.stderr.strip()
        if again.returncode != 0 and not (rerun_may_say and rerun_may_say in said):
            problem = f"the re-run failed: {said[:200]}"
    if problem is None:
        with _opened(location) as system:
            done, problem = judge(system)
            if problem is None and done != total:
                problem = f"after the re-run the work is done {done} of {total} times"
            problem = problem or _verified(system, "after the re-run")
    if problem:
        tally.failures.append(f"trial {trial} ({' '.join(args[:2])}): {problem}")


def _verified(system: bootstrap.Services, when: str) -> str | None:
    problems = system.integrity.check().problems
    return f"verify {when}: {problems[:2]}" if problems else None


def _fresh_record(location: str, name: str, rng: random.Random, occurred: datetime) -> str:
    """A record of its own for one trial's target."""
    item = {
        "id": name,
        "scheme": "rongcheng-personal",
        "category": "traffic-violation",
        "subject": "cn-ric:" + generate_ric(rng),
        "occurred_at": occurred.isoformat(),
        "reporter": "police",
    }
    with _opened(location) as system:
        report = system.imports.import_records([(1, item)])
        assert report.accepted == 1, report.rejected
    return name


def contest_and_review_trial(
    location: str, folder: Path, trial: int, rng: random.Random, tally: Tally
) -> None:
    """`contest` killed at random, finished; then `review` killed, finished."""
    record = _fresh_record(location, f"c{trial}", rng, datetime.now(UTC) - timedelta(days=3))

    def contested(system: bootstrap.Services) -> tuple[int, str | None]:
        events = _count(
            system,
            "SELECT COUNT(*) FROM record_events WHERE record = ? AND kind = 'contested'",
            (record,),
        )
        cases = _count(
            system,
            "SELECT COUNT(*) FROM case_events WHERE kind = 'opened' AND body LIKE ?",
            (f'%"{record}"%',),
        )
        return events, None if events == cases else f"{events} contested events, {cases} cases"

    def reviewed(system: bootstrap.Services) -> tuple[int, str | None]:
        events = _count(
            system,
            "SELECT COUNT(*) FROM record_events WHERE record = ? AND kind = 'upheld'",
            (record,),
        )
        return events, None if events <= 1 else f"upheld {events} times"

    statement = ["--statement", "It was not my car."]
    _trial(
        location,
        folder,
        ["contest", record, *statement],
        rng,
        tally,
        window=2.0,
        total=1,
        judge=contested,
        rerun_may_say="already",
    )
    _trial(
        location,
        folder,
        ["review", record, "--uphold", "--reason", "Photo shows the plate."],
        rng,
        tally,
        window=2.0,
        total=1,
        judge=reviewed,
        rerun_may_say="only a contested or restricted record can be reviewed",
    )


def erasure_trial(
    location: str, folder: Path, trial: int, rng: random.Random, tally: Tally
) -> None:
    """`retention run --apply` killed at random among 100 records past retention."""
    long_ago = datetime(2008, 1, 1, tzinfo=UTC)
    items = [
        {
            "id": f"e{trial}-{n}",
            "scheme": "rongcheng-personal",
            "category": "traffic-violation",
            "subject": "cn-ric:" + generate_ric(rng),
            "occurred_at": (long_ago + timedelta(minutes=n)).isoformat(),
            "reported_at": (long_ago + timedelta(days=1)).isoformat(),
            "reporter": "police",
        }
        for n in range(100)
    ]
    with _opened(location) as system:
        assert system.imports.import_records(list(enumerate(items, 1))).accepted == 100
    pattern = f"e{trial}-%"

    def erased(system: bootstrap.Services) -> tuple[int, str | None]:
        blank = _count(
            system, "SELECT COUNT(*) FROM records WHERE id LIKE ? AND category = ''", (pattern,)
        )
        events = _count(
            system,
            "SELECT COUNT(*) FROM record_events WHERE record LIKE ? AND kind = 'erased'",
            (pattern,),
        )
        return blank, None if blank == events else f"{blank} blanked, {events} erased events"

    _trial(
        location,
        folder,
        ["retention", "run", "--apply"],
        rng,
        tally,
        window=3.0,
        total=100,
        judge=erased,
        started=erased,
    )


def notices_trial(
    location: str, folder: Path, trial: int, rng: random.Random, tally: Tally
) -> None:
    """`notices deliver --to file:...` killed at random, with notices to hand over."""
    items = [
        {
            "id": f"n{trial}-{n}",
            "scheme": "rongcheng-personal",
            "category": "traffic-violation",
            "subject": "cn-ric:" + generate_ric(rng),
            "occurred_at": (datetime.now(UTC) - timedelta(days=2, minutes=n)).isoformat(),
            "reporter": "police",
        }
        for n in range(600)
    ]
    with _opened(location) as system:
        assert system.imports.import_records(list(enumerate(items, 1))).accepted == 600
    outbox = folder / "notices.jsonl"
    target = f"file:{outbox}"

    def delivered(system: bootstrap.Services) -> tuple[int, str | None]:
        marked = {
            notice
            for (notice,) in system.uow.database.connection.execute(
                "SELECT notice FROM notice_deliveries WHERE channel = ?", (target,)
            )
        }
        lines = (
            [x for x in outbox.read_text().splitlines() if x.endswith("}")]
            if outbox.exists()
            else []
        )
        in_file = [json.loads(x)["id"] for x in lines]
        if len(in_file) != len(set(in_file)):
            return len(marked), "a notice is in the file twice"
        if not marked <= set(in_file):
            return len(marked), "a notice marked delivered is not in the file"
        pending = _count(
            system,
            "SELECT COUNT(*) FROM notices n WHERE n.source LIKE ? AND NOT EXISTS "
            "(SELECT 1 FROM notice_deliveries d WHERE d.notice = n.id)",
            (f"record:n{trial}-%",),
        )
        return 600 - pending, None

    def swept(system: bootstrap.Services) -> tuple[int, str | None]:
        found = "SELECT COUNT(*) FROM notices WHERE source LIKE ?"
        return _count(system, found, (f"record:n{trial}-%",)), None

    _trial(
        location,
        folder,
        ["notices", "deliver", "--to", target],
        rng,
        tally,
        window=8.0,
        total=600,
        judge=delivered,
        started=swept,
    )


def rescore_trial(
    location: str, folder: Path, trial: int, rng: random.Random, tally: Tally
) -> None:
    """`schemes rescore` killed at random, after a new version of the scheme."""
    scheme = folder / f"village-{trial}.yaml"
    scheme.write_text(_VILLAGE.format(points=-(trial % 7) - 1), encoding="utf-8")
    with _opened(location) as system:
        [added] = system.definitions.add_files([scheme])
    version = added.version

    def rescored(system: bootstrap.Services) -> tuple[int, str | None]:
        found = _count(
            system,
            "SELECT COUNT(*) FROM rescorings WHERE scheme = 'village' AND version = ?",
            (version,),
        )
        return found, None if found <= 1 else f"rescored {found} times"

    _trial(
        location,
        folder,
        ["schemes", "rescore", "village"],
        rng,
        tally,
        window=2.0,
        total=1,
        judge=rescored,
    )


_VILLAGE = """\
type: scheme
id: village
title: Village points
authority: {{id: village-committee, name: Village committee, kind: government}}
context: civic
lawful_basis: public_task
subjects: [person]
retention: P5Y
score: {{base: 100, min: 0}}
grades:
  - {{name: good, min: 100}}
  - {{name: poor}}
categories:
  - {{code: litter, title: Littering, points: {points}, severity: minor, validity: P1Y}}
"""

TARGETS = {
    "contest and review": contest_and_review_trial,
    "erasure": erasure_trial,
    "notice delivery": notices_trial,
    "rescore": rescore_trial,
}


# -- a full disk, and a server restarted mid-import -------------------------------------------


def full_disk_trial(
    location: str, folder: Path, trial: int, rng: random.Random, tally: Tally
) -> None:
    """An import whose files may grow only a little more (RLIMIT_FSIZE: a write
    past it fails as on a full disk): it must end with a clear error, leave a
    ledger that verifies, and a re-run with room must finish the work once."""
    lines = 5_000
    source = _source(folder, trial, lines, rng)
    _publish_head(location, folder)
    held = sum(p.stat().st_size for p in folder.glob(Path(location).name + "*"))
    room = held + rng.randint(64 * 1024, 1024 * 1024)

    def small_disk() -> None:
        signal.signal(
            signal.SIGXFSZ, signal.SIG_IGN
        )  # a write past the limit fails, not the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

    done = subprocess.run(
        [str(BIN), "--db", location, "records", "import", str(source), "--json"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=small_disk,
    )
    tally.trials += 1
    problem = None
    if done.returncode == 0:
        tally.moments["after"] += 1  # it fitted: the limit was not reached
    elif not _clear_error(done.stderr):
        problem = f"not a clear error: {done.stderr[-300:]}"
    else:
        tally.moments["during"] += 1
    if problem is None:
        problem = _check_and_finish(location, source, trial, lines)[1]
    if problem:
        tally.failures.append(f"trial {trial} (full disk): {problem}")


def restart_trial(
    location: str, folder: Path, trial: int, rng: random.Random, tally: Tally
) -> None:
    """The PostgreSQL server restarted while an import writes: the import must
    end with a clear error, the ledger verify, and a re-run finish the work once."""
    lines = 20_000  # two transactions: the restart can land after the first
    source = _source(folder, trial, lines, rng)
    _publish_head(location, folder)
    command = [str(BIN), "--db", location, "records", "import", str(source), "--json"]
    running = subprocess.Popen(
        command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _first_records(location, trial, running)
    time.sleep(rng.uniform(0.0, 0.1))
    restart_postgres(location)
    _, stderr = running.communicate(timeout=120)
    said = stderr.decode()
    tally.trials += 1
    problem = None
    if running.returncode == 0:
        tally.moments["after"] += 1
    elif not _clear_error(said):
        problem = f"not a clear error: {said[-300:]}"
    else:
        tally.moments["during"] += 1
    if problem is None:
        problem = _check_and_finish(location, source, trial, lines)[1]
    if problem:
        tally.failures.append(f"trial {trial} (server restart): {problem}")


def _clear_error(stderr: str) -> bool:
    """No traceback, and the command's last word one ``error:`` line (the
    database driver may have warned before it)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    return "Traceback" not in stderr and bool(lines) and lines[-1].startswith("error: ")
