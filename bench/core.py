"""Core engine benchmark: import, score and check on a real SQLite file.

Generates 1,000,000 records for 100,000 subjects over the shipped schemes,
imports them through the same path as ``socialcredit records import`` (JSON
Lines file -> validation -> hashing -> chained append), then times score
(with explanation) and check, in-process, for subjects with about 20 records
across 5 schemes. Baselines are measured in the same run: plain sqlite3
executemany inserts and primary-key lookups on the same machine and disk.

Prints one JSON line. Usage: python bench/core.py [--records N] [--subjects N]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialcredit import bootstrap
from socialcredit.adapters.files.definitions import load_definition
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.bootstrap import Services
from socialcredit.domain.identity import generate_ric, generate_uscc
from socialcredit.domain.schemes.models import Scheme

# Extra person-rating schemes (copies of the Rongcheng personal scheme under
# other ids) so that a benchmark subject can hold records across 5 schemes.
EXTRA_PERSON_SCHEMES = ("bench-city-b", "bench-city-c")
FIVE_SCHEMES = ("rongcheng-personal", "spc-defaulters", "caac-flight-ban", *EXTRA_PERSON_SCHEMES)


def main() -> None:
    command_line(run, __doc__, records=1_000_000, subjects=100_000, samples=2_000)


def command_line(
    run: Callable[[Path, int, int, int], dict[str, object]],
    doc: str | None,
    *,
    records: int,
    subjects: int,
    samples: int,
) -> None:
    """A benchmark over this ledger: read ``--records``, ``--subjects`` and
    ``--samples``, run in a temporary folder, print the result as one JSON line."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=records)
    parser.add_argument("--subjects", type=int, default=subjects)
    parser.add_argument("--samples", type=int, default=samples)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sc-bench-") as tmp:
        result = run(Path(tmp), args.records, args.subjects, args.samples)
    sys.stdout.write(json.dumps(result) + "\n")


def run(tmp: Path, n_records: int, n_subjects: int, samples: int) -> dict[str, object]:
    rng = random.Random(42)
    system, focus, written, import_seconds = build_ledger(tmp, rng, n_records, n_subjects, samples)
    score_us = _timed(lambda s: system.checks.scores(s, actor="bench"), focus)
    check_us = _timed(lambda s: system.checks.check(s, "travel.air.ticket", actor="bench"), focus)
    insert_rate, lookup_us = _sqlite_baseline(tmp / "baseline.db", n_records, rng)
    system.close()
    return {
        "records": written,
        "subjects": n_subjects,
        "import_records_per_s": round(written / import_seconds),
        "score_p50_us": _pct(score_us, 50),
        "score_p99_us": _pct(score_us, 99),
        "check_p50_us": _pct(check_us, 50),
        "check_p99_us": _pct(check_us, 99),
        "baseline_sqlite_insert_rows_per_s": round(insert_rate),
        "baseline_sqlite_lookup_p50_us": lookup_us,
        "score_subject_records": 20,
        "score_subject_schemes": len(FIVE_SCHEMES),
    }


def build_ledger(
    tmp: Path, rng: random.Random, n_records: int, n_subjects: int, samples: int
) -> tuple[Services, list[str], int, float]:
    """The benchmark's ledger in ``tmp``: the system, the ``samples`` subjects
    with about 20 records across 5 schemes, the records written, and the
    seconds their import took."""
    now = datetime.now(UTC).replace(microsecond=0)
    system = bootstrap.open(str(tmp / "bench.db"), create=True, env={"SOCIALCREDIT_KEY": "ab" * 32})
    system.definitions.add_files([*_core_scheme_files(), *_extra_schemes(tmp)])
    schemes = {sid: h.current for sid, h in system.definitions.registry.schemes.items()}
    subjects = _subjects(rng, n_subjects)
    focus = subjects["person"][:samples]
    source = tmp / "records.jsonl"
    written = _write_records(source, rng, subjects, schemes, focus, n_records, now)
    started = time.perf_counter()
    report = system.imports.import_file(source)
    import_seconds = time.perf_counter() - started
    assert report.accepted == written, (report.accepted, written, report.rejected[:3])
    return system, focus, written, import_seconds


def _core_scheme_files() -> list[Path]:
    """The shipped government schemes and memoranda (issue 2's set). The commercial
    pilots are left out: their records need each subject's consent or come from trips."""
    kept = []
    for path in shipped_scheme_files():
        definition = load_definition(path).definition
        if not (isinstance(definition, Scheme) and definition.authority.kind == "commercial"):
            kept.append(path)
    return kept


