"""Rows of due process: cases, overrides, consents, the notice outbox and
erasure. Each step that changes more than one table runs inside the caller's
transaction (``Database.transaction``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from socialcredit.adapters.db.database import Database
from socialcredit.adapters.db.entries import log_rows
from socialcredit.adapters.db.ledger import LedgerRows
from socialcredit.adapters.db.rows import (
    DECISION_SELECT,
    RECORD_COLUMNS,
    decision_of,
    parse,
    record_of,
)
from socialcredit.domain.consent import ConsentChange
from socialcredit.domain.ledger.chain import GENESIS
from socialcredit.domain.ledger.records import Record, RecordEvent
from socialcredit.domain.ledger.values import DecisionRow
from socialcredit.domain.rights.cases import CaseEvent
from socialcredit.domain.rights.notices import Notice, StoredNotice
from socialcredit.domain.rights.overrides import ADVERSE_SQL, Override
from socialcredit.domain.times import ledger_time

_NOTICE_COLUMNS = "n.id, n.subject, n.kind, n.source, n.at, n.body"


def _notice_of(row: Sequence[Any]) -> Notice:
    notice_id, subject, kind, source, at, body = row
    found = orjson.loads(body)
    return Notice(
        notice_id,
        subject,
        found["masked"],
        kind,
        source,
        parse(at),
        found["title"],
        found["text"],
        found["contest"],
        tuple(found["reasons"]),
    )


def _case_event_of(row: Sequence[Any]) -> CaseEvent:
    case_id, n, subject, kind, at, actor, body = row
    return CaseEvent(case_id, subject, n, kind, parse(at), actor, orjson.loads(body))


def _override_of(row: Sequence[Any]) -> Override:
    subject, action, effect, factor, since, until, case, scheme, reviewer, reason, made = row
    return Override(
        subject,
        action,
        effect,
        factor,
        parse(since),
        parse(until),
        case,
        scheme,
        reviewer,
        reason,
        parse(made),
    )


class DueProcessRows:
    def __init__(self, database: Database, ledger: LedgerRows) -> None:
        self._database = database
        self._db = database.connection
        self._ledger = ledger  # erasure appends its sealed event to the subject's chain

    # -- cases -----------------------------------------------------------------

    def add_case_event(self, event: CaseEvent) -> None:
        row = (
            event.case,
            event.n,
            event.subject,
            event.kind,
            ledger_time(event.at),
            event.actor,
            orjson.dumps(dict(event.body)).decode(),
        )
        with self._database.transaction():
            self._db.execute("INSERT INTO case_events VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            log_rows(self._database, "case", [row])

    def case_events(self, case_id: str) -> list[CaseEvent]:
        rows = self._db.execute(
            "SELECT case_id, n, subject, kind, at, actor, body FROM case_events "
            "WHERE case_id = ? ORDER BY n",
            (case_id,),
        )
        return [_case_event_of(row) for row in rows]

    def all_case_events(self, subject: str | None = None) -> list[CaseEvent]:
        sql = "SELECT case_id, n, subject, kind, at, actor, body FROM case_events"
        rows = (
            self._db.execute(sql + " WHERE subject = ? ORDER BY case_id, n", (subject,))
            if subject is not None
            else self._db.execute(sql + " ORDER BY case_id, n")
        )
        return [_case_event_of(row) for row in rows]

    # -- overrides -------------------------------------------------------------

    def add_override(self, override: Override) -> None:
        o = override
        row = (
            o.subject,
            o.action,
            o.effect,
            o.factor,
            ledger_time(o.since),
            ledger_time(o.until),
            o.case,
            o.scheme,
            o.reviewer,
            o.reason,
            ledger_time(o.made_at),
        )
        with self._database.transaction():
            self._db.execute("INSERT INTO overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            log_rows(self._database, "override", [row])

    def overrides(self, subject: str, action: str | None = None) -> list[Override]:
        sql = (
            "SELECT subject, action, effect, factor, since, until, case_id, scheme, reviewer, "
            "reason, made_at FROM overrides WHERE subject = ?"
        )
        rows = (
            self._db.execute(sql + " AND action = ?", (subject, action))
            if action is not None
            else self._db.execute(sql, (subject,))
        )
        return [_override_of(row) for row in rows]

    def all_overrides(self) -> list[Override]:
        """Every override, for a snapshot of the whole ledger."""
        rows = self._db.execute(
            "SELECT subject, action, effect, factor, since, until, case_id, scheme, reviewer, "
            "reason, made_at FROM overrides ORDER BY subject, made_at"
        )
        return [_override_of(row) for row in rows]

    # -- consent ---------------------------------------------------------------

    def add_consent(self, change: ConsentChange) -> None:
        with self._database.transaction():
            (n,) = self._db.execute(
                "SELECT COALESCE(MAX(n), 0) FROM consents WHERE subject = ?", (change.subject,)
            ).fetchone()
            row = (
                change.subject,
                n + 1,
                change.scheme,
                change.purpose,
                int(change.granted),
                ledger_time(change.at),
                change.actor,
            )
            self._db.execute("INSERT INTO consents VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            log_rows(self._database, "consent", [row])

    def consents(self, subject: str) -> list[ConsentChange]:
        return self._consents("subject = ? ORDER BY n", subject)

    def consents_of_scheme(self, scheme: str) -> list[ConsentChange]:
        return self._consents("scheme = ? ORDER BY subject, n", scheme)

    def _consents(self, where: str, value: str) -> list[ConsentChange]:
        rows = self._db.execute(
            f"SELECT subject, scheme, purpose, granted, at, actor FROM consents WHERE {where}",
            (value,),
        )
        return [
            ConsentChange(s, scheme, purpose, bool(granted), parse(at), actor)
            for s, scheme, purpose, granted, at, actor in rows
        ]

    # -- the notice outbox -------------------------------------------------------

    def add_notices(self, notices: Sequence[Notice]) -> int:
        """Put notices in the outbox; one already there (same source) is kept as it was."""
        with self._database.transaction():
            before, last = self._db.execute(
                "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM notices"
            ).fetchone()
            self._db.executemany(
                "INSERT OR IGNORE INTO notices VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        n.id,
                        n.subject,
                        n.kind,
                        n.source,
                        ledger_time(n.at),
                        orjson.dumps(n.body()).decode(),
                        last + position,
                    )
                    for position, n in enumerate(notices, 1)
                ],
            )
            (after,) = self._db.execute("SELECT COUNT(*) FROM notices").fetchone()
        return int(after - before)

    def notices(self, subject: str) -> list[StoredNotice]:
        rows = self._db.execute(
            f"SELECT {_NOTICE_COLUMNS}, d.delivered_at, d.channel FROM notices n "
            "LEFT JOIN notice_deliveries d ON d.notice = n.id WHERE n.subject = ? "
            "ORDER BY n.seq",
            (subject,),
        )
        return [
            StoredNotice(_notice_of(row[:6]), parse(row[6]) if row[6] else None, row[7])
            for row in rows
        ]

    def undelivered_notices(self, limit: int, after: int = 0) -> list[tuple[int, Notice]]:
        """Up to ``limit`` undelivered notices, oldest first, with their outbox
        positions; ``after`` resumes past the last position a caller saw."""
        rows = self._db.execute(
            f"SELECT n.seq, {_NOTICE_COLUMNS} FROM notices n WHERE n.seq > ? AND NOT EXISTS "
            "(SELECT 1 FROM notice_deliveries d WHERE d.notice = n.id) ORDER BY n.seq LIMIT ?",
            (after, limit),
        )
        return [(row[0], _notice_of(row[1:])) for row in rows]

    def mark_delivered(self, notice_ids: Sequence[str], channel: str, at: datetime) -> None:
        with self._database.transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO notice_deliveries VALUES (?, ?, ?)",
                [(notice_id, channel, ledger_time(at)) for notice_id in notice_ids],
            )

    def unnotified_records(self, after: str, limit: int) -> list[Record]:
        """Up to ``limit`` records, in id order after ``after``, that no
        ``record_reported`` notice has been built for (erased ones aside)."""
        rows = self._db.execute(
            f"SELECT {RECORD_COLUMNS} FROM records r WHERE r.id > ? AND r.category <> '' "
            "AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.source = 'record:' || r.id) "
            "ORDER BY r.id LIMIT ?",
            (after, limit),
        )
        return [record_of(row) for row in rows.fetchall()]

    def unnotified_adverse_decisions(self) -> list[DecisionRow]:
        rows = self._db.execute(
            f"{DECISION_SELECT} d WHERE {ADVERSE_SQL} AND NOT EXISTS "
            "(SELECT 1 FROM notices n WHERE n.source = 'decision:' || d.id)"
        )
        return [decision_of(row) for row in rows.fetchall()]

    def notice_sources(self, kind: str) -> list[str]:
        rows = self._db.execute("SELECT source FROM notices WHERE kind = ?", (kind,))
        return [source for (source,) in rows.fetchall()]

    def open_list_notices(self) -> list[Notice]:
        """``list_entered`` notices with no ``list_left`` notice yet: the entries
        subjects were last told they hold."""
        rows = self._db.execute(
            f"SELECT {_NOTICE_COLUMNS} FROM notices n WHERE n.kind = 'list_entered' AND NOT EXISTS "
            "(SELECT 1 FROM notices m WHERE m.source = 'list-leave' || substr(n.source, 11))"
        )
        return [_notice_of(row) for row in rows.fetchall()]

    # -- erasure ----------------------------------------------------------------

    def erase_record(self, record: Record, event: RecordEvent) -> RecordEvent:
        """Append the sealed ``erased`` event and blank the record's contents, in
        one transaction; the record-reported notice, which repeats them, goes too."""
        with self._database.transaction():
            self._database.secure_delete()  # overwrite, don't just free
            seq, digest = self._db.execute(
                "SELECT seq, hash FROM records WHERE id = ?", (record.id,)
            ).fetchone()
            sealed = event._replace(seal=f"{self._hash_before(record.subject, seq)}:{digest}")
            self._ledger.append_event(record.subject, sealed)
            self._db.execute(
                "UPDATE records SET category = '', occurred_at = reported_at, "
                "expires_at = reported_at, points = 0, evidence = NULL, fingerprint = 'erased' "
                "WHERE id = ?",
                (record.id,),
            )
            self._db.execute("DELETE FROM notices WHERE source = ?", (f"record:{record.id}",))
        return sealed

    def _hash_before(self, subject: str, seq: int) -> str:
        if seq == 1:
            return GENESIS
        row = self._db.execute(
            "SELECT hash FROM records WHERE subject = ? AND seq = ? UNION ALL "
            "SELECT hash FROM record_events WHERE subject = ? AND seq = ?",
            (subject, seq - 1, subject, seq - 1),
        ).fetchone()
        return str(row[0])

    def records_of_scheme(self, scheme: str) -> list[Record]:
        rows = self._db.execute(
            f"SELECT {RECORD_COLUMNS} FROM records WHERE scheme = ? AND category <> ''", (scheme,)
        )
        return [record_of(row) for row in rows.fetchall()]
