"""Builders shared by the integration tests: real SQLite files in tmp_path,
the application layer, valid identifiers and record lines.

Imported as ``from ledger_support import ...`` (pytest's default ``prepend``
import mode puts this folder on ``sys.path``); the distinct module name keeps
it apart from ``tests/unit/conftest.py``.
"""

from __future__ import annotations

import os
import random
import sqlite3
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from socialcredit import bootstrap
from socialcredit.adapters.db.schema import ERASE_ONLY_CONDITION, SQLITE, erase_only_trigger
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.bootstrap import Services
from socialcredit.config import TEST_SERVER_ENV
from socialcredit.domain.identity import generate_ric, generate_uscc, parse_identifier
from socialcredit.testing import location

KEY = "ab" * 32
KEY_ENV = {"SOCIALCREDIT_KEY": KEY}
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def at(*parts: int) -> datetime:
    """A UTC instant: ``at(2025, 1, 31, 12)``."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def open_system(path: Path | str, now: datetime = NOW) -> Services:
    """A ledger in a real SQLite file (or PostgreSQL database, see :func:`location`)
    with a fixed clock and the key from the env mapping."""
    return bootstrap.open(location(path), create=True, clock=lambda: now, env=KEY_ENV)


def shipped_system(path: Path | str, now: datetime = NOW) -> Services:
    system = open_system(path, now)
    system.definitions.add_files(shipped_scheme_files())
    return system


def people(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        found["cn-ric:" + generate_ric(rng)] = None
    return list(found)


def businesses(count: int, seed: int = 2, first: str = "9") -> list[str]:
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        found["cn-uscc:" + generate_uscc(rng, first=first)] = None
    return list(found)


def line(
    id: str,
    subject: str,
    category: str,
    occurred_at: datetime | str,
    *,
    scheme: str = "rongcheng-personal",
    reported_at: datetime | str | None = None,
    reporter: str = "test-reporter",
    evidence: str | None = None,
) -> dict[str, str]:
    """One record line as a reporter sends it (JSON object / CSV row)."""
    fields = {
        "id": id,
        "scheme": scheme,
        "category": category,
        "subject": subject,
        "occurred_at": _text(occurred_at),
        "reporter": reporter,
    }
    if reported_at is not None:
        fields["reported_at"] = _text(reported_at)
    if evidence is not None:
        fields["evidence"] = evidence
    return fields


def numbered(lines: Iterable[Mapping[str, Any] | str]) -> list[tuple[int, Mapping[str, Any] | str]]:
    return list(enumerate(lines, start=1))


def with_bad_check_char(identifier: str) -> str:
    """The identifier with a wrong (but well-formed) check character."""
    namespace, _, value = identifier.partition(":")
    options = "0123456789X" if namespace == "cn-ric" else "0123456789ABCDEFGHJKLMNPQRTUWXY"
    wrong = next(c for c in options if c != value[-1])
    return f"{namespace}:{value[:-1]}{wrong}"


def masked(identifier: str, kind: str | None = None) -> str:
    return parse_identifier(identifier, kind).masked()  # type: ignore[arg-type]


def scheme_file(folder: Path, name: str, categories: str, *, id: str = "village") -> Path:
    """A small valid scheme definition written to ``folder/name``."""
    text = textwrap.dedent(
        f"""\
        type: scheme
        id: {id}
        title: Village points
        authority: {{id: village-committee, name: Village committee, kind: government}}
        context: civic
        lawful_basis: public_task
        subjects: [person]
        retention: P5Y
        score: {{base: 100, min: 0}}
        grades:
          - {{name: good, min: 100}}
          - {{name: fair, min: 80}}
          - {{name: poor}}
        categories:
        """
    ) + textwrap.indent(textwrap.dedent(categories), "  ")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def sql(path: Path | str, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the file through a separate sqlite3 connection."""
    if os.environ.get(TEST_SERVER_ENV):
        pytest.skip("inspects or tampers with the SQLite file itself")
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        return db.execute(statement, params).fetchall()
    finally:
        db.close()


def before_the_log(path: Path) -> None:
    """Undo migration 7 on a SQLite ledger: no log tables, no leaf column, no
    known_at of enrolments and rescorings, and the erase-only trigger as
    migration 2 made it."""
    sql(path, "DROP TRIGGER records_erase_only")
    sql(path, "ALTER TABLE enrolments DROP COLUMN known_at")
    sql(path, "ALTER TABLE rescorings DROP COLUMN known_at")
    for table in ("log_leaves", "log_nodes", "log_heads"):
        sql(path, f"DROP TABLE {table}")
    sql(path, "ALTER TABLE records DROP COLUMN leaf")
    for statement in erase_only_trigger(SQLITE, ERASE_ONLY_CONDITION):
        sql(path, statement)


def _text(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else value
