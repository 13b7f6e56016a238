"""Helpers for test suites (the project's own, and those of deployments that
want to run against a throwaway PostgreSQL server as well as SQLite)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

TEST_SERVER_ENV = "SOCIALCREDIT_TEST_PG"


def location(path: Path | str) -> str:
    """Where a test's ledger for ``path`` lives: the SQLite file itself, or,
    when ``SOCIALCREDIT_TEST_PG`` names a test server, a database on it named
    after the path (so every process that opens the same path reaches the
    same ledger)."""
    server = os.environ.get(TEST_SERVER_ENV)
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
