"""One database connection, its dialect and its transactions.

Writes run in transactions that take the ledger's write lock (SQLite's
``BEGIN IMMEDIATE``; a transaction-scoped advisory lock on PostgreSQL), so
that a batch, its chain links and its chain heads land together or not at
all, and concurrent writers in other processes queue. What the connection
remembers between transactions (chain heads, subject kinds) is dropped as
soon as another connection has written: every write transaction bumps
``meta.generation``, and a transaction that finds another one starts clean.

The repositories (``ledger``, ``audit``, ``keys``, ``definitions``,
``due_process``) each take a :class:`Database` and keep to their tables.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from socialcredit.adapters.db.schema import CORE, POSTGRES, Migration, Track, tracks_in_order
from socialcredit.errors import SnapshotMoved, StoreError


class Connection(Protocol):
    """What the repositories use of a DB-API connection (sqlite3's, or the
    PostgreSQL adapter's translating one)."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, rows: Any, /) -> Any: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one database differs, as the repositories need to know it."""

    name: str
    integrity_errors: tuple[type[Exception], ...]  # what a unique-index violation raises
    missing_table_errors: tuple[type[Exception], ...]
    # Whether an error means another writer got in first (SQLite's SQLITE_BUSY).
    is_busy: Callable[[Exception], bool]
    # SQLite: a check reads in one snapshot that its audit write takes over;
    # PostgreSQL reads statement by statement.
    snapshots: bool
    checkpoint_sql: str | None  # folds the write-ahead log into the file (SQLite)
    secure_delete_sql: str | None  # overwrite deleted bytes rather than free them (SQLite)
    # PostgreSQL finds decisions through its indexes; SQLite through their numbers.
    indexes_decisions: bool


class ConnectionState:
    """What this connection remembers beside its rows.

    Chain heads and subject kinds are valid only while no other connection
    has written: a batch that finds a generation other than its own last one
    starts from an empty cache."""

    def __init__(self) -> None:
        self.generation: str | None = None
        self.depth = 0  # nesting of write transactions (the outermost commits)
        self.snapshot = False  # a check's read transaction is open (Database.snapshot)
        self.epoch = 0  # counts resets: a plan made against an older epoch is stale
        # The number the next transparency-log leaf takes, read once per write
        # transaction under the write lock (None between transactions).
        self.next_leaf: int | None = None
        self.reset()

    def reset(self) -> None:
        self.epoch += 1
        self.heads: dict[str, tuple[int, str]] = {}
        self.kinds: dict[str, str] = {}
        self.complete = False


class Database:
    """A connection, its dialect and its transactions."""

    def __init__(self, connection: Connection, dialect: Dialect, shown_as: str) -> None:
        self.connection = connection
        self.dialect = dialect
        self.path = shown_as  # how messages name the database (no password)
        self.state = ConnectionState()

    # -- transactions --------------------------------------------------------------

    def transaction(self) -> Transaction:
        """One write transaction around several calls: all land, or none."""
        return Transaction(self.connection, self.state)

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """A check's reads in one read transaction, which its audit write then
        takes over (SQLite upgrades it to a write transaction): one snapshot and
        one set of WAL read locks instead of one per statement, while the write
        lock is still held only for the audit rows. If another writer committed
        after the snapshot began, or holds the write lock, the upgrade fails and
        the audit write raises :class:`SnapshotMoved` with nothing written.
        Inside a write transaction, and on PostgreSQL, it does nothing."""
        if not self.dialect.snapshots:
            return contextlib.nullcontext()
        return Snapshot(self.connection, self.state)

    def audit_transaction(self, append: Callable[[], None]) -> None:
        """Run ``append`` (decisions and reads appended to their subjects' audit
        chains), all or none.

        Its own transaction under the write lock, without the ledger's
        generation bump: the audit log feeds no cache. Inside a write
        transaction it is part of that one; inside a check's snapshot it takes
        the snapshot over (see :meth:`snapshot`)."""
        state, db = self.state, self.connection
        if state.depth:
            append()
            return
        state.next_leaf = None
        if state.snapshot:
            state.snapshot = False
            try:
                append()
            except BaseException as error:
                rollback_quietly(db)
                if isinstance(error, Exception) and self.dialect.is_busy(error):
                    raise SnapshotMoved(str(error)) from None
                raise
            db.execute("COMMIT")
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            append()
        except BaseException:
            rollback_quietly(db)
            raise
        db.execute("COMMIT")

    # -- the transparency log's leaves -------------------------------------------------

    def next_leaf(self) -> int:
        """The number the next leaf written in this write transaction takes."""
        state = self.state
        if state.next_leaf is None:
            row = self.connection.execute(
                "SELECT n + count FROM log_leaves ORDER BY n DESC LIMIT 1"
            ).fetchone()
            state.next_leaf = int(row[0]) if row else 0
        return state.next_leaf

    def append_leaves(self, kind: str, digests: Sequence[str]) -> int:
        """Append an entry of ``kind`` to the transparency log for each digest,
        inside the write transaction that writes the entries (under the write
        lock, so the numbers run on without a gap), as one row; the first
        one's number."""
        first = self.next_leaf()
        if digests:
            self.connection.execute(
                "INSERT INTO log_leaves VALUES (?, ?, ?, ?)",
                (first, len(digests), kind, "".join(digests)),
            )
            self.state.next_leaf = first + len(digests)
        return first

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and truncate it. Inside
        a write transaction it does nothing: the caller checkpoints once it ends."""
        if self.dialect.checkpoint_sql and not self.state.depth:
            self.connection.execute(self.dialect.checkpoint_sql)

    def secure_delete(self) -> None:
        """From now on, deleted bytes are overwritten, not just freed."""
        if self.dialect.secure_delete_sql:
            self.connection.execute(self.dialect.secure_delete_sql)

    def close(self) -> None:
        self.connection.close()

    # -- meta ------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- schema ------------------------------------------------------------------------

    def initialise(self, plugin_tracks: Sequence[Track] = ()) -> list[tuple[str, int]]:
        """Bring the schema up to date: every pending migration of the core and
        of each plugin, in order, each in one transaction under the write lock.
        Idempotent; returns the (track, version) pairs applied."""
        applied: list[tuple[str, int]] = []
        core = self._recorded(CORE)
        for track in tracks_in_order(plugin_tracks):
            current = self._version_of(track, core)
            if current is not None and self._recorded(track.name) is None:
                self._set_version(track, current)  # had with an older core migration
            for migration in track.pending(current):
                self._apply(track, migration)
                applied.append((track.name, migration.version))
        self.check_version(plugin_tracks)
        return applied

    def check_version(self, plugin_tracks: Sequence[Track] = ()) -> None:
        """Refuse a database whose schema is older or newer than this code's,
        saying what to do."""
        core = self._recorded(CORE)
        for track in tracks_in_order(plugin_tracks):
            version = self._version_of(track, core)
            whose = "" if track.name == CORE else f" of the {track.name} plugin"
            if version is None and track.name == CORE:
                raise StoreError(f"{self.path} has no socialcredit schema: run 'socialcredit init'")
            if version is None or version < track.latest:
                raise StoreError(
                    f"{self.path} has schema {version or 0}{whose}; run 'socialcredit init' "
                    f"to migrate it to {track.latest}"
                )
            if version > track.latest:
                raise StoreError(
                    f"{self.path} has schema {version}{whose}, newer than this "
                    f"socialcredit ({track.latest})"
                )

    def _version_of(self, track: Track, core: int | None) -> int | None:
        recorded = self._recorded(track.name)
        if recorded is not None or track.name == CORE or core is None:
            return recorded
        had = [m.version for m in track.migrations if m.had_with_core and core >= m.had_with_core]
        return max(had) if had else None

    def _recorded(self, track: str) -> int | None:
        key = "schema_version" if track == CORE else f"schema_version:{track}"
        try:
            row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except self.dialect.missing_table_errors:
            return None  # a new, empty database
        except Exception as error:  # not a database at all
            raise StoreError(f"{self.path} is not a socialcredit database ({error})") from None
        return int(row[0]) if row else None

    def _apply(self, track: Track, migration: Migration) -> None:
        db = self.connection
        try:
            db.execute("BEGIN IMMEDIATE")
            for statement in migration.statements(self.dialect.name):
                db.execute(statement)
            if migration.backfill is not None:
                migration.backfill(db, self.dialect.name)
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                (track.meta_key, str(migration.version)),
            )
        except BaseException:
            rollback_quietly(db)
            raise
        db.execute("COMMIT")

    def _set_version(self, track: Track, version: int) -> None:
        self.set_meta(track.meta_key, str(version))

    @property
    def on_server(self) -> bool:
        return self.dialect.name == POSTGRES


def rollback_quietly(db: Connection) -> None:
    # Nothing may have been open, or the connection may be gone: either way there is nothing to undo.
    with contextlib.suppress(Exception):
        db.execute("ROLLBACK")


class Snapshot:
    """``BEGIN`` (deferred) for a check's reads; the audit write commits it,
    and a check that writes nothing ends it on the way out."""

    def __init__(self, db: Connection, state: ConnectionState) -> None:
        self._db = db
        self._state = state
        self._opened = False

    def __enter__(self) -> None:
        if self._state.depth or self._state.snapshot:
            return  # inside a write transaction or another snapshot: part of that one
        self._db.execute("BEGIN")
        self._state.snapshot = self._opened = True

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if not self._opened:
            return
        if self._state.snapshot:  # nothing was written: end the read transaction
            self._state.snapshot = False
            if kind is None:
                self._db.execute("COMMIT")
            else:
                rollback_quietly(self._db)


class Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error; each
    commit bumps the generation that tells other connections to drop caches."""

    def __init__(self, db: Connection, state: ConnectionState) -> None:
        self._db = db
        self._state = state

    def __enter__(self) -> None:
        if self._state.depth:  # inside another write: it commits or rolls back for both
            self._state.depth += 1
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            # Under the write lock: if anyone else has committed since this
            # connection last did, what it remembers of heads and kinds is stale.
            row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        except BaseException:
            rollback_quietly(self._db)  # never leave a half-opened transaction behind
            raise
        if row is None or row[0] != self._state.generation:
            self._state.reset()
        self._state.depth = 1
        self._state.next_leaf = None

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._state.depth -= 1
        if self._state.depth:
            return
        self._state.next_leaf = None
        if kind is not None:
            self._db.execute("ROLLBACK")
            self._state.reset()
            self._state.generation = None
            return
        token = uuid.uuid4().hex
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (token,))
        self._db.execute("COMMIT")
        self._state.generation = token


__all__ = ["Connection", "ConnectionState", "Database", "Dialect", "Transaction"]
