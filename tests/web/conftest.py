"""A real ``socialcredit serve`` on a free loopback port over a real SQLite
file, and Debian's Chromium driven by Playwright, for the web's journeys."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from socialcredit import bootstrap
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric, generate_uscc
from socialcredit.testing import CHROMIUM, CHROMIUM_ARGS, free_port, wait_until_up

BIN = Path(sys.executable).parent / "socialcredit"
KEY = "cd" * 32
NOW = datetime.now(UTC).replace(microsecond=0)
_rng = random.Random(1313)
RESIDENT = "cn-ric:" + generate_ric(_rng)
DEFAULTER = "cn-ric:" + generate_ric(_rng)
FIRM = "cn-uscc:" + generate_uscc(_rng, first="9")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)


@dataclass
class Site:
    url: str
    keys: dict[str, str]
    folder: Path

    def api(self, who: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.keys[who]}"}, timeout=30
        )


def _line(id: str, subject: str, category: str, days_ago: int, scheme: str) -> dict[str, str]:
    occurred = (NOW - timedelta(days=days_ago)).isoformat()
    return {
        "id": id,
        "scheme": scheme,
        "category": category,
        "subject": subject,
        "occurred_at": occurred,
        "reported_at": occurred,
        "reporter": "web-test",
    }


def _ledger(path: Path) -> dict[str, str]:
    """The shipped schemes, a resident caught drunk driving, a defaulter and a
    defaulting firm on the court's list, and a key for each role."""
    system = bootstrap.open(str(path), create=True, env={"SOCIALCREDIT_KEY": KEY})
    try:
        system.definitions.add_files(shipped_scheme_files())
        lines = [
            _line("w-drunk", RESIDENT, "drunk-driving", 20, "rongcheng-personal"),
            _line("w-court", DEFAULTER, "obstructing-enforcement", 30, "spc-defaulters"),
            _line("w-firm", FIRM, "obstructing-enforcement", 40, "spc-defaulters"),
        ]
        report = system.imports.import_records(list(enumerate(lines, 1)))
        assert report.accepted == 3, report
        create = system.keys.create
        return {
            "resident": create("subject", subject=RESIDENT, actor="cli")[1],
            "city-reviewer": create("reviewer", authority="rongcheng-gov", actor="cli")[1],
            "court-reviewer": create("reviewer", authority="spc", actor="cli")[1],
            "city-checker": create("checker", authority="rongcheng-gov", actor="cli")[1],
            "admin": create("admin", actor="cli")[1],
            "court-reporter": create("reporter", authority="spc", actor="cli")[1],
        }
    finally:
        system.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if os.environ.get("SOCIALCREDIT_TEST_PG"):
        pytest.skip("the web's journeys run on a SQLite file")
    folder = tmp_path_factory.mktemp("web")
    db = folder / "city.db"
    keys = _ledger(db)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["SOCIALCREDIT_KEY"] = KEY
    server = subprocess.Popen(
        [str(BIN), "serve", "--db", str(db), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_up(url)
        except RuntimeError:
            server.terminate()
            raise RuntimeError(
                f"socialcredit serve did not start: {server.stdout.read()}"
            ) from None  # type: ignore[union-attr]
        yield Site(url, keys, folder)
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield launched
        finally:
            launched.close()
