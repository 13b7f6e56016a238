"""Test-wide setup: with SOCIALCREDIT_TEST_STORE=postgres, a throwaway PostgreSQL
server (initdb and pg_ctl in a temporary folder, on a free loopback port) for
the whole session; tests that open a ledger then get a database of their own
on it (see tests/integration/ledger_support.py:location)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from socialcredit.testing import TEST_SERVER_ENV

STORE = os.environ.get("SOCIALCREDIT_TEST_STORE", "sqlite")


def _binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        pytest.exit(f"PostgreSQL's {name} is not installed (apt-get install postgresql)", 2)
    return found[-1]


def _as_postgres(command: list[str]) -> list[str]:
    # initdb refuses to run as root; the Debian package brings a postgres user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session", autouse=True)
def postgres_server() -> Iterator[str | None]:
    if STORE != "postgres":
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="sc-pg-"))
    folder.chmod(0o777)
    data = folder / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run(_as_postgres([_binary("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "--no-sync", "-E", "UTF8"]), **run)  # fmt: skip
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    )
    subprocess.run(_as_postgres([_binary("pg_ctl"), "-D", str(data), "-o", options, "-l",
                                 str(folder / "log"), "-w", "start"]), **run)  # fmt: skip
    os.environ[TEST_SERVER_ENV] = f"postgresql://postgres@127.0.0.1:{port}"
    try:
        yield os.environ[TEST_SERVER_ENV]
    finally:
        subprocess.run(_as_postgres([_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
