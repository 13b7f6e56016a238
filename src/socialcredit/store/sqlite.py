"""The embedded SQLite store: one file, no server.

Writes run in ``BEGIN IMMEDIATE`` transactions so that a batch, its chain
links and its chain heads land together or not at all; a crash mid-import
leaves no half-written record. Append-only tables refuse UPDATE and DELETE
through triggers, so only someone who drops the triggers can tamper, and
``verify`` then names the row.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from socialcredit.domain.ledger.batching import BatchPlan, PlanBase, learn, plan_batch
from socialcredit.domain.ledger.chain import GENESIS, ledger_root, link_hash
from socialcredit.domain.ledger.records import Record, RecordEvent
from socialcredit.domain.ledger.values import (
    AppendOutcome,
    ChainProblem,
    DecisionRow,
    Link,
    NewRecord,
    Progress,
    StoredDefinition,
    StoredKey,
    SubjectLedger,
    SubjectRow,
)
from socialcredit.errors import SnapshotMoved, StoreError
from socialcredit.store.common import (
    AUDIT_ROWS,
    DECISION_COLUMNS,
    DECISION_SELECT,
    EVENT_COLUMNS,
    LEDGER_ROWS,
    RECORD_COLUMNS,
    check_chains,
    chunks,
    decision_number,
    decision_of,
    event_fields,
    event_of,
    iso,
    parse,
    record_of,
    stored_key_of,
    subject_records,
)
from socialcredit.store.due_process import DueProcessRows
from socialcredit.store.migrations import LATEST, pending
from socialcredit.store.mobility import MobilityRows

_CHUNK = 500  # stays under SQLite's bound-parameter limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (
    id TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL,
    added_at TEXT NOT NULL, digest TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TABLE IF NOT EXISTS rescorings (
    scheme TEXT NOT NULL, version INTEGER NOT NULL, at TEXT NOT NULL,
    actor TEXT NOT NULL, reason TEXT
);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, role TEXT NOT NULL, authority TEXT, subject TEXT, subject_masked TEXT,
    secret_hash TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_key_revocations (
    id TEXT PRIMARY KEY, revoked_at TEXT NOT NULL, revoked_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subjects (
    subject TEXT PRIMARY KEY, kind TEXT NOT NULL, masked TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enrolments (
    subject TEXT NOT NULL, scheme TEXT NOT NULL, enrolled_at TEXT NOT NULL, actor TEXT NOT NULL,
    PRIMARY KEY (subject, scheme)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    subject TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
    scheme TEXT NOT NULL, scheme_version INTEGER NOT NULL, category TEXT NOT NULL,
    occurred_at TEXT NOT NULL, reported_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    points INTEGER NOT NULL, reporter TEXT NOT NULL, evidence TEXT,
    fingerprint TEXT NOT NULL, hash TEXT NOT NULL
);
-- A rowid table: new rows append at the end. Subject keys are keyed hashes,
-- so any index on them takes inserts at random places; keeping whole rows out
-- of that index (and importing in large batches) bounds how many pages each
-- commit rewrites. Reads of one subject go through the slim index below.
CREATE UNIQUE INDEX IF NOT EXISTS records_by_subject ON records (subject, seq);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_id ON records (id);
CREATE TABLE IF NOT EXISTS record_events (
    subject TEXT NOT NULL, seq INTEGER NOT NULL, record TEXT NOT NULL, kind TEXT NOT NULL,
    at TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT,
    hash TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS record_events_by_subject ON record_events (subject, seq);
CREATE INDEX IF NOT EXISTS record_events_by_record ON record_events (record);
CREATE TABLE IF NOT EXISTS chain_heads (
    subject TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS links (
    business TEXT NOT NULL, person TEXT NOT NULL, role TEXT NOT NULL,
    since TEXT NOT NULL, until TEXT, reporter TEXT NOT NULL, reported_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS links_by_person ON links (person, role);
-- The audit log: decisions and reads of a subject's data share one hash
-- chain per subject (seq), like the ledger's records and events.
CREATE TABLE IF NOT EXISTS decisions (
    id TEXT PRIMARY KEY, subject TEXT NOT NULL, action TEXT NOT NULL, at TEXT NOT NULL,
    effect TEXT NOT NULL, factor REAL, reasons TEXT NOT NULL,
    asked_at TEXT NOT NULL, asked_by TEXT NOT NULL, purpose TEXT NOT NULL,
    seq INTEGER NOT NULL, hash TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS decisions_by_subject ON decisions (subject, seq);
CREATE TABLE IF NOT EXISTS access_log (
    subject TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
    purpose TEXT NOT NULL, what TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS access_log_by_subject ON access_log (subject, seq);
CREATE TABLE IF NOT EXISTS audit_heads (
    subject TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL
) WITHOUT ROWID;
"""

