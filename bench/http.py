"""HTTP benchmark: check throughput and latency, and reporting throughput, over
loopback, against a bare endpoint of the same framework measured in the same run.

The server runs in its own process (uvicorn, one worker; and on PostgreSQL
also 1, 2 and 4 workers, each against the bare endpoint with as many), the load
comes from wrk (Debian package `wrk`) on the same machine. The PostgreSQL numbers come
from a throwaway server started for the run (needs the postgresql package).

Prints one JSON line. Usage: python bench/http.py [--subjects N] [--seconds S]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py, and Python puts its folder first on the path,
# where it would hide the standard library's http package from httpx.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta

import httpx

from socialcredit import bootstrap
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric
from socialcredit.testing import create_database, free_port, throwaway_postgres

KEY = "ab" * 32
# The app each server process builds: the bare endpoint, or the service over a
# ledger. A module of its own, so that uvicorn's workers can import it.
APP_MODULE = """
import os
from fastapi import FastAPI

def app():
    target = os.environ["BENCH_TARGET"]
    if target == "bare":
        bare = FastAPI()

        @bare.get("/constant")
        async def constant():
            return {"status": "ok"}

        return bare
    from socialcredit import bootstrap
    from socialcredit.entrypoints.api import create_app

    return create_app(bootstrap.open(target), rate_limit=None)  # the load is one key
"""
SERVER = """
import os, sys, uvicorn
os.environ["BENCH_TARGET"] = sys.argv[1]
uvicorn.run("benchapp:app", factory=True, host="127.0.0.1", port=int(sys.argv[2]),
            workers=int(sys.argv[3]), log_level="error", access_log=False)
