"""Helpers for test suites (the project's own, and those of deployments that
want to run against a throwaway PostgreSQL server as well as SQLite)."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from socialcredit.config import test_server

if TYPE_CHECKING:
    from socialcredit.bootstrap import Services


def location(path: Path | str) -> str:
    """Where a test's ledger for ``path`` lives: the SQLite file itself, or,
    when ``SOCIALCREDIT_TEST_PG`` names a test server, a database on it named
    after the path (so every process that opens the same path reaches the
    same ledger)."""
    server = test_server()
    if not server:
        return str(path)
    import psycopg

    name = "t_" + hashlib.sha1(str(path).encode()).hexdigest()[:20]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        if (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            is None
        ):
            admin.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


def postgres_binary(name: str) -> str:
    # The newest installed major version (sorted as numbers: 9 < 15).
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    found = found or [shutil.which(name) or ""]
    if not found[-1]:
        raise FileNotFoundError(
            f"PostgreSQL's {name} is not installed (apt-get install postgresql)"
        )
    return found[-1]


def _as_postgres(command: list[str]) -> list[str]:
    # initdb refuses to run as root; the Debian package brings a postgres user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL server of its own (initdb and pg_ctl in a temporary folder,
    on a free loopback port), yielding its base URL; stopped and removed after."""
    folder = Path(tempfile.mkdtemp(prefix="sc-pg-"))
    folder.chmod(0o777)  # the server runs as the postgres user
    data = folder / "data"
    port = free_port()
    subprocess.run(
        _as_postgres(
            [
                postgres_binary("initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    )
    subprocess.run(
        _as_postgres(
            [
                postgres_binary("pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([postgres_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def restart_postgres(location: str) -> None:
    """Restart the server that holds ``location`` (a throwaway one: its data
    directory is asked of it), at once: clients lose their connections."""
    import psycopg

    with psycopg.connect(location, autocommit=True) as connection:
        row = connection.execute("SHOW data_directory").fetchone()
    if row is None:
        raise RuntimeError(f"{location} does not say where its data directory is")
    data = Path(row[0])
    # The new server writes to the log file, as the first did (``-l``): with no
    # log it would hold this process's output open, and a wait for it never end.
    log = data.parent / "log"
    subprocess.run(
        _as_postgres(
            [
                postgres_binary("pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-m",
                "fast",
                "-w",
                "restart",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def create_database(server: str, name: str) -> str:
    """A fresh database on ``server``; its URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@contextmanager
def serving(services: Services) -> Iterator[str]:
    """The HTTP service over ``services`` on a free loopback port, for the
    block's life (uvicorn in a thread of this process)."""
    import uvicorn

    from socialcredit.entrypoints.api import create_app

    port = free_port()
    config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the HTTP service did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, *, seconds: float = 30.0) -> None:
    """Wait until the HTTP service at ``url`` answers ``/health``."""
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the HTTP service at {url} did not start")
        time.sleep(0.1)


# Debian's Chromium, headless, as the browser tests drive it: without the
# background networking that a closed network refuses many times over.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
)
