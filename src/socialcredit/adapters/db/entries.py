"""Which rows are the transparency log's entries, and the digest each is
committed by: where the log's leaves come from when they are written, when
an older ledger is brought into the log, and when ``verify`` holds the two
together.

A chained row (a record, a record event, a decision) is committed by its
chain hash, which survives erasure; any other entry by a digest of its
stored fields in the order below, which is the order each repository inserts
them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from socialcredit.domain.ledger.transparency import entry_digest


class Leaves(Protocol):
    """Where a write's leaves go (``Database``; named apart here because the
    schema's backfill reads this module, and the database reads the schema)."""

    def append_leaves(self, kind: str, digests: Sequence[str]) -> int: ...


@dataclass(frozen=True, slots=True)
class EntrySource:
    kind: str
    table: str
    columns: str  # the digested fields, or the chain hash's column
    order: str  # how an older ledger's rows are brought into the log
    chained: bool = False

    def digests(self, rows: Iterable[Sequence[object]]) -> list[str]:
        """The digests of rows read or written as ``columns``."""
        if self.chained:
            return [str(row[0]) for row in rows]
        return [entry_digest(self.kind, row) for row in rows]

    @property
    def select(self) -> str:
        return f"SELECT {self.columns} FROM {self.table}"


ENTRY_SOURCES: tuple[EntrySource, ...] = (
    EntrySource("record", "records", "hash", "subject, seq", chained=True),
    EntrySource("event", "record_events", "hash", "subject, seq", chained=True),
    EntrySource("decision", "decisions", "hash", "subject, seq", chained=True),
    EntrySource(
        "enrolment",
        "enrolments",
        "subject, scheme, enrolled_at, actor, known_at",
        "known_at, enrolled_at, subject",
    ),
    EntrySource(
        "link",
        "links",
        "business, person, role, since, until, reporter, reported_at",
        "reported_at, business, person, role, since",
    ),
    EntrySource(
        "definition", "definitions", "id, version, type, added_at, digest", "added_at, id, version"
    ),
    EntrySource(
        "rescoring",
        "rescorings",
        "scheme, version, at, actor, reason, known_at",
        "known_at, at, scheme, version",
    ),
    EntrySource(
        "consent", "consents", "subject, n, scheme, purpose, granted, at, actor", "subject, n"
    ),
    EntrySource("case", "case_events", "case_id, n, subject, kind, at, actor, body", "case_id, n"),
    EntrySource(
        "override",
        "overrides",
        "subject, action, effect, factor, since, until, case_id, scheme, reviewer, reason, made_at",
        "made_at, subject, action",
    ),
    EntrySource(
        "key",
        "api_keys",
        "id, role, authority, subject, subject_masked, secret_hash, created_at, created_by",
        "created_at, id",
    ),
    EntrySource("key-revocation", "api_key_revocations", "id, revoked_at, revoked_by", "id"),
    EntrySource("key-term", "api_key_terms", "id, expires_at, reason, at, by", "at, id"),
)
SOURCES = {source.kind: source for source in ENTRY_SOURCES}


def digests(kind: str, rows: Iterable[Sequence[object]]) -> list[str]:
    """The digests of ``kind``'s rows, as its repository writes them."""
    return SOURCES[kind].digests(rows)


def log_rows(database: Leaves, kind: str, rows: Sequence[Sequence[object]]) -> None:
    """Append ``kind`` rows just written (their digested fields) to the log."""
    database.append_leaves(kind, digests(kind, rows))


__all__ = ["ENTRY_SOURCES", "SOURCES", "EntrySource", "Leaves", "digests", "log_rows"]
