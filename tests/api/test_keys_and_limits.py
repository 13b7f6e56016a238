"""API keys that expire, keys rotated with a grace period, and requests
limited per key (429 with Retry-After), over real HTTP on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from conftest import RESIDENT, Service
from socialcredit import bootstrap
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.times import iso
from socialcredit.entrypoints.api.limits import KeyLimiter, RateLimit
from socialcredit.errors import UsageError
from socialcredit.testing import location, serving

BIN = Path(sys.executable).parent / "socialcredit"
CHECK = f"/subjects/{RESIDENT}/check?action=travel.rail.highspeed"  # china-railway's


def _get(url: str, token: str, path: str = CHECK) -> httpx.Response:
    return httpx.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_a_key_stops_working_when_it_expires(service: Service) -> None:
    system = service.system
    key, token = system.keys.create(
        "checker", authority="china-railway", expires_in=timedelta(hours=1), actor="cli"
    )
    assert key.expires_at == key.created_at + timedelta(hours=1)
    assert _get(service.url, token).status_code == 200
    with system.clock.held_at(key.created_at + timedelta(hours=1)):
        refused = _get(service.url, token)
    assert refused.status_code == 401
    assert refused.json()["detail"] == f"the key {key.id} expired at {iso(key.expires_at)}"
    with pytest.raises(UsageError, match="a key must live for some time"):
        system.keys.create("admin", expires_in=timedelta(0), actor="cli")


def test_a_rotated_key_works_through_its_grace_period_then_stops(service: Service) -> None:
    system = service.system
    old, old_token = system.keys.create("checker", authority="china-railway", actor="cli")
    new, new_token = system.keys.rotate(old.id, grace=timedelta(days=1), actor="cli")
    assert (new.role, new.authority) == (old.role, old.authority) and new.id != old.id
    listed = {k.id: k for k in system.keys.list()}
    assert listed[old.id].expires_at == new.created_at + timedelta(days=1)
    assert listed[new.id].expires_at is None
    assert _get(service.url, old_token).status_code == 200  # in its grace period
    assert _get(service.url, new_token).status_code == 200
    with system.clock.held_at(new.created_at + timedelta(days=1, seconds=1)):
        assert _get(service.url, old_token).status_code == 401
        assert _get(service.url, new_token).status_code == 200
        with pytest.raises(UsageError, match="has expired: make a new one"):
            system.keys.rotate(old.id, grace=timedelta(days=1), actor="cli")
    # A rotation never lengthens a key's life; a revoked key is not rotated.
    system.keys.rotate(new.id, grace=timedelta(days=30), actor="cli")
    short, _ = system.keys.create(
        "checker", authority="china-railway", expires_in=timedelta(hours=2), actor="cli"
    )
    system.keys.rotate(short.id, grace=timedelta(days=30), actor="cli")
    assert {k.id: k for k in system.keys.list()}[short.id].expires_at == short.expires_at
    system.keys.revoke(short.id, actor="cli")
    with pytest.raises(UsageError, match="was revoked"):
        system.keys.rotate(short.id, grace=timedelta(days=1), actor="cli")


@pytest.fixture
def limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, str]]:
    monkeypatch.setenv("SOCIALCREDIT_RATE_LIMIT", "0.5/s,3")
    system = bootstrap.open(
        location(tmp_path / "limited.db"), create=True, env={"SOCIALCREDIT_KEY": "cd" * 32}
    )
    system.definitions.add_files(shipped_scheme_files())
    tokens = {
        name: system.keys.create("checker", authority="china-railway", actor="cli")[1]
        for name in ("busy", "quiet")
    }
    with serving(system) as url:
        yield url, tokens
    system.close()


def test_a_key_over_its_limit_gets_429_with_retry_after(
    limited: tuple[str, dict[str, str]],
) -> None:
    url, tokens = limited
    answers = [_get(url, tokens["busy"]).status_code for _ in range(3)]
    assert answers == [200, 200, 200]  # the burst
    refused = _get(url, tokens["busy"])
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 2 and refused.json()["retry_after"] == wait
    assert "sent more requests than its limit" in refused.json()["detail"]
    # Another key has its own bucket; the other routes that take a key are limited too.
    assert _get(url, tokens["quiet"]).status_code == 200
    assert _get(url, tokens["busy"], f"/subjects/{RESIDENT}/decisions").status_code == 429


def test_the_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = KeyLimiter(RateLimit(rate=2.0, burst=2), clock=lambda: now[0])
    limiter.take("k")
    limiter.take("k")
    with pytest.raises(Exception, match="try again in 1 s"):
        limiter.take("k")
    now[0] = 0.5  # one token back
    limiter.take("k")


@pytest.mark.parametrize("text", ["fast", "10/min", "0/s", "-1/s", "5/s,0", "inf/s"])
def test_a_rate_limit_that_does_not_read_is_refused_by_name(text: str) -> None:
    with pytest.raises(UsageError, match=r"rate limit: .* is not RATE/s"):
        RateLimit.parse(text)
    assert RateLimit.parse("off") is None
    assert RateLimit.parse("100/s") == RateLimit(100.0, 200)


def test_the_command_line_rotates_and_refuses_months(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["SOCIALCREDIT_KEY"] = "ef" * 32
    db = str(tmp_path / "cli.db")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), "--db", db, *args], env=env, capture_output=True, text=True
        )

    assert run("init").returncode == 0
    made = run("keys", "create", "--role", "admin", "--expires-in", "P30D", "--json")
    assert made.returncode == 0, made.stderr
    import json

    key = json.loads(made.stdout)
    assert key["expires_at"] is not None
    rotated = run("keys", "rotate", key["id"], "--grace", "PT12H", "--json")
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout)["id"] != key["id"]
    months = run("keys", "create", "--role", "admin", "--expires-in", "P1M")
    assert months.returncode != 0 and "--expires-in: give days, not months" in months.stderr
    bad = run("serve", "--rate-limit", "lots")
    assert bad.returncode != 0 and "rate limit: 'lots' is not RATE/s" in bad.stderr