# Migration 2: due process. Cases and consents are append-only like the
# ledger; the notice outbox may lose a notice only when the record it
# describes is erased. Every table is keyed or indexed by subject first.
_DUE_PROCESS = """
ALTER TABLE record_events ADD COLUMN seal TEXT;
CREATE TABLE IF NOT EXISTS case_events (
    case_id TEXT NOT NULL, n INTEGER NOT NULL, subject TEXT NOT NULL, kind TEXT NOT NULL,
    at TEXT NOT NULL, actor TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (case_id, n)
);
CREATE INDEX IF NOT EXISTS case_events_by_subject ON case_events (subject);
CREATE TABLE IF NOT EXISTS overrides (
    subject TEXT NOT NULL, action TEXT NOT NULL, effect TEXT NOT NULL, factor REAL,
    since TEXT NOT NULL, until TEXT NOT NULL, case_id TEXT NOT NULL, scheme TEXT NOT NULL,
    reviewer TEXT NOT NULL, reason TEXT NOT NULL, made_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS overrides_by_subject ON overrides (subject, action);
CREATE TABLE IF NOT EXISTS consents (
    subject TEXT NOT NULL, n INTEGER NOT NULL, scheme TEXT NOT NULL, purpose TEXT NOT NULL,
    granted INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, PRIMARY KEY (subject, n)
);
CREATE TABLE IF NOT EXISTS notices (
    id TEXT PRIMARY KEY, subject TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
    at TEXT NOT NULL, body TEXT NOT NULL, seq INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS notices_by_source ON notices (source);
CREATE INDEX IF NOT EXISTS notices_by_subject ON notices (subject);
CREATE INDEX IF NOT EXISTS notices_by_seq ON notices (seq);
CREATE TABLE IF NOT EXISTS notice_deliveries (
    notice TEXT PRIMARY KEY, channel TEXT NOT NULL, delivered_at TEXT NOT NULL
)
"""
_DUE_PROCESS_APPEND_ONLY = ("case_events", "overrides", "consents", "notice_deliveries")
# What erasure may do to a record row, and nothing else: blank its contents
# once the chained ``erased`` event that seals it is in place.
ERASE_ONLY_CONDITION = (
    "NEW.id = OLD.id AND NEW.subject = OLD.subject AND NEW.seq = OLD.seq "
    "AND NEW.hash = OLD.hash AND NEW.scheme = OLD.scheme AND NEW.category = '' "
    "AND EXISTS (SELECT 1 FROM record_events e WHERE e.record = OLD.id AND e.kind = 'erased')"
)


def due_process_statements() -> list[str]:
    """Migration 2 for SQLite."""
    tables = [s.strip() for s in _DUE_PROCESS.split(";") if s.strip()]
    return [
        *tables,
        *_append_only_triggers(_DUE_PROCESS_APPEND_ONLY),
        "CREATE TRIGGER IF NOT EXISTS notices_no_update BEFORE UPDATE ON notices "
        "BEGIN SELECT RAISE(ABORT, 'notices are append-only'); END",
        "DROP TRIGGER IF EXISTS records_no_update",
        f"CREATE TRIGGER records_erase_only BEFORE UPDATE ON records WHEN NOT ({ERASE_ONLY_CONDITION}) "
        "BEGIN SELECT RAISE(ABORT, 'records is append-only: only erasure may blank a record'); END",
    ]


# Migration 4: decisions filed under the number their id carries (the
# rowid), and chained per subject through ``prev`` from ``audit_heads.decision``,
# so that logging one writes the table's last page and the subject's head and
# no index: neither the id's nor a (subject, seq) one. A decision whose number
# is taken (or whose id is no UUID) is filed below zero, where looking up an id
# searches next. verify orders the audit rows itself, so it needs neither.
_FILED_DECISIONS = """
CREATE TABLE decisions_filed (
    n INTEGER PRIMARY KEY, id TEXT NOT NULL, subject TEXT NOT NULL, action TEXT NOT NULL,
    at TEXT NOT NULL, effect TEXT NOT NULL, factor REAL, reasons TEXT NOT NULL,
    asked_at TEXT NOT NULL, asked_by TEXT NOT NULL, purpose TEXT NOT NULL,
    seq INTEGER NOT NULL, hash TEXT NOT NULL, prev INTEGER
);
INSERT INTO decisions_filed (n, DECISION_COLUMNS, prev)
    SELECT n, DECISION_COLUMNS, lag(n) OVER (PARTITION BY subject ORDER BY seq)
    FROM (SELECT CASE WHEN number IS NOT NULL
                       AND row_number() OVER (PARTITION BY number ORDER BY old) = 1
                      THEN number ELSE -old END AS n, *
          FROM (SELECT decision_number(id) AS number, rowid AS old, * FROM decisions));
ALTER TABLE audit_heads ADD COLUMN decision INTEGER;
UPDATE audit_heads SET decision = last.n
    FROM (SELECT subject, max(seq), n FROM decisions_filed GROUP BY subject) AS last
    WHERE last.subject = audit_heads.subject;
DROP TABLE decisions;
ALTER TABLE decisions_filed RENAME TO decisions
""".replace("DECISION_COLUMNS", DECISION_COLUMNS)


def filed_decisions_statements() -> list[str]:
    """Migration 4 for SQLite (``decision_number`` is a function of the connection)."""
    tables = [s.strip() for s in _FILED_DECISIONS.split(";") if s.strip()]
    return tables + _append_only_triggers(("decisions",))


