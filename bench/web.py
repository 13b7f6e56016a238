"""Web benchmark: how long the subject portal (/me) and the operator console
(/console) take to render on the demo town, against the JSON API's score
enquiry for the same resident, measured in the same run.

Builds a demo town, starts ``socialcredit serve`` in its own process on
loopback, signs in with the keys ``demo --serve`` prints, and times sequential
requests. Prints one JSON line.

Usage: python bench/web.py [--people N] [--requests N]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this folder first on the path, where bench/http.py would hide the
# standard library's http package from httpx.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

import httpx
from rich.console import Console

from socialcredit import bootstrap
from socialcredit.entrypoints.demo import demo_keys, run_demo
from socialcredit.testing import free_port, wait_until_up

BIN = Path(sys.executable).parent / "socialcredit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sc-bench-web-"))
    db = str(folder / "demo.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    os.environ.pop("SOCIALCREDIT_KEY", None)
    summary = run_demo(
        db,
        people=args.people,
        businesses=max(args.people // 20, 10),
        institutions=10,
        seed=2026,
        console=Console(quiet=True),
    )
    with bootstrap.open(db) as services:
        keys = demo_keys(services, summary)
        resident = next(
            e["identifier"] for e in summary["examples"] if e["decision"]["effect"] == "deny"
        )
        api_key = services.keys.create("admin", actor="bench")[1]
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--db", db, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        subject = _signed_in(url, keys["subject"][0])
        reviewer = _signed_in(url, keys.get("reviewer", keys["admin"])[0])
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"})
        result = {
            "requests": args.requests,
            "me": _times(subject, "/me", args.requests),
            "console": _times(reviewer, "/console", args.requests),
            "baseline_api_scores": _times(api, f"/subjects/{resident}/scores", args.requests),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
    base = result["baseline_api_scores"]["p50_ms"]
    result["me_to_baseline_p50"] = round(result["me"]["p50_ms"] / base, 2)
    result["console_to_baseline_p50"] = round(result["console"]["p50_ms"] / base, 2)
    print(json.dumps(result))


def _times(client: httpx.Client, path: str, count: int) -> dict[str, float]:
    assert client.get(path).status_code == 200, path  # warm: templates, caches
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 2),
    }


def _signed_in(url: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
    assert found is not None
    client.post("/signin", data={"key": key, "csrf": found[1]})
    return client


if __name__ == "__main__":
    main()
