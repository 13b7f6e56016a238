"""Where a check's time goes: `bench/core.py`'s check, stage by stage.

Builds the same kind of ledger as ``bench/core.py`` (smaller by default),
scores the sample subjects once to warm the caches as that benchmark does,
then checks each of them for ``travel.air.ticket`` with a timer around each
stage of ``services.checks.check``:

- ``read``: the subject's records and events (the ledger's ``subject_ledger``);
- ``evaluate``: the schemes that bear on the action;
- ``links``: businesses the person represents;
- ``decide``: gathering and combining the measures;
- ``override``: a reviewer's override, looked up for an adverse answer;
- ``reasons``: the reasons as logged JSON;
- ``audit_write``: the decision's row, its chain link and the commit.

Each stage's figure is the median over the samples, and includes the timer's
own cost (about 0.3 µs); ``check_p50_us`` is the whole check's median with
the timers in place, and ``rest`` what no stage covers. The baseline, measured
in the same run, is a plain sqlite3 primary-key lookup on the same disk.

Prints one JSON line. Usage: python bench/check_stages.py [--records N] [--subjects N]
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socialcredit.services.checks as checks_module

# The sibling benchmark, whose ledger this one builds, from the bench folder.
sys.path.insert(0, str(Path(__file__).parent))
import core

ACTION = "travel.air.ticket"


def main() -> None:
    core.command_line(run, __doc__, records=200_000, subjects=20_000, samples=1_500)


def run(tmp: Path, n_records: int, n_subjects: int, samples: int) -> dict[str, object]:
    rng = random.Random(42)
    system, focus, written, _ = core.build_ledger(tmp, rng, n_records, n_subjects, samples)
    for subject in focus:
        system.checks.scores(subject, actor="bench")
    timings: dict[str, list[float]] = {}
    stages = {
        "read": (system.uow.ledger, "subject_ledger"),
        "evaluate": (system.checks, "_standings"),
        "links": (system.checks, "_representations"),
        "decide": (checks_module, "decide"),
        "override": (system.uow.due_process, "overrides"),
        "reasons": (checks_module, "reasons_json"),
        "audit_write": (system.uow.audit, "log_decision"),
    }
    for stage, (owner, name) in stages.items():
        setattr(owner, name, _timed(getattr(owner, name), timings.setdefault(stage, [])))
    whole = []
    for subject in focus:
        started = time.perf_counter_ns()
        system.checks.check(subject, ACTION, actor="bench")
        whole.append((time.perf_counter_ns() - started) / 1000)
    _, lookup_us = core._sqlite_baseline(tmp / "baseline.db", 100_000, rng)
    system.close()
    medians = {
        stage: round(statistics.median(found), 1) for stage, found in timings.items() if found
    }
    check_us = round(statistics.median(whole), 1)
    return {
        "records": written,
        "checks": len(whole),
        "check_p50_us": check_us,
        "stages_p50_us": medians,
        "rest_us": round(check_us - sum(medians.values()), 1),
        "baseline_sqlite_lookup_p50_us": lookup_us,
    }


def _timed(call: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter_ns()
        try:
            return call(*args, **kwargs)
        finally:
            into.append((time.perf_counter_ns() - started) / 1000)

    return timed


if __name__ == "__main__":
    main()
