"""A real HTTP server on a free loopback port, over a real SQLite file with
the shipped schemes; tests talk to it with httpx."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from socialcredit import bootstrap
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.bootstrap import Services
from socialcredit.domain.identity import generate_ric, generate_uscc
from socialcredit.testing import location, serving

NOW = datetime.now(UTC).replace(microsecond=0)
_rng = random.Random(33)
RESIDENT, NEIGHBOUR = ("cn-ric:" + generate_ric(_rng) for _ in range(2))
FIRM = "cn-uscc:" + generate_uscc(_rng, first="9")

# A commercial scheme that rests on consent (shared with the other layers' tests);
# tests add it over HTTP under their own id.
CONSENT_SCHEME = (
    (Path(__file__).parents[1] / "data" / "deposit-club.yaml")
    .read_text()
    .replace("id: deposit-club", "id: api-club")
)


@dataclass
class Service:
    url: str
    system: Services
    keys: dict[str, str]  # role name -> bearer token
    folder: Path

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[who]}"} if who else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder: Path = tmp_path_factory.mktemp("api")
    system = bootstrap.open(
        location(folder / "city.db"), create=True, env={"SOCIALCREDIT_KEY": "ab" * 32}
    )
    system.definitions.add_files(shipped_scheme_files())
    keys = {
        "admin": system.keys.create("admin", actor="cli")[1],
        "court": system.keys.create("reporter", authority="spc", actor="cli")[1],
        "city": system.keys.create("reporter", authority="rongcheng-gov", actor="cli")[1],
        "rail": system.keys.create("checker", authority="china-railway", actor="cli")[1],
        "city-reviewer": system.keys.create("reviewer", authority="rongcheng-gov", actor="cli")[1],
        "court-reviewer": system.keys.create("reviewer", authority="spc", actor="cli")[1],
        "resident": system.keys.create("subject", subject=RESIDENT, actor="cli")[1],
        "neighbour": system.keys.create("subject", subject=NEIGHBOUR, actor="cli")[1],
    }
    revoked, token = system.keys.create("admin", actor="cli")
    system.keys.revoke(revoked.id, actor="cli")
    keys["revoked"] = token
    try:
        with serving(system) as url:
            yield Service(url, system, keys, folder)
    finally:
        system.close()


def record(
    id: str, subject: str, category: str, days_ago: float, scheme: str = "rongcheng-personal"
) -> dict[str, str]:
    occurred = NOW - timedelta(days=days_ago)
    return {
        "id": id,
        "scheme": scheme,
        "category": category,
        "subject": subject,
        "occurred_at": occurred.isoformat(),
        "reported_at": (occurred + timedelta(hours=2)).isoformat(),
        "reporter": "test",
    }
