"""Crash trials in CI: each target's real `socialcredit` command killed with
SIGKILL at a random moment, 20 times, on SQLite and (when the tests run there)
PostgreSQL: an import, a contest and its review, an erasure (retention run),
a notice delivery and a rescore; and an import on a full disk (SQLite) and
through a server restart (PostgreSQL). `bench/faults.py` runs hundreds. See
crash_trials.py for what each trial checks."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from crash_trials import (
    TARGETS,
    Tally,
    full_disk_trial,
    import_trial,
    new_ledger,
    restart_trial,
)

from socialcredit.config import test_store as configured_store
from socialcredit.testing import location

STORE = configured_store()

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


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_other_target_killed_at_random_does_its_work_once(
    tmp_path: Path, target: str
) -> None:
    where = location(tmp_path / "crash.db")
    new_ledger(where)
    rng = random.Random(2027)
    tally = Tally()
    trial = 0
    while tally.trials < TRIALS:  # a contest-and-review trial is two kills
        TARGETS[target](where, tmp_path, trial, rng, tally)
        trial += 1
    assert tally.failures == []
    # Some kills landed before the work and some after it: both states were judged.
    assert tally.moments["before"] > 0 and len(tally.moments) > 1, tally.moments


def test_an_import_on_a_full_disk_ends_clearly_and_loses_nothing(tmp_path: Path) -> None:
    if STORE == "postgres":
        pytest.skip("the server's disk is the server's: the restart trial stands for it")
    where = location(tmp_path / "crash.db")
    new_ledger(where)
    rng, tally = random.Random(2028), Tally()
    for trial in range(TRIALS):
        full_disk_trial(where, tmp_path, trial, rng, tally)
    assert tally.failures == []
    assert tally.moments["during"] > 0, tally.moments  # the disk did fill up mid-import


def test_an_import_through_a_server_restart_ends_clearly_and_loses_nothing(
    tmp_path: Path,
) -> None:
    if STORE != "postgres":
        pytest.skip("a server restart needs the PostgreSQL store")
    where = location(tmp_path / "crash.db")
    new_ledger(where)
    rng, tally = random.Random(2029), Tally()
    for trial in range(TRIALS):
        restart_trial(where, tmp_path, trial, rng, tally)
    assert tally.failures == []
    assert tally.moments["during"] > 0, tally.moments
