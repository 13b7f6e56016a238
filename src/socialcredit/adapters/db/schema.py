"""The tables, indexes and guards of the ledger, written once for both
databases, and the migrations that bring a database up to date.

A table is declared in a small neutral notation (``name type [null]``, with
``int``, ``bigint``, ``real`` and ``text`` as types) and rendered for SQLite or
PostgreSQL: the two differ only in type names, ``WITHOUT ROWID`` and how a
trigger is written. Each migration lists what it adds; ``socialcredit init``
applies the pending ones in order, each in one transaction, and records the
version reached in ``meta`` under its track (``schema_version`` for the core,
``schema_version:<plugin>`` for a plugin's own tables).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from socialcredit.adapters.db.entries import ENTRY_SOURCES

SQLITE = "sqlite"
POSTGRES = "postgres"
CORE = "core"

_TYPES = {
    SQLITE: {"text": "TEXT", "int": "INTEGER", "bigint": "INTEGER", "real": "REAL"},
    # PostgreSQL's REAL keeps six digits: coordinates and factors need double precision.
    POSTGRES: {"text": "TEXT", "int": "INTEGER", "bigint": "BIGINT", "real": "DOUBLE PRECISION"},
}


@dataclass(frozen=True, slots=True)
class Table:
    """``columns``: ``"name type"``, ``"name type null"`` or ``"name type key"``,
    comma-separated; ``key`` a composite primary key; ``rowid`` False for a
    SQLite table clustered on its key (``WITHOUT ROWID``)."""

    name: str
    columns: str
    key: tuple[str, ...] = ()
    rowid: bool = True

    def create(self, dialect: str) -> str:
        parts = [_column(spec, dialect) for spec in self.columns.split(",")]
        if self.key:
            parts.append(f"PRIMARY KEY ({', '.join(self.key)})")
        tail = " WITHOUT ROWID" if dialect == SQLITE and not self.rowid else ""
        return f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(parts)}){tail}"


def _column(spec: str, dialect: str) -> str:
    name, kind, *flags = spec.split()
    text = f"{name} {_TYPES[dialect][kind]}"
    if "key" in flags:
        return text + " PRIMARY KEY"
    return text if "null" in flags else text + " NOT NULL"


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    table: str
    columns: str
    unique: bool = False

    def create(self, dialect: str) -> str:
        unique = "UNIQUE " if self.unique else ""
        return f"CREATE {unique}INDEX IF NOT EXISTS {self.name} ON {self.table} ({self.columns})"


def guard(
    table: str, dialect: str, *, delete: bool = True, message: str | None = None
) -> list[str]:
    """Refuse UPDATE (and DELETE, unless ``delete`` is False) on ``table``: the
    append-only rule, kept by the database itself."""
    verbs = ("UPDATE", "DELETE") if delete else ("UPDATE",)
    if dialect == POSTGRES:
        # One shared function raises '<table> is append-only'.
        return [
            f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE {' OR '.join(verbs)} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION socialcredit_append_only()"
        ]
    said = message or f"{table} is append-only"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{said}'); END"
        for verb in verbs
    ]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    title: str
    statements: Callable[[str], list[str]]  # dialect -> statements
    # A plugin's migration that an older core migration applied before the
    # plugin had tables of its own: a database at that core version has it.
    had_with_core: int | None = None
    # Rows to write once the statements have run, in the same transaction
    # (connection, dialect), for what SQL alone cannot compute.
    backfill: Callable[[Any, str], None] | None = None


@dataclass(frozen=True, slots=True)
class Track:
    """The migrations of the core or of one plugin, in order."""

    name: str
    migrations: tuple[Migration, ...]

    @property
    def latest(self) -> int:
        return self.migrations[-1].version if self.migrations else 0

    @property
    def meta_key(self) -> str:
        return "schema_version" if self.name == CORE else f"schema_version:{self.name}"

    def pending(self, current: int | None) -> list[Migration]:
        """What a database at ``current`` (None: none yet) still needs, in order."""
        return [m for m in self.migrations if current is None or m.version > current]


def statements_of(*parts: Table | Index) -> Callable[[str], list[str]]:
    return lambda dialect: [part.create(dialect) for part in parts]


# -- migration 1: the ledger, the audit log, links, keys and their hash chains --------

META = Table("meta", "key text key, value text")
LEDGER_TABLES: tuple[Table | Index, ...] = (
    META,
    Table(
        "definitions",
        "id text, version int, type text, added_at text, digest text, body text",
        key=("id", "version"),
    ),
    Table("rescorings", "scheme text, version int, at text, actor text, reason text null"),
    Table(
        "api_keys",
        "id text key, role text, authority text null, subject text null, "
        "subject_masked text null, secret_hash text, created_at text, created_by text",
    ),
    Table("api_key_revocations", "id text key, revoked_at text, revoked_by text"),
    Table("subjects", "subject text key, kind text, masked text", rowid=False),
    Table(
        "enrolments",
        "subject text, scheme text, enrolled_at text, actor text",
        key=("subject", "scheme"),
        rowid=False,
    ),
    # A rowid table: new rows append at the end. Subject keys are keyed hashes,
    # so any index on them takes inserts at random places; keeping whole rows out
    # of that index (and importing in large batches) bounds how many pages each
    # commit rewrites. Reads of one subject go through the slim index below.
    Table(
        "records",
        "subject text, seq int, id text, scheme text, scheme_version int, category text, "
        "occurred_at text, reported_at text, expires_at text, points int, reporter text, "
        "evidence text null, fingerprint text, hash text",
    ),
    Index("records_by_subject", "records", "subject, seq", unique=True),
    Index("records_by_id", "records", "id", unique=True),
    Table(
        "record_events",
        "subject text, seq int, record text, kind text, at text, actor text, "
        "reason text null, hash text",
    ),
    Index("record_events_by_subject", "record_events", "subject, seq", unique=True),
    Index("record_events_by_record", "record_events", "record"),
    Table("chain_heads", "subject text key, seq int, hash text", rowid=False),
    Table(
        "links",
        "business text, person text, role text, since text, until text null, reporter text, "
        "reported_at text",
    ),
    Index("links_by_person", "links", "person, role"),
    # The audit log: decisions and reads of a subject's data share one hash
    # chain per subject (seq), like the ledger's records and events.
    Table(
        "decisions",
        "id text key, subject text, action text, at text, effect text, factor real null, "
        "reasons text, asked_at text, asked_by text, purpose text, seq int, hash text",
    ),
    Index("decisions_by_subject", "decisions", "subject, seq", unique=True),
    Table(
        "access_log",
        "subject text, at text, actor text, purpose text, what text, seq int, hash text",
    ),
    Index("access_log_by_subject", "access_log", "subject, seq", unique=True),
    Table("audit_heads", "subject text key, seq int, hash text", rowid=False),
)
APPEND_ONLY = (
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
_APPEND_ONLY_FUNCTION = (
    "CREATE OR REPLACE FUNCTION socialcredit_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
)


def _ledger(dialect: str) -> list[str]:
    statements = [part.create(dialect) for part in LEDGER_TABLES]
    if dialect == POSTGRES:
        statements.append(_APPEND_ONLY_FUNCTION)
    return statements + [s for table in APPEND_ONLY for s in guard(table, dialect)]


# -- migration 2: due process ---------------------------------------------------------
# Cases and consents are append-only like the ledger; the notice outbox may lose
# a notice only when the record it describes is erased. Every table is keyed or
# indexed by subject first.

DUE_PROCESS_TABLES: tuple[Table | Index, ...] = (
    Table(
        "case_events",
        "case_id text, n int, subject text, kind text, at text, actor text, body text",
        key=("case_id", "n"),
    ),
    Index("case_events_by_subject", "case_events", "subject"),
    Table(
        "overrides",
        "subject text, action text, effect text, factor real null, since text, until text, "
        "case_id text, scheme text, reviewer text, reason text, made_at text",
    ),
    Index("overrides_by_subject", "overrides", "subject, action"),
    Table(
        "consents",
        "subject text, n int, scheme text, purpose text, granted int, at text, actor text",
        key=("subject", "n"),
    ),
    Table(
        "notices",
        "id text key, subject text, kind text, source text, at text, body text, seq int",
    ),
    Index("notices_by_source", "notices", "source", unique=True),
    Index("notices_by_subject", "notices", "subject"),
    Index("notices_by_seq", "notices", "seq"),
    Table("notice_deliveries", "notice text key, channel text, delivered_at text"),
)
DUE_PROCESS_APPEND_ONLY = ("case_events", "overrides", "consents", "notice_deliveries")
# What erasure may do to a record row, and nothing else: blank its contents
# once the chained ``erased`` event that seals it is in place.
ERASE_ONLY_CONDITION = (
    "NEW.id = OLD.id AND NEW.subject = OLD.subject AND NEW.seq = OLD.seq "
    "AND NEW.hash = OLD.hash AND NEW.scheme = OLD.scheme AND NEW.category = '' "
    "AND EXISTS (SELECT 1 FROM record_events e WHERE e.record = OLD.id AND e.kind = 'erased')"
)
_ERASE_ONLY_MESSAGE = "records is append-only: only erasure may blank a record"


def _due_process(dialect: str) -> list[str]:
    statements = ["ALTER TABLE record_events ADD COLUMN seal TEXT"]
    statements += [part.create(dialect) for part in DUE_PROCESS_TABLES]
    statements += [s for table in DUE_PROCESS_APPEND_ONLY for s in guard(table, dialect)]
    statements += guard("notices", dialect, delete=False)
    if dialect == POSTGRES:
        statements.append("DROP TRIGGER IF EXISTS records_append_only ON records")
    else:
        statements.append("DROP TRIGGER IF EXISTS records_no_update")
    return statements + erase_only_trigger(dialect, ERASE_ONLY_CONDITION)


def erase_only_trigger(dialect: str, condition: str) -> list[str]:
    """The trigger that lets erasure, and nothing else, change a record row."""
    if dialect == POSTGRES:
        return [
            "CREATE OR REPLACE FUNCTION socialcredit_records_erase_only() RETURNS trigger AS $$ "
            f"BEGIN IF TG_OP = 'UPDATE' AND {condition} THEN RETURN NEW; END IF; "
            f"RAISE EXCEPTION '{_ERASE_ONLY_MESSAGE}'; END $$ LANGUAGE plpgsql",
            "CREATE OR REPLACE TRIGGER records_erase_only BEFORE UPDATE OR DELETE ON records "
            "FOR EACH ROW EXECUTE FUNCTION socialcredit_records_erase_only()",
        ]
    return [
        "DROP TRIGGER IF EXISTS records_erase_only",
        f"CREATE TRIGGER records_erase_only BEFORE UPDATE ON records "
        f"WHEN NOT ({condition}) "
        f"BEGIN SELECT RAISE(ABORT, '{_ERASE_ONLY_MESSAGE}'); END",
    ]


# -- migration 4: decisions filed under the number their id carries ------------------
# On SQLite the decisions table is rebuilt with that number as its rowid (``n``),
# each decision linked to the subject's one before it (``prev``) from
# ``audit_heads.decision``: logging one then writes the table's last page and
# the subject's head and no index. A decision whose number is taken (or whose
# id is no UUID) is filed below zero, where looking up an id searches next.
# ``verify`` orders the audit rows itself, so it needs neither index. A server
# keeps its indexes on the id and on (subject, seq), which reads use instead
# (and a sharded deployment distributes by), so there the columns only join.

DECISION_COLUMNS = (
    "id, subject, action, at, effect, factor, reasons, asked_at, asked_by, purpose, seq, hash"
)
_FILED_DECISIONS = (
    Table(
        "decisions_filed",
        "n int key, id text, subject text, action text, at text, effect text, "
        "factor real null, reasons text, asked_at text, asked_by text, purpose text, "
        "seq int, hash text, prev int null",
    ).create(SQLITE),
    f"INSERT INTO decisions_filed (n, {DECISION_COLUMNS}, prev) "
    f"SELECT n, {DECISION_COLUMNS}, lag(n) OVER (PARTITION BY subject ORDER BY seq) "
    "FROM (SELECT CASE WHEN number IS NOT NULL "
    "AND row_number() OVER (PARTITION BY number ORDER BY old) = 1 "
    "THEN number ELSE -old END AS n, * "
    "FROM (SELECT decision_number(id) AS number, rowid AS old, * FROM decisions))",
    "ALTER TABLE audit_heads ADD COLUMN decision INTEGER",
    "UPDATE audit_heads SET decision = last.n "
    "FROM (SELECT subject, max(seq), n FROM decisions_filed GROUP BY subject) AS last "
    "WHERE last.subject = audit_heads.subject",
    "DROP TABLE decisions",
    "ALTER TABLE decisions_filed RENAME TO decisions",
)


def _filed_decisions(dialect: str) -> list[str]:
    if dialect == POSTGRES:
        return [
            "ALTER TABLE decisions ADD COLUMN n BIGINT",
            "ALTER TABLE decisions ADD COLUMN prev BIGINT",
            "ALTER TABLE audit_heads ADD COLUMN decision BIGINT",
        ]
    return [*_FILED_DECISIONS, *guard("decisions", dialect)]


# -- migration 5: the fairness audit's attributes ------------------------------------
# Coarse attributes of people (decade of birth, sex, prefecture of registration),
# kept only while the operator has the audit on, and deleted when it is turned
# off: not append-only, and read by the audit alone.

_FAIRNESS_TABLES = (
    Table(
        "audit_attributes",
        "subject text key, birth_decade int, sex text, prefecture text",
        rowid=False,
    ),
)


# -- migration 6: API keys' ends ----------------------------------------------------------
# An expiry set when a key is made, or the end of a rotated key's grace period:
# append-only, the earliest end standing, each row saying why, when and by whom.

_KEY_TERMS = Table("api_key_terms", "id text, expires_at text, reason text, at text, by text")


def _key_terms(dialect: str) -> list[str]:
    return [_KEY_TERMS.create(dialect), *guard("api_key_terms", dialect)]


# -- migration 7: the transparency log ----------------------------------------------------
# One append-only sequence of leaves from 0, written in the transaction that
# writes the entries: a row per write of one kind (``n`` its first leaf, ``count``
# leaves, ``digests`` their 64-hex-character digests end to end), so that a
# batch of 10,000 records adds one row, not 10,000. A record also keeps its
# leaf's number, to prove it without a search.
# ``log_nodes`` keeps the hashes of the tree's complete subtrees at every 8th
# level, made when a head is asked for (never on the write path); ``log_heads``
# the heads published. An older ledger's entries become the first leaves.

LOG_TABLES: tuple[Table | Index, ...] = (
    Table("log_leaves", "n bigint key, count int, kind text, digests text"),
    Table("log_nodes", "level int, idx bigint, hash text", key=("level", "idx"), rowid=False),
    Table(
        "log_heads",
        "size bigint, root text, at text, origin text, key text, signature text, target text",
    ),
)
# Erasure may not move a record's leaf either.
_ERASE_KEEPS_LEAF = {
    SQLITE: " AND NEW.leaf IS OLD.leaf",
    POSTGRES: " AND NEW.leaf IS NOT DISTINCT FROM OLD.leaf",
}


def _transparency_log(dialect: str) -> list[str]:
    statements = [part.create(dialect) for part in LOG_TABLES] + _known_at(dialect)
    statements.append(f"ALTER TABLE records ADD COLUMN leaf {_TYPES[dialect]['bigint']}")
    statements += [
        s for table in ("log_leaves", "log_nodes", "log_heads") for s in guard(table, dialect)
    ]
    # Dropped while the backfill numbers the records already held, then made
    # again with the leaf kept (see _log_backfill).
    if dialect == POSTGRES:
        statements.append("DROP TRIGGER IF EXISTS records_erase_only ON records")
    else:
        statements.append("DROP TRIGGER IF EXISTS records_erase_only")
    return statements


def _known_at(dialect: str) -> list[str]:
    """When an enrolment or a rescoring was known: an answer at t reads only
    what was known at t, as it reads only records reported by t. The ones held
    already are taken as known when they took effect (what answers assumed)."""
    statements: list[str] = []
    for table, effect in (("enrolments", "enrolled_at"), ("rescorings", "at")):
        statements += unguard(table, dialect)
        statements += [
            f"ALTER TABLE {table} ADD COLUMN known_at TEXT",
            f"UPDATE {table} SET known_at = {effect}",
        ]
        statements += guard(table, dialect)
    return statements


def unguard(table: str, dialect: str) -> list[str]:
    """Drop :func:`guard`'s triggers (for a migration's own update)."""
    if dialect == POSTGRES:
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]
    return [f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete")]


_BACKFILL_ROW = 10_000  # leaves a row, as an import batch writes them


def _log_backfill(connection: Any, dialect: str) -> None:
    """Every entry already held becomes a leaf, kind by kind in a fixed order,
    and each record learns its leaf's number."""
    n = 0
    for source in ENTRY_SOURCES:
        # A record is found again by (subject, seq), which its index covers.
        select = (
            "SELECT hash, subject, seq FROM records" if source.kind == "record" else source.select
        )
        rows = connection.execute(f"{select} ORDER BY {source.order}").fetchall()
        found = source.digests(rows)
        for start in range(0, len(found), _BACKFILL_ROW):
            part = found[start : start + _BACKFILL_ROW]
            connection.execute(
                "INSERT INTO log_leaves VALUES (?, ?, ?, ?)",
                (n + start, len(part), source.kind, "".join(part)),
            )
        if source.kind == "record":
            connection.executemany(
                "UPDATE records SET leaf = ? WHERE subject = ? AND seq = ?",
                [(n + i, subject, seq) for i, (_, subject, seq) in enumerate(rows)],
            )
        n += len(found)
    for statement in erase_only_trigger(dialect, ERASE_ONLY_CONDITION + _ERASE_KEEPS_LEAF[dialect]):
        connection.execute(statement)


# Version 3 added the bike-sharing tables, which the mobility plugin now
# migrates on its own track (its version 1, ``had_with_core=3``).
CORE_TRACK = Track(
    CORE,
    (
        Migration(1, "ledger, audit log, links, keys and their hash chains", _ledger),
        Migration(
            2, "cases, overrides, consents, the notice outbox and erasure seals", _due_process
        ),
        Migration(
            4,
            "decisions filed under the number their id carries, linked per subject",
            _filed_decisions,
        ),
        Migration(5, "the fairness audit's attributes", statements_of(*_FAIRNESS_TABLES)),
        Migration(6, "API keys' expiry and rotation", _key_terms),
        Migration(
            7,
            "the transparency log, and when enrolments and rescorings were known",
            _transparency_log,
            backfill=_log_backfill,
        ),
    ),
)


def tracks_in_order(plugin_tracks: Sequence[Track]) -> list[Track]:
    """The core's track first, then the plugins' by name."""
    return [CORE_TRACK, *sorted(plugin_tracks, key=lambda track: track.name)]


__all__ = [
    "CORE_TRACK",
    "POSTGRES",
    "SQLITE",
    "Index",
    "Migration",
    "Table",
    "Track",
    "guard",
    "statements_of",
    "tracks_in_order",
]
