"""Crash trials in CI: `socialcredit records import` killed with SIGKILL at a
random moment, 20 times, on SQLite and (when the tests run there) PostgreSQL.
`bench/faults.py` runs hundreds. See crash_trials.py for what each trial checks."""

from __future__ import annotations

import random
from pathlib import Path

from crash_trials import Tally, import_trial, new_ledger

from socialcredit.testing import location

TRIALS = 20


def test_an_import_killed_at_random_moments_loses_and_repeats_nothing(tmp_path: Path) -> None:
    where = location(tmp_path / "crash.db")
    new_ledger(where)
    rng = random.Random(2026)
    tally = Tally()
    for trial in range(TRIALS):
        import_trial(where, tmp_path, trial, rng, tally)
    assert tally.trials == TRIALS
    assert tally.failures == []
    # The kills landed while the import was writing, not only before or after it.
    assert tally.moments["during"] > 0, tally.moments
