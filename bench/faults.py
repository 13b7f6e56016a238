"""Crash trials, the long version: each target's `socialcredit` command killed
with SIGKILL at a random moment, ``--trials`` times (200 by default) on SQLite
and on a throwaway PostgreSQL server, each followed by the checks of
``tests/faults/crash_trials.py`` (verify with the transparency log and the head
published before, nothing lost or done twice, and the re-run completing the
work exactly once). The targets: `records import`, `contest` and `review`,
`retention run --apply` (erasure), `notices deliver` and `schemes rescore`.

Prints one JSON line: per target and store, the trials, the failures and when
the kills landed (before the work, during it, after it). A count, not a
timing: there is no baseline to measure.

Usage: python bench/faults.py [--trials N] [--no-postgres] [--target NAME]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "faults"))

from crash_trials import TARGETS, Tally, import_trial, new_ledger

from socialcredit.testing import create_database, throwaway_postgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--target", choices=sorted(ALL), action="append")
    args = parser.parse_args()
    found: dict[str, object] = {}
    for name in args.target or list(ALL):
        found[name] = per_store = {}
        with tempfile.TemporaryDirectory(prefix="sc-faults-") as tmp:
            folder = Path(tmp)
            per_store["sqlite"] = _trials(name, str(folder / "crash.db"), folder, args.trials)
            if not args.no_postgres:
                with throwaway_postgres() as server:
                    where = create_database(server, "faults")
                    per_store["postgres"] = _trials(name, where, folder, args.trials)
    sys.stdout.write(json.dumps(found) + "\n")


ALL = {"records import": import_trial, **TARGETS}


def _trials(name: str, location: str, folder: Path, trials: int) -> dict[str, object]:
    new_ledger(location)
    rng, tally, trial = random.Random(15), Tally(), 0
    while tally.trials < trials:
        ALL[name](location, folder, trial, rng, tally)
        trial += 1
        print(f"{name}: {tally.trials}/{trials}", file=sys.stderr, end="\r", flush=True)
    return tally.as_dict()


if __name__ == "__main__":
    main()