_INSERT_RECORD = (
    "INSERT INTO records (subject, seq, id, scheme, scheme_version, category, occurred_at, "
    "reported_at, expires_at, points, reporter, evidence, fingerprint, hash) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)

# RECORD_COLUMNS but the subject, for reads of one subject's records.
_SUBJECT_RECORD_COLUMNS = RECORD_COLUMNS.replace(" subject,", "", 1)
assert _SUBJECT_RECORD_COLUMNS.startswith("id, scheme, ")

_INSERT_DECISION = (
    f"INSERT INTO decisions (n, {DECISION_COLUMNS}, prev) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_INSERT_DECISION_FILED = _INSERT_DECISION.replace("INSERT", "INSERT OR IGNORE", 1)
_AUDIT_HEAD = (
    "INSERT INTO audit_heads (subject, seq, hash) VALUES (?, ?, ?) "
    "ON CONFLICT (subject) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
)
_AUDIT_HEAD_AFTER_DECISION = (
    "INSERT INTO audit_heads (subject, seq, hash, decision) VALUES (?, ?, ?, ?) ON CONFLICT "
    "(subject) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, decision = excluded.decision"
)

_APPEND_ONLY = (
    "api_keys",
    "api_key_revocations",
    "definitions",
    "rescorings",
    "subjects",
    "enrolments",
    "records",
    "record_events",
    "links",
    "decisions",
    "access_log",
)


def _append_only_triggers(tables: Sequence[str] = _APPEND_ONLY) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for table in tables
        for verb in ("UPDATE", "DELETE")
    ]


def baseline_statements() -> list[str]:
    """Migration 1 for SQLite: the tables, indexes and append-only triggers."""
    tables = [s.strip() for s in re.sub(r"--[^\n]*", "", _SCHEMA).split(";") if s.strip()]
    return tables + _append_only_triggers()


class SQLiteStore(DueProcessRows, MobilityRows):
    # What a unique-index violation raises (the PostgreSQL store sets its own).
    _integrity_errors: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
    _missing_table_errors: tuple[type[Exception], ...] = (sqlite3.OperationalError,)

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = str(path)
        if not create and self.path != ":memory:" and not Path(self.path).exists():
            raise StoreError(f"no database at {self.path}: run 'socialcredit init' first")
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as error:  # not a database, or a folder that is not there
            raise StoreError(
                f"cannot open {self.path} as a socialcredit database: {error}"
            ) from None
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.create_function("decision_number", 1, decision_number, deterministic=True)
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute("PRAGMA cache_size=-262144")
        self._db.execute("PRAGMA temp_store=MEMORY")
        # Checkpoint less often: bulk imports then copy each page once, not many times.
        self._db.execute("PRAGMA wal_autocheckpoint=10000")
        self._connection_state()
        if not create:
            self._check_version()

    # -- lifecycle -----------------------------------------------------------

    dialect = "sqlite"

    def initialise(self) -> list[int]:
        """Bring the schema up to date: apply every pending migration, each in
        one transaction under the write lock. Idempotent; returns the versions applied."""
        applied = []
        for migration in pending(self._schema_version()):
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for statement in migration.statements(self.dialect):
                    self._db.execute(statement)
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                    (str(migration.version),),
                )
            except BaseException:
                _rollback_quietly(self._db)
                raise
            self._db.execute("COMMIT")
            applied.append(migration.version)
        self._check_version()
        return applied

    def _schema_version(self) -> int | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except self._missing_table_errors:
            return None  # a new, empty database
        return int(row[0]) if row else None

    def _check_version(self) -> None:
        try:
            version = self._schema_version()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} is not a socialcredit database ({error})") from None
        if version is None:
            raise StoreError(f"{self.path} has no socialcredit schema: run 'socialcredit init'")
        if version < LATEST:
            raise StoreError(
                f"{self.path} has schema {version}; run 'socialcredit init' to migrate it to {LATEST}"
            )
        if version > LATEST:
            raise StoreError(
                f"{self.path} has schema {version}, newer than this socialcredit ({LATEST})"
            )

    def close(self) -> None:
        self._db.close()

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and truncate it. Inside
        a write transaction it does nothing: the caller checkpoints once it ends."""
        if not self._cache.depth:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _write(self) -> _Transaction:
        return _Transaction(self._db, self._cache)

    def transaction(self) -> _Transaction:
        """One write transaction around several store calls: all land, or none."""
        return self._write()

    def snapshot(self) -> _Snapshot:
        """A check's reads in one read transaction, which its audit write then
        takes over (SQLite upgrades it to a write transaction): one snapshot and
        one set of WAL read locks instead of one per statement, while the write
        lock is still held only for the audit rows. If another writer committed
        after the snapshot began, or holds the write lock, the upgrade fails and
        the audit write raises :class:`SnapshotMoved` with nothing written.
        Inside a write transaction it does nothing."""
        return _Snapshot(self._db, self._cache)

    # -- definitions ---------------------------------------------------------

    def add_definition(self, id: str, type: str, added_at: datetime, digest: str, text: str) -> int:
        with self._write():
            (latest,) = self._db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM definitions WHERE id = ?", (id,)
            ).fetchone()
            version = latest + 1
            self._db.execute(
                "INSERT INTO definitions VALUES (?, ?, ?, ?, ?, ?)",
                (id, version, type, iso(added_at), digest, text),
            )
        return int(version)

    def definitions(self) -> list[StoredDefinition]:
        rows = self._db.execute(
            "SELECT id, version, type, added_at, digest, body FROM definitions ORDER BY id, version"
        )
        return [
            StoredDefinition(id, version, type, parse(added), digest, body)
            for id, version, type, added, digest, body in rows
        ]

    def add_rescoring(
        self, scheme: str, version: int, at: datetime, actor: str, reason: str | None
    ) -> None:
        with self._write():
            self._db.execute(
                "INSERT INTO rescorings VALUES (?, ?, ?, ?, ?)",
                (scheme, version, iso(at), actor, reason),
            )

    def rescorings(self) -> list[tuple[str, int, datetime]]:
        rows = self._db.execute("SELECT scheme, version, at FROM rescorings ORDER BY at, version")
        return [(scheme, version, parse(at)) for scheme, version, at in rows]

    # -- API keys ------------------------------------------------------------

    def add_key(self, key: StoredKey, secret_hash: str) -> None:
        with self._write():
            self._db.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key.id, key.role, key.authority, key.subject, key.subject_masked, secret_hash,
                 iso(key.created_at), key.created_by),
            )  # fmt: skip

    def revoke_key(self, key_id: str, at: datetime, by: str) -> bool:
        with self._write():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO api_key_revocations VALUES (?, ?, ?)", (key_id, iso(at), by)
            )
        return cursor.rowcount == 1

    def keys(self) -> list[StoredKey]:
        rows = self._db.execute(
            "SELECT k.id, k.role, k.authority, k.subject, k.subject_masked, k.created_at, "
            "k.created_by, r.revoked_at FROM api_keys k "
            "LEFT JOIN api_key_revocations r ON r.id = k.id ORDER BY k.created_at, k.id"
        )
        return [stored_key_of(row) for row in rows]

    def key_secret(self, key_id: str) -> tuple[StoredKey, str] | None:
        row = self._db.execute(
            "SELECT k.id, k.role, k.authority, k.subject, k.subject_masked, k.created_at, "
            "k.created_by, r.revoked_at, k.secret_hash FROM api_keys k "
            "LEFT JOIN api_key_revocations r ON r.id = k.id WHERE k.id = ?",
            (key_id,),
        ).fetchone()
        return (stored_key_of(row[:8]), row[8]) if row else None

    # -- subjects and enrolments ---------------------------------------------

    def subject(self, key: str) -> SubjectRow | None:
        row = self._db.execute(
            "SELECT subject, kind, masked FROM subjects WHERE subject = ?", (key,)
        ).fetchone()
        return SubjectRow(*row) if row else None

    def ensure_subject(self, subject: SubjectRow) -> SubjectRow:
        with self._write():
            self._db.execute(
                "INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)",
                (subject.key, subject.kind, subject.masked),
            )
        self._remember_kinds([subject])
        stored = self.subject(subject.key)
        assert stored is not None
        return stored

    def enrol(self, subject: SubjectRow, scheme: str, at: datetime, actor: str) -> bool:
        with self._write():
            self._db.execute(
                "INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)",
                (subject.key, subject.kind, subject.masked),
            )
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO enrolments VALUES (?, ?, ?, ?)",
                (subject.key, scheme, iso(at), actor),
            )
        self._remember_kinds([subject])
        return cursor.rowcount == 1

    def enrol_many(
        self, subjects: Sequence[SubjectRow], scheme: str, at: datetime, actor: str
    ) -> None:
        with self._write():
            self._db.executemany(
                "INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)",
                [(s.key, s.kind, s.masked) for s in subjects],
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO enrolments VALUES (?, ?, ?, ?)",
                [(s.key, scheme, iso(at), actor) for s in subjects],
            )
        self._remember_kinds(subjects)

    def _remember_kinds(self, subjects: Iterable[SubjectRow]) -> None:
        """A complete cache must learn subjects written outside ``append_records``
        (INSERT OR IGNORE: a subject it does not know is new, so its kind is the one
        just written); an incomplete one looks them up when it needs them."""
        if self._cache.complete:
            for subject in subjects:
                self._cache.kinds.setdefault(subject.key, subject.kind)

    def enrolments(self, subject: str) -> dict[str, datetime]:
        rows = self._db.execute(
            "SELECT scheme, enrolled_at FROM enrolments WHERE subject = ?", (subject,)
        )
        return {scheme: parse(at) for scheme, at in rows}

    # -- the ledger ----------------------------------------------------------

    def append_records(self, batch: Sequence[NewRecord]) -> AppendOutcome:
        cache = self._cache
        with self._write():
            self._refresh_cache(len(batch))
            if not cache.complete:  # a complete cache already holds every subject
                self._load_subjects({item.subject.key for item in batch})
            try:
                # Fast path: most imports are new records, and the unique index
                # on id finds any that are not without a lookup per record.
                self._db.execute("SAVEPOINT fresh_records")
                plan = plan_batch(batch, cache.heads, cache.kinds, {})
                self._db.executemany(_INSERT_RECORD, plan.rows)
                self._db.execute("RELEASE SAVEPOINT fresh_records")
            except self._integrity_errors:
                self._db.execute("ROLLBACK TO SAVEPOINT fresh_records")
                self._db.execute("RELEASE SAVEPOINT fresh_records")
                stored = self._stored_fingerprints([item.id for item in batch])
                plan = plan_batch(batch, cache.heads, cache.kinds, stored)
                self._db.executemany(_INSERT_RECORD, plan.rows)
            self._write_subjects_and_heads(plan)
        self._learn(plan)
        return plan.outcome

    def plan_base(self, batch_size: int) -> PlanBase | None:
        """A copy of every chain head and subject kind, for the import worker to
        plan batches against, or None when there are too many to load against
        ``batch_size`` (the rule of ``_refresh_cache``)."""
        with self._write():  # the generation check makes what is loaded current
            self._refresh_cache(batch_size)
        cache = self._cache
        if not cache.complete:
            return None
        return PlanBase(dict(cache.heads), dict(cache.kinds), cache.epoch)

    def append_planned(self, plan: BatchPlan, epoch: int) -> bool:
        """Write a batch planned against :meth:`plan_base` of ``epoch`` (and the
        batches planned before it), if the ledger is still what it was planned
        against: no other writer since, and none of its ids held. Otherwise
        write nothing and return False; the caller then plans it here."""
        with self._write():
            if self._cache.epoch != epoch or not self._cache.complete:
                return False  # another connection wrote: the plan's heads may be stale
            try:
                self._db.execute("SAVEPOINT planned")
                self._db.executemany(_INSERT_RECORD, plan.rows)
                self._db.execute("RELEASE SAVEPOINT planned")
            except self._integrity_errors:  # an id already held: a duplicate or a conflict
                self._db.execute("ROLLBACK TO SAVEPOINT planned")
                self._db.execute("RELEASE SAVEPOINT planned")
                return False
            self._write_subjects_and_heads(plan)
        self._learn(plan)
        return True

    def _write_subjects_and_heads(self, plan: BatchPlan) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)",
            [(s.key, s.kind, s.masked) for s in plan.new_subjects.values()],
        )
        # In key order: the b-tree is walked in one direction, not all over.
        self._db.executemany(
            "INSERT OR REPLACE INTO chain_heads VALUES (?, ?, ?)",
            sorted([(subject, seq, digest) for subject, (seq, digest) in plan.heads.items()]),
        )

    def _learn(self, plan: BatchPlan) -> None:
        """Only a committed batch may teach the cache."""
        learn(self._cache.heads, self._cache.kinds, plan)

    def _refresh_cache(self, batch_size: int) -> None:
        """Load every head and kind at once when the batch is large against the
        tables (the transaction has already dropped a stale cache)."""
        cache = self._cache
        if not cache.complete:
            (heads,) = self._db.execute("SELECT COUNT(*) FROM chain_heads").fetchone()
            (subjects,) = self._db.execute("SELECT COUNT(*) FROM subjects").fetchone()
            if batch_size * 20 >= heads + subjects:
                cache.heads = {
                    s: (q, h) for s, q, h in self._db.execute("SELECT * FROM chain_heads")
                }
                cache.kinds = dict(self._db.execute("SELECT subject, kind FROM subjects"))
                cache.complete = True

    def _stored_fingerprints(self, ids: list[str]) -> dict[str, str]:
        stored: dict[str, str] = {}
        for chunk in chunks(ids):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id, fingerprint FROM records WHERE id IN ({marks})"
            stored.update(self._db.execute(sql, chunk).fetchall())
        return stored

    def _load_subjects(self, subjects: set[str]) -> None:
        """Make sure the cache knows the kind and chain head of every held subject in ``subjects``."""
        cache = self._cache
        if cache.complete:
            return
        missing = sorted(subjects - cache.kinds.keys())
        for chunk in chunks(missing):
            marks = ",".join("?" * len(chunk))
            cache.kinds.update(self._db.execute(
                f"SELECT subject, kind FROM subjects WHERE subject IN ({marks})", chunk
            ).fetchall())  # fmt: skip
            cache.heads.update((subject, (seq, digest)) for subject, seq, digest in self._db.execute(
                f"SELECT subject, seq, hash FROM chain_heads WHERE subject IN ({marks})", chunk
            ))  # fmt: skip

    def append_event(self, subject: str, event: RecordEvent) -> None:
        with self._write():
            row = self._db.execute(
                "SELECT seq, hash FROM chain_heads WHERE subject = ?", (subject,)
            ).fetchone()
            seq, previous = row or (0, GENESIS)
            fields = event_fields(subject, seq + 1, event)
            digest = link_hash(previous, "event", fields)
            self._db.execute(
                "INSERT INTO record_events (subject, seq, record, kind, at, actor, reason, hash, "
                "seal) VALUES (?,?,?,?,?,?,?,?,?)",
                (subject, seq + 1, event.record, event.kind, iso(event.at), event.actor,
                 event.reason, digest, event.seal),
            )  # fmt: skip
            self._db.execute(
                "INSERT OR REPLACE INTO chain_heads VALUES (?, ?, ?)", (subject, seq + 1, digest)
            )
        # The next batch chains on from the event; a stale cached head would fork the chain.
        self._cache.heads[subject] = (seq + 1, digest)

    def record(self, record_id: str) -> Record | None:
        row = self._db.execute(f"SELECT {RECORD_COLUMNS} FROM records WHERE id = ?", (record_id,))
        found = row.fetchone()
        return record_of(found) if found else None

    def record_events(self, record_id: str) -> list[RecordEvent]:
        rows = self._db.execute(
            f"SELECT {EVENT_COLUMNS} FROM record_events WHERE record = ? ORDER BY seq",
            (record_id,),
        )
        return [event_of(row) for row in rows]

    def subject_ledger(
        self, subject: SubjectRow, schemes: frozenset[str] | None, *, enrolments: bool = True
    ) -> SubjectLedger:
        """One subject's records (of ``schemes``, or all), their events and (unless
        the caller needs no grades) its enrolments."""
        key = subject.key
        sql, named = self._ledger_queries.get(schemes) or self._ledger_query(schemes)
        params = (key, *named)
        # Without reading the subject column back: every row has ``key``.
        records = subject_records(self._db.execute(sql, params), key)
        events: dict[str, list[RecordEvent]] = {}
        if records:
            for found in self._db.execute(
                f"SELECT {EVENT_COLUMNS} FROM record_events WHERE subject = ? ORDER BY seq", (key,)
            ):
                events.setdefault(found[0], []).append(event_of(found))
        return SubjectLedger(subject, records, events, self.enrolments(key) if enrolments else {})

    def _connection_state(self) -> None:
        """What this object remembers beside its connection (every store's __init__)."""
        self._cache = _LedgerCache()
        self._ledger_queries: dict[frozenset[str] | None, tuple[str, tuple[str, ...]]] = {}

    def _ledger_query(self, schemes: frozenset[str] | None) -> tuple[str, tuple[str, ...]]:
        """The query for one subject's records of ``schemes`` (all if None) and
        its scheme parameters, kept per set: a check asks with the same few sets."""
        sql = f"SELECT {_SUBJECT_RECORD_COLUMNS} FROM records WHERE subject = ?"
        named = tuple(sorted(schemes)) if schemes is not None else ()
        if schemes is not None:
            sql += f" AND scheme IN ({','.join('?' * len(schemes))})"
        if len(self._ledger_queries) < 1024:
            self._ledger_queries[schemes] = (sql, named)
        return sql, named

    def scheme_ledgers(self, scheme: str) -> Iterator[SubjectLedger]:
        """Every subject enrolled in or recorded under ``scheme``, one at a time."""
        enrolled = dict(
            self._db.execute(
                "SELECT subject, enrolled_at FROM enrolments WHERE scheme = ?", (scheme,)
            )
        )
        events: dict[str, list[RecordEvent]] = {}
        for found in self._db.execute(
            f"SELECT {EVENT_COLUMNS} FROM record_events e WHERE record IN "
            "(SELECT id FROM records WHERE scheme = ?) ORDER BY subject, seq",
            (scheme,),
        ):
            events.setdefault(found[0], []).append(event_of(found))
        by_subject: dict[str, list[Record]] = {key: [] for key in enrolled}
        for found in self._db.execute(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE scheme = ? ORDER BY subject", (scheme,)
        ):
            by_subject.setdefault(found[1], []).append(record_of(found))
        subjects = self._subject_rows(list(by_subject))
        for key, records in by_subject.items():
            mine = {r.id: events[r.id] for r in records if r.id in events}
            at = enrolled.get(key)
            yield SubjectLedger(subjects[key], records, mine, {scheme: parse(at)} if at else {})

    def _subject_rows(self, keys: list[str]) -> dict[str, SubjectRow]:
        rows: dict[str, SubjectRow] = {}
        for chunk in chunks(keys):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT subject, kind, masked FROM subjects WHERE subject IN ({marks})"
            rows.update(
                (key, SubjectRow(key, kind, masked))
                for key, kind, masked in self._db.execute(sql, chunk)
            )
        return rows

    def counts(self) -> dict[str, int]:
        tables = ("subjects", "enrolments", "records", "record_events", "links", "decisions")
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}

    # -- links ---------------------------------------------------------------

    def add_link(self, link: Link, reporter: str, reported_at: datetime) -> None:
        self.add_links([link], reporter, reported_at)

    def add_links(self, links: Sequence[Link], reporter: str, reported_at: datetime) -> None:
        with self._write():
            self._db.executemany(
                "INSERT INTO links VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (link.business, link.person, link.role, iso(link.since), iso(link.until),
                     reporter, iso(reported_at))
                    for link in links
                ],
            )  # fmt: skip

    def links_to(self, person: str, role: str) -> list[Link]:
        rows = self._db.execute(
            "SELECT business, person, role, since, until, reported_at FROM links "
            "WHERE person = ? AND role = ?",
            (person, role),
        )
        return [
            Link(b, p, r, parse(s), parse(u) if u else None, parse(at))
            for b, p, r, s, u, at in rows
        ]

    # -- decisions and access log -------------------------------------------

    def log_decision(self, decision: DecisionRow) -> None:
        at = iso(decision.at)
        asked_at = at if decision.asked_at is decision.at else iso(decision.asked_at)
        fields = (decision.id, decision.action, at, decision.effect, decision.factor,
                  decision.reasons_json, asked_at, decision.asked_by, decision.purpose)  # fmt: skip
        subject = decision.subject
        number = decision_number(decision.id)

        def append() -> None:
            # _audit_rows for one decision, spelt out: every check logs one.
            db = self._db
            row = db.execute(
                "SELECT seq, hash, decision FROM audit_heads WHERE subject = ?", (subject,)
            ).fetchone()
            seq, previous, last = (row[0] + 1, row[1], row[2]) if row else (1, GENESIS, None)
            digest = link_hash(previous, "decision", (subject, seq, *fields))
            values = (decision.id, subject, *fields[1:], seq, digest, last)
            filed = number
            if filed is None or not db.execute(_INSERT_DECISION_FILED, (filed, *values)).rowcount:
                # Its number is taken (ids of two processes in one millisecond): file it below zero.
                (filed,) = db.execute(
                    "SELECT coalesce(min(n), 0) - 1 FROM decisions WHERE n < 0"
                ).fetchone()
                db.execute(_INSERT_DECISION, (filed, *values))
            db.execute(_AUDIT_HEAD_AFTER_DECISION, (subject, seq, digest, filed))

        self._in_audit_transaction(append)

    def decision(self, decision_id: str) -> DecisionRow | None:
        number = decision_number(decision_id)
        row = None
        if number is not None:
            row = self._db.execute(
                f"{DECISION_SELECT} WHERE n = ? AND id = ?", (number, decision_id)
            ).fetchone()
        if row is None:  # filed below zero, if at all
            row = self._db.execute(
                f"{DECISION_SELECT} WHERE n < 0 AND id = ?", (decision_id,)
            ).fetchone()
        return decision_of(row) if row else None

    def decisions(self, subject: str) -> list[DecisionRow]:
        # Back from the subject's last decision along ``prev`` (UNION stops at a loop).
        rows = self._db.execute(
            "WITH RECURSIVE chain(n) AS (SELECT decision FROM audit_heads WHERE subject = ? "
            "UNION SELECT d.prev FROM decisions d JOIN chain ON d.n = chain.n) "
            f"{DECISION_SELECT} WHERE n IN (SELECT n FROM chain) AND subject = ? ORDER BY seq",
            (subject, subject),
        )
        return [decision_of(row) for row in rows]

    def log_access(self, subject: str, at: datetime, actor: str, purpose: str, what: str) -> None:
        self.log_accesses([subject], at, actor, purpose, what)

    def log_accesses(
        self, subjects: Sequence[str], at: datetime, actor: str, purpose: str, what: str
    ) -> None:
        when = iso(at)
        entries = [(subject, "access", (when, actor, purpose, what)) for subject in subjects]
        self._in_audit_transaction(lambda: self._audit_rows(entries))

    def _in_audit_transaction(self, append: Callable[[], None]) -> None:
        """Run ``append`` (decisions and reads appended to their subjects' audit
        chains), all or none.

        Its own transaction under the write lock, without the ledger's
        generation bump: the audit log feeds no cache. Inside a write
        transaction it is part of that one instead."""
        cache = self._cache
        if cache.depth:
            append()
            return
        if cache.snapshot:  # a check's read transaction: this write ends it
            cache.snapshot = False
            try:
                append()
            except sqlite3.OperationalError as error:
                _rollback_quietly(self._db)
                if error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
                    raise SnapshotMoved(str(error)) from None
                raise
            except BaseException:
                _rollback_quietly(self._db)
                raise
            self._db.execute("COMMIT")
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            append()
        except BaseException:
            _rollback_quietly(self._db)
            raise
        self._db.execute("COMMIT")

    def _audit_rows(self, entries: Sequence[tuple[str, str, tuple[Any, ...]]]) -> None:
        """Reads of subjects' data (``access`` entries) onto their audit chains;
        decisions go through log_decision."""
        heads = self._audit_heads({subject for subject, _, _ in entries})
        accesses = []
        for subject, kind, fields in entries:
            if kind != "access":
                raise ValueError(f"not an access entry: {kind!r}")
            seq, previous = heads.get(subject, (0, GENESIS))
            digest = link_hash(previous, kind, (subject, seq + 1, *fields))
            heads[subject] = (seq + 1, digest)
            accesses.append((subject, *fields, seq + 1, digest))
        _insert(self._db, "INSERT INTO access_log VALUES (?,?,?,?,?,?,?)", accesses)
        _insert(
            self._db,
            _AUDIT_HEAD,
            [(subject, seq, digest) for subject, (seq, digest) in heads.items()],
        )

    def _audit_heads(self, subjects: set[str]) -> dict[str, tuple[int, str]]:
        if len(subjects) == 1:  # a check: one subject, one plain lookup
            (subject,) = subjects
            row = self._db.execute(
                "SELECT seq, hash FROM audit_heads WHERE subject = ?", (subject,)
            ).fetchone()
            return {subject: (row[0], row[1])} if row else {}
        heads: dict[str, tuple[int, str]] = {}
        for chunk in chunks(sorted(subjects)):
            marks = ",".join("?" * len(chunk))
            heads.update((s, (q, h)) for s, q, h in self._db.execute(
                f"SELECT subject, seq, hash FROM audit_heads WHERE subject IN ({marks})", chunk
            ))  # fmt: skip
        return heads

    def access_log(self, subject: str) -> list[tuple[datetime, str, str, str]]:
        rows = self._db.execute(
            "SELECT at, actor, purpose, what FROM access_log WHERE subject = ? ORDER BY seq",
            (subject,),
        )
        return [(parse(at), actor, purpose, what) for at, actor, purpose, what in rows]

    # -- integrity -----------------------------------------------------------

    def ledger_root(self) -> str:
        return ledger_root(self._db.execute("SELECT subject, seq, hash FROM chain_heads"))

    def verify(self, progress: Progress | None = None) -> list[ChainProblem]:
        masked = dict(self._db.execute("SELECT subject, masked FROM subjects"))
        return check_chains(
            masked=masked,
            heads={s: (q, h) for s, q, h in self._db.execute("SELECT * FROM chain_heads")},
            rows=self._db.execute(LEDGER_ROWS),
            audit_heads={
                s: (q, h)
                for s, q, h in self._db.execute("SELECT subject, seq, hash FROM audit_heads")
            },
            audit_rows=self._db.execute(AUDIT_ROWS),
            progress=progress,
            seals=dict(
                self._db.execute("SELECT record, seal FROM record_events WHERE seal IS NOT NULL")
            ),
        ) + self._decision_link_problems(masked)

    def _decision_link_problems(self, masked: dict[str, str]) -> list[ChainProblem]:
        """Decisions whose ``prev`` does not name the subject's decision before them, and
        heads that do not name its last: reads of a subject's decisions follow these
        links, which the hashes do not cover, so that rewriting them cannot hide a decision."""
        problems = []
        for subject, seq, decision_id in self._db.execute(
            "SELECT subject, seq, id FROM (SELECT subject, seq, id, prev, "
            "lag(n) OVER (PARTITION BY subject ORDER BY seq) AS expected FROM decisions) "
            "WHERE prev IS NOT expected ORDER BY subject, seq"
        ):
            problem = (
                "its link to the subject's previous decision was edited: reading the subject's "
                "decisions would skip or repeat some"
            )
            who = masked.get(subject, "unknown subject")
            problems.append(
                ChainProblem("decisions", who, seq, f"decision {decision_id!r}", problem)
            )
        for (subject,) in self._db.execute(
            "SELECT h.subject FROM audit_heads h LEFT JOIN "
            "(SELECT subject, n, max(seq) FROM decisions GROUP BY subject) AS last "
            "ON last.subject = h.subject WHERE h.decision IS NOT last.n ORDER BY h.subject"
        ):
            problem = (
                "does not name the subject's last decision: reading the subject's decisions "
                "would miss some"
            )
            who = masked.get(subject, "unknown subject")
            problems.append(ChainProblem("audit_heads", who, None, "head", problem))
        return problems