"""
WORKERS = (1, 2, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/http.py needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="sc-http-") as tmp:
        result = run(Path(tmp), args.subjects, args.seconds)
    sys.stdout.write(json.dumps(result) + "\n")


def run(tmp: Path, n_subjects: int, seconds: int) -> dict[str, object]:
    (tmp / "benchapp.py").write_text(APP_MODULE)

    def bare(workers: int = 1) -> float:
        work = lambda url: _wrk(url, ["/constant"], None, seconds)  # noqa: E731
        return _serve(tmp, "bare", work, workers)["rps"]

    before = bare()  # the baseline is measured before and after, and averaged, so that
    result: dict[str, object] = {}  # drift on a shared machine does not favour either side
    with throwaway_postgres() as server:
        stores = {"sqlite": str(tmp / "city.db"), "postgres": create_database(server, "bench")}
        for name, location in stores.items():
            subjects, checker, reporter = _prepare(location, n_subjects)
            paths = [f"/subjects/{s}/check?action=travel.rail.highspeed" for s in subjects[:2000]]
            check = _serve(tmp, location, lambda url, p=paths, k=checker: _wrk(url, p, k, seconds))
            rate = _serve(tmp, location, lambda url, k=reporter, s=subjects: _report(url, k, s))
            result |= {
                f"check_rps_{name}": check["rps"],
                f"check_p50_ms_{name}": check["p50_ms"],
                f"check_p99_ms_{name}": check["p99_ms"],
                f"report_records_per_s_{name}": rate,
            }
            if name == "postgres":
                result |= _workers(tmp, location, paths, checker, seconds, bare)
    baseline = (before + bare()) / 2
    result |= {
        "baseline_rps": round(baseline),
        "check_to_baseline_sqlite": round(result["check_rps_sqlite"] / baseline, 3),  # type: ignore[operator]
        "load_tool": "wrk -t2 -c16",
    }
    return result


def _workers(tmp, location, paths, checker, seconds, bare):  # type: ignore[no-untyped-def]
    """Checks a second on PostgreSQL with 1, 2 and 4 worker processes, each
    against the bare endpoint served by as many workers, measured next to it."""
    found: dict[str, object] = {}
    for workers in WORKERS:
        check = _serve(tmp, location, lambda url: _wrk(url, paths, checker, seconds), workers)[
            "rps"
        ]
        baseline = bare(workers)
        found[f"check_rps_postgres_workers_{workers}"] = check
        found[f"baseline_rps_workers_{workers}"] = baseline
        found[f"check_to_baseline_postgres_workers_{workers}"] = round(check / baseline, 3)
    return found


def _prepare(location: str, n_subjects: int) -> tuple[list[str], str, str]:
    rng = random.Random(5)
    now = datetime.now(UTC)
    system = bootstrap.open(location, create=True, env={"SOCIALCREDIT_KEY": KEY})
    system.definitions.add_files(shipped_scheme_files())
    subjects = sorted({"cn-ric:" + generate_ric(rng) for _ in range(n_subjects)})
    lines = []
    for n, subject in enumerate(subjects):
        scheme, category = (
            ("spc-defaulters", "able-but-refusing")
            if n % 20 == 0
            else ("rongcheng-personal", "traffic-violation")
        )
        occurred = now - timedelta(days=rng.randrange(1, 300))
        lines.append(
            (
                n,
                {
                    "id": f"seed-{n}",
                    "scheme": scheme,
                    "category": category,
                    "subject": subject,
                    "occurred_at": occurred.isoformat(),
                    "reporter": "seed",
                },
            )
        )
    system.imports.import_records(lines)
    checker = system.keys.create("checker", authority="china-railway", actor="cli")[1]
    reporter = system.keys.create("reporter", authority="rongcheng-gov", actor="cli")[1]
    system.close()
    return subjects, checker, reporter


def _serve(tmp: Path, target: str, work, workers: int = 1):  # type: ignore[no-untyped-def]
    port = free_port()
    environment = {**os.environ, "SOCIALCREDIT_KEY": KEY, "PYTHONPATH": str(tmp)}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, target, str(port), str(workers)], cwd=tmp, env=environment
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + ("/constant" if target == "bare" else "/health"), timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        return work(url)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wrk(url: str, paths: list[str], key: str | None, seconds: int) -> dict[str, float]:
    """wrk with a Lua script that cycles through ``paths``; parses req/s and latency percentiles."""
    header = f'wrk.headers["Authorization"] = "Bearer {key}"\n' if key else ""
    listing = ",".join(json.dumps(p) for p in paths)
    script = (
        f"{header}paths = {{{listing}}}\ni = 0\nrequest = function()\n"
        '  i = i % #paths + 1\n  return wrk.format("GET", paths[i])\nend\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    done = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", handle.name, url],
        capture_output=True,
        text=True,
        check=True,
    )
    Path(handle.name).unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if non2xx:
        raise RuntimeError(f"wrk saw {non2xx.group(1)} error responses:\n{done.stdout}")
    return {
        "rps": round(rps),
        "p50_ms": _percentile(done.stdout, "50"),
        "p99_ms": _percentile(done.stdout, "99"),
    }


def _percentile(output: str, pct: str) -> float:
    value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)$", output, re.M).groups()  # type: ignore[union-attr]
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)


def _report(url: str, key: str, subjects: list[str]) -> int:
    """POST batches of 1,000 new records; records per second over ten batches."""
    now = datetime.now(UTC)
    headers = {"Authorization": f"Bearer {key}"}
    batches = [
        [
            {
                "id": f"http-{b}-{n}",
                "scheme": "rongcheng-personal",
                "category": "volunteering-8h",
                "subject": subjects[(b * 1000 + n) % len(subjects)],
                "occurred_at": (now - timedelta(hours=n % 500 + 1)).isoformat(),
                "reporter": "bench",
            }
            for n in range(1000)
        ]
        for b in range(10)
    ]
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        started = time.perf_counter()
        for batch in batches:
            results = http.post("/records", json=batch).json()["results"]
            assert all(r["status"] == 201 for r in results), results[:2]
        elapsed = time.perf_counter() - started
    return round(10_000 / elapsed)


if __name__ == "__main__":
    main()
