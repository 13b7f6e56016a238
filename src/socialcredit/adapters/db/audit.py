"""The audit log: every decision and every read of a subject's data, in one
hash chain per subject beside the ledger's.

A check logs one decision, so logging one is kept to a single lookup and two
writes (see ``schema.py``, migration 4, for how decisions are filed). How a
decision is found again differs by database: SQLite follows the numbers its
id carries, PostgreSQL its indexes; :class:`FiledDecisions` and
:class:`IndexedDecisions` are the two ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from socialcredit.adapters.db.database import Connection, Database
from socialcredit.adapters.db.rows import (
    DECISION_SELECT,
    chunks,
    decision_number,
    decision_of,
    parse,
)
from socialcredit.adapters.db.schema import DECISION_COLUMNS
from socialcredit.domain.ledger.chain import GENESIS, link_hash
from socialcredit.domain.ledger.values import ChainProblem, DecisionRow
from socialcredit.domain.times import ledger_time

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


class DecisionReads(Protocol):
    def decision(self, decision_id: str) -> DecisionRow | None: ...
    def decisions(self, subject: str) -> list[DecisionRow]: ...
    def link_problems(self, masked: dict[str, str]) -> list[ChainProblem]: ...


class FiledDecisions:
    """Decisions found by the number they are filed under (SQLite)."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

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

    def link_problems(self, masked: dict[str, str]) -> list[ChainProblem]:
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


class IndexedDecisions:
    """Decisions found through the id and (subject, seq) indexes (PostgreSQL)."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def decision(self, decision_id: str) -> DecisionRow | None:
        row = self._db.execute(f"{DECISION_SELECT} WHERE id = ?", (decision_id,)).fetchone()
        return decision_of(row) if row else None

    def decisions(self, subject: str) -> list[DecisionRow]:
        rows = self._db.execute(f"{DECISION_SELECT} WHERE subject = ? ORDER BY seq", (subject,))
        return [decision_of(row) for row in rows]

    def link_problems(self, masked: dict[str, str]) -> list[ChainProblem]:
        """None to find: reads here go through the indexes, not the links."""
        return []


class AuditRows:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._db = database.connection
        indexed = database.dialect.indexes_decisions
        self._reads: DecisionReads = (
            IndexedDecisions(self._db) if indexed else FiledDecisions(self._db)
        )

    def decision(self, decision_id: str) -> DecisionRow | None:
        return self._reads.decision(decision_id)

    def decisions(self, subject: str) -> list[DecisionRow]:
        return self._reads.decisions(subject)

    def link_problems(self, masked: dict[str, str]) -> list[ChainProblem]:
        return self._reads.link_problems(masked)

    def log_decision(self, decision: DecisionRow) -> None:
        at = ledger_time(decision.at)
        asked_at = at if decision.asked_at is decision.at else ledger_time(decision.asked_at)
        fields = (
            decision.id,
            decision.action,
            at,
            decision.effect,
            decision.factor,
            decision.reasons_json,
            asked_at,
            decision.asked_by,
            decision.purpose,
        )
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
            self._database.append_leaves("decision", [digest])

        self._database.audit_transaction(append)

    def log_access(self, subject: str, at: datetime, actor: str, purpose: str, what: str) -> None:
        self.log_accesses([subject], at, actor, purpose, what)

    def log_accesses(
        self, subjects: Sequence[str], at: datetime, actor: str, purpose: str, what: str
    ) -> None:
        when = ledger_time(at)
        entries = [(subject, "access", (when, actor, purpose, what)) for subject in subjects]
        self._database.audit_transaction(lambda: self._audit_rows(entries))

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
            heads.update(
                (s, (q, h))
                for s, q, h in self._db.execute(
                    f"SELECT subject, seq, hash FROM audit_heads WHERE subject IN ({marks})", chunk
                )
            )
        return heads

    def access_log(self, subject: str) -> list[tuple[datetime, str, str, str]]:
        rows = self._db.execute(
            "SELECT at, actor, purpose, what FROM access_log WHERE subject = ? ORDER BY seq",
            (subject,),
        )
        return [(parse(at), actor, purpose, what) for at, actor, purpose, what in rows]

    # -- integrity -----------------------------------------------------------


def _insert(db: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``executemany``, or ``execute`` for a single row (a check logs one
    decision, and ``executemany`` costs more per call)."""
    if len(rows) == 1:
        db.execute(sql, rows[0])
    elif rows:
        db.executemany(sql, rows)


__all__ = ["AuditRows", "FiledDecisions", "IndexedDecisions"]
