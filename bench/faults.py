"""Crash trials, the long version: `socialcredit records import` killed with
SIGKILL at a random moment, ``--trials`` times (200 by default) on SQLite and
on a throwaway PostgreSQL server, each followed by the checks of
``tests/faults/crash_trials.py`` (verify, nothing lost or duplicated against the
source file, and the re-run completing the work exactly once).

Prints one JSON line: per store, the trials, the failures and when the kills
landed (before the first record, during the writing, after the end). A count,
not a timing: there is no baseline to measure.

Usage: python bench/faults.py [--trials N] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "faults"))

from crash_trials import Tally, import_trial, new_ledger

from socialcredit.testing import create_database, throwaway_postgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    found: dict[str, object] = {"target": "records import"}
    with tempfile.TemporaryDirectory(prefix="sc-faults-") as tmp:
        folder = Path(tmp)
        found["sqlite"] = _trials(str(folder / "crash.db"), folder, args.trials)
        if not args.no_postgres:
            with throwaway_postgres() as server:
                found["postgres"] = _trials(create_database(server, "faults"), folder, args.trials)
    sys.stdout.write(json.dumps(found) + "\n")


def _trials(location: str, folder: Path, trials: int) -> dict[str, object]:
    new_ledger(location)
    rng, tally = random.Random(15), Tally()
    for trial in range(trials):
        import_trial(location, folder, trial, rng, tally)
        print(f"{trial + 1}/{trials}", file=sys.stderr, end="\r", flush=True)
    return tally.as_dict()


if __name__ == "__main__":
    main()
