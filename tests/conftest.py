"""Test-wide setup: with SOCIALCREDIT_TEST_STORE=postgres, a throwaway PostgreSQL
server for the whole session; tests that open a ledger then get a database of
their own on it (see socialcredit.testing.location)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from socialcredit.config import TEST_SERVER_ENV, test_store
from socialcredit.testing import throwaway_postgres

STORE = test_store()
# Helpers every layer's tests share (rfc9162.py, the RFC's algorithms as written).
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session", autouse=True)
def postgres_server() -> Iterator[str | None]:
    if STORE != "postgres":
        yield None
        return
    with throwaway_postgres() as server:
        os.environ[TEST_SERVER_ENV] = server
        try:
            yield server
        finally:
            del os.environ[TEST_SERVER_ENV]