def _extra_schemes(tmp: Path) -> list[Path]:
    original = next(p for p in shipped_scheme_files() if p.stem == "rongcheng-personal").read_text()
    paths = []
    for scheme_id in EXTRA_PERSON_SCHEMES:
        path = tmp / f"{scheme_id}.yaml"
        path.write_text(original.replace("id: rongcheng-personal", f"id: {scheme_id}", 1))
        paths.append(path)
    return paths


def _subjects(rng: random.Random, total: int) -> dict[str, list[str]]:
    people = {"cn-ric:" + generate_ric(rng) for _ in range(int(total * 0.9))}
    firms = {"cn-uscc:" + generate_uscc(rng, first="9") for _ in range(int(total * 0.09))}
    bodies = {
        "cn-uscc:" + generate_uscc(rng, first="1") for _ in range(total - len(people) - len(firms))
    }
    return {"person": sorted(people), "business": sorted(firms), "institution": sorted(bodies)}


def _write_records(path, rng, subjects, schemes, focus, n_records, now) -> int:
    """Focus subjects get 4 records in each of 5 schemes (about 20 in all); the
    rest of the records fall at random on subjects and the schemes rating them."""
    by_kind = {k: [s for s in schemes.values() if k in s.definition.subjects] for k in subjects}
    written = 0
    with path.open("w") as out:
        for subject in focus:
            for scheme_id in FIVE_SCHEMES:
                for _ in range(4):
                    written += 1
                    out.write(_line(written, schemes[scheme_id], subject, rng, now))
        kinds = [k for k in subjects for _ in range(len(subjects[k]))]
        while written < n_records:
            kind = rng.choice(kinds)
            written += 1
            out.write(
                _line(written, rng.choice(by_kind[kind]), rng.choice(subjects[kind]), rng, now)
            )
    return written


def _line(serial, scheme, subject, rng, now) -> str:
    category = rng.choice(list(scheme.categories.values()))
    occurred = now - timedelta(seconds=rng.randrange(365 * 86400))
    return (
        json.dumps(
            {
                "id": f"r{serial}",
                "scheme": scheme.id,
                "category": category.code,
                "subject": subject,
                "occurred_at": occurred.isoformat(),
                "reported_at": (occurred + timedelta(hours=6)).isoformat()
                if occurred + timedelta(hours=6) < now
                else now.isoformat(),
                "reporter": scheme.definition.authority.id,
                "evidence": f"case-{serial}",
            }
        )
        + "\n"
    )


def _timed(call, subjects) -> list[float]:
    for subject in subjects[:50]:
        call(subject)  # warm caches
    timings = []
    for subject in subjects:
        started = time.perf_counter_ns()
        call(subject)
        timings.append((time.perf_counter_ns() - started) / 1000)
    return timings


def _pct(values: list[float], pct: int) -> float:
    if pct == 50:
        return round(statistics.median(values), 1)
    return round(statistics.quantiles(values, n=100)[pct - 1], 1)


def _sqlite_baseline(path: Path, n_rows: int, rng: random.Random) -> tuple[float, float]:
    """Plain sqlite3 on the same disk: executemany of record-sized rows, then PK lookups."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE t (id TEXT PRIMARY KEY, subject TEXT, scheme TEXT, category TEXT, "
        "occurred_at TEXT, points INTEGER, hash TEXT) WITHOUT ROWID"
    )
    rows = [
        (
            f"r{i}",
            f"s{i % 100_000:064d}",
            "rongcheng-personal",
            "traffic-ticket",
            "2026-01-01T00:00:00+00:00",
            -5,
            "0" * 64,
        )
        for i in range(n_rows)
    ]
    started = time.perf_counter()
    for offset in range(0, n_rows, 5_000):
        db.execute("BEGIN")
        db.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?)", rows[offset : offset + 5_000])
        db.execute("COMMIT")
    rate = n_rows / (time.perf_counter() - started)
    keys = [f"r{rng.randrange(n_rows)}" for _ in range(20_000)]
    timings = []
    for key in keys:
        started_ns = time.perf_counter_ns()
        db.execute("SELECT * FROM t WHERE id = ?", (key,)).fetchone()
        timings.append((time.perf_counter_ns() - started_ns) / 1000)
    db.close()
    return rate, round(statistics.median(timings), 1)


if __name__ == "__main__":
    main()