def _insert(db: Any, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``executemany``, or ``execute`` for a single row (a check logs one
    decision, and ``executemany`` costs more per call)."""
    if len(rows) == 1:
        db.execute(sql, rows[0])
    elif rows:
        db.executemany(sql, rows)


def _rollback_quietly(db: Any) -> None:
    # Nothing may have been open, or the connection may be gone: either way there is nothing to undo.
    with contextlib.suppress(Exception):
        db.execute("ROLLBACK")


class _LedgerCache:
    """Chain heads and subject kinds as this connection last saw them.

    Valid only while no other connection has written: every write
    transaction bumps ``meta.generation``, and a batch that finds a
    generation other than its own last one starts from an empty cache."""

    def __init__(self) -> None:
        self.generation: str | None = None
        self.depth = 0  # nesting of write transactions (the outermost commits)
        self.snapshot = False  # a check's read transaction is open (see SQLiteStore.snapshot)
        self.epoch = 0  # counts resets: a plan made against an older epoch is stale
        self.reset()

    def reset(self) -> None:
        self.epoch += 1
        self.heads: dict[str, tuple[int, str]] = {}
        self.kinds: dict[str, str] = {}
        self.complete = False


class _Snapshot:
    """``BEGIN`` (deferred) for a check's reads; the audit write commits it,
    and a check that writes nothing ends it on the way out."""

    def __init__(self, db: sqlite3.Connection, cache: _LedgerCache) -> None:
        self._db = db
        self._cache = cache
        self._opened = False

    def __enter__(self) -> None:
        if self._cache.depth or self._cache.snapshot:
            return  # inside a write transaction or another snapshot: part of that one
        self._db.execute("BEGIN")
        self._cache.snapshot = self._opened = True

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if not self._opened:
            return
        if self._cache.snapshot:  # nothing was written: end the read transaction
            self._cache.snapshot = False
            if kind is None:
                self._db.execute("COMMIT")
            else:
                _rollback_quietly(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error; each
    commit bumps the generation that tells other connections to drop caches."""

    def __init__(self, db: sqlite3.Connection, cache: _LedgerCache) -> None:
        self._db = db
        self._cache = cache

    def __enter__(self) -> None:
        if self._cache.depth:  # inside another write: it commits or rolls back for both
            self._cache.depth += 1
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            # Under the write lock: if anyone else has committed since this
            # connection last did, what it remembers of heads and kinds is stale.
            row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        except BaseException:
            _rollback_quietly(self._db)  # never leave a half-opened transaction behind
            raise
        if row is None or row[0] != self._cache.generation:
            self._cache.reset()
        self._cache.depth = 1

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._cache.depth -= 1
        if self._cache.depth:
            return
        if kind is not None:
            self._db.execute("ROLLBACK")
            self._cache.reset()
            self._cache.generation = None
            return
        token = uuid.uuid4().hex
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (token,))
        self._db.execute("COMMIT")
        self._cache.generation = token
