"""`socialcredit serve --workers N`: several processes on one port, each over
its own connection to the same ledger, answering checks and logging them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from socialcredit import bootstrap
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.testing import free_port

BIN = Path(sys.executable).parent / "socialcredit"
KEY = "ef" * 32
RESIDENT = "cn-ric:11010519491231002X"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SOCIALCREDIT_TEST_PG")), reason="serves its own SQLite file"
)


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(line) for line in found.split()]


def test_two_workers_answer_checks_over_one_ledger(tmp_path: Path) -> None:
    db = tmp_path / "city.db"
    system = bootstrap.open(str(db), create=True, env={"SOCIALCREDIT_KEY": KEY})
    system.definitions.add_files(shipped_scheme_files())
    token = system.keys.create("checker", authority="china-railway", actor="cli")[1]
    system.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["SOCIALCREDIT_KEY"] = KEY
    port = free_port()
    server = subprocess.Popen(
        [str(BIN), "--db", str(db), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the workers did not start"
            assert server.poll() is None, server.communicate()[1]
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        path = f"/subjects/{RESIDENT}/check?action=travel.rail.highspeed"
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            answers = [client.get(path).status_code for _ in range(40)]
        assert answers == [200] * 40
        # uvicorn's supervisor runs the workers as its children (a spawn helper may sit
        # among them): at least two processes serve.
        assert len(_children(server.pid)) >= 2
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    again = bootstrap.open(str(db), env={"SOCIALCREDIT_KEY": KEY})
    try:
        subject = again.subjects.identify(RESIDENT)
        assert len(again.uow.audit.decisions(subject.key)) == 40  # every check logged, once
    finally:
        again.close()
