"""The ledger: subjects, enrolments, records and their events in one hash
chain per subject, and links between subjects.

A batch of records is planned (``domain.ledger.batching``) inside its write
transaction against the chain heads and subject kinds held, then written:
every record of it lands with its chain links and heads, or none does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from socialcredit.adapters.db.database import Database
from socialcredit.adapters.db.entries import digests
from socialcredit.adapters.db.rows import (
    EVENT_COLUMNS,
    RECORD_COLUMNS,
    chunks,
    event_fields,
    event_of,
    known_since,
    parse,
    record_of,
    subject_records,
)
from socialcredit.domain.ledger.batching import BatchPlan, PlanBase, learn, plan_batch
from socialcredit.domain.ledger.chain import GENESIS, ledger_root, link_hash
from socialcredit.domain.ledger.records import Record, RecordEvent
from socialcredit.domain.ledger.values import (
    AppendOutcome,
    Link,
    NewRecord,
    SubjectLedger,
    SubjectRow,
)
from socialcredit.domain.times import ledger_time

_INSERT_RECORD = (
    "INSERT INTO records (subject, seq, id, scheme, scheme_version, category, occurred_at, "
    "reported_at, expires_at, points, reporter, evidence, fingerprint, hash, leaf) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_HASH = 13  # where a planned row holds its chain hash
_INSERT_ENROLMENT = (
    "INSERT INTO enrolments (subject, scheme, enrolled_at, actor, known_at) VALUES (?, ?, ?, ?, ?)"
)
# RECORD_COLUMNS but the subject, for reads of one subject's records.
_SUBJECT_RECORD_COLUMNS = RECORD_COLUMNS.replace(" subject,", "", 1)


class LedgerRows:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._db = database.connection
        self._dialect = database.dialect
        self._state = database.state
        # One query per set of schemes asked for (see _ledger_query).
        self._ledger_queries: dict[frozenset[str] | None, tuple[str, tuple[str, ...]]] = {}

    def subject(self, key: str) -> SubjectRow | None:
        row = self._db.execute(
            "SELECT subject, kind, masked FROM subjects WHERE subject = ?", (key,)
        ).fetchone()
        return SubjectRow(*row) if row else None

    def ensure_subject(self, subject: SubjectRow) -> SubjectRow:
        with self._database.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)",
                (subject.key, subject.kind, subject.masked),
            )
        self._remember_kinds([subject])
        stored = self.subject(subject.key)
        assert stored is not None
        return stored

    def enrol(
        self, subject: SubjectRow, scheme: str, at: datetime, actor: str, known_at: datetime
    ) -> bool:
        with self._database.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)",
                (subject.key, subject.kind, subject.masked),
            )
            row = (subject.key, scheme, ledger_time(at), actor, ledger_time(known_at))
            cursor = self._db.execute(_INSERT_ENROLMENT.replace("INSERT", "INSERT OR IGNORE"), row)
            if cursor.rowcount == 1:
                self._database.append_leaves("enrolment", digests("enrolment", [row]))
        self._remember_kinds([subject])
        return cursor.rowcount == 1

    def enrol_many(
        self,
        subjects: Sequence[SubjectRow],
        scheme: str,
        at: datetime,
        actor: str,
        known_at: datetime,
    ) -> None:
        with self._database.transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)",
                [(s.key, s.kind, s.masked) for s in subjects],
            )
            held = self._enrolled(scheme, [s.key for s in subjects])
            known = ledger_time(known_at)
            rows = {s.key: (s.key, scheme, ledger_time(at), actor, known) for s in subjects}
            new = [row for key, row in rows.items() if key not in held]
            self._db.executemany(_INSERT_ENROLMENT, new)
            self._database.append_leaves("enrolment", digests("enrolment", new))
        self._remember_kinds(subjects)

    def _enrolled(self, scheme: str, keys: list[str]) -> set[str]:
        """Which of ``keys`` are enrolled in ``scheme`` already."""
        held: set[str] = set()
        for chunk in chunks(keys):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT subject FROM enrolments WHERE scheme = ? AND subject IN ({marks})"
            held.update(key for (key,) in self._db.execute(sql, (scheme, *chunk)))
        return held

    def _remember_kinds(self, subjects: Iterable[SubjectRow]) -> None:
        """A complete cache must learn subjects written outside ``append_records``
        (INSERT OR IGNORE: a subject it does not know is new, so its kind is the one
        just written); an incomplete one looks them up when it needs them."""
        if self._state.complete:
            for subject in subjects:
                self._state.kinds.setdefault(subject.key, subject.kind)

    def enrolments(self, subject: str) -> dict[str, datetime]:
        """Since when the subject is enrolled in each scheme, as an answer at t
        reads it: from when it took effect or was known, whichever is later."""
        rows = self._db.execute(
            "SELECT scheme, enrolled_at, known_at FROM enrolments WHERE subject = ?", (subject,)
        )
        return {scheme: known_since(at, known) for scheme, at, known in rows}

    # -- the ledger ----------------------------------------------------------

    def append_records(self, batch: Sequence[NewRecord]) -> AppendOutcome:
        cache = self._state
        with self._database.transaction():
            self._refresh_cache(len(batch))
            if not cache.complete:  # a complete cache already holds every subject
                self._load_subjects({item.subject.key for item in batch})
            try:
                # Fast path: most imports are new records, and the unique index
                # on id finds any that are not without a lookup per record.
                self._db.execute("SAVEPOINT fresh_records")
                plan = plan_batch(batch, cache.heads, cache.kinds, {})
                self._insert_records(plan)
                self._db.execute("RELEASE SAVEPOINT fresh_records")
            except self._dialect.integrity_errors:
                self._db.execute("ROLLBACK TO SAVEPOINT fresh_records")
                self._db.execute("RELEASE SAVEPOINT fresh_records")
                stored = self._stored_fingerprints([item.id for item in batch])
                plan = plan_batch(batch, cache.heads, cache.kinds, stored)
                self._insert_records(plan)
            self._write_subjects_and_heads(plan)
        self._learn(plan)
        return plan.outcome

    def plan_base(self, batch_size: int) -> PlanBase | None:
        """A copy of every chain head and subject kind, for the import worker to
        plan batches against, or None when there are too many to load against
        ``batch_size`` (the rule of ``_refresh_cache``)."""
        with self._database.transaction():  # the generation check makes what is loaded current
            self._refresh_cache(batch_size)
        cache = self._state
        if not cache.complete:
            return None
        return PlanBase(dict(cache.heads), dict(cache.kinds), cache.epoch)

    def append_planned(self, plan: BatchPlan, epoch: int) -> bool:
        """Write a batch planned against :meth:`plan_base` of ``epoch`` (and the
        batches planned before it), if the ledger is still what it was planned
        against: no other writer since, and none of its ids held. Otherwise
        write nothing and return False; the caller then plans it here."""
        with self._database.transaction():
            if self._state.epoch != epoch or not self._state.complete:
                return False  # another connection wrote: the plan's heads may be stale
            try:
                self._db.execute("SAVEPOINT planned")
                self._insert_records(plan)
                self._db.execute("RELEASE SAVEPOINT planned")
            except self._dialect.integrity_errors:  # an id already held: a duplicate or a conflict
                self._db.execute("ROLLBACK TO SAVEPOINT planned")
                self._db.execute("RELEASE SAVEPOINT planned")
                return False
            self._write_subjects_and_heads(plan)
        self._learn(plan)
        return True

    def _insert_records(self, plan: BatchPlan) -> None:
        """The planned rows, each numbered with the log leaf it gets; the leaves
        are written only once the rows are in (a refused batch takes none)."""
        first = self._database.next_leaf()
        rows = plan.rows
        self._db.executemany(_INSERT_RECORD, [(*row, first + i) for i, row in enumerate(rows)])
        self._database.append_leaves("record", [row[_HASH] for row in rows])

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
        learn(self._state.heads, self._state.kinds, plan)

    def _refresh_cache(self, batch_size: int) -> None:
        """Load every head and kind at once when the batch is large against the
        tables (the transaction has already dropped a stale cache)."""
        cache = self._state
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
        cache = self._state
        if cache.complete:
            return
        missing = sorted(subjects - cache.kinds.keys())
        for chunk in chunks(missing):
            marks = ",".join("?" * len(chunk))
            cache.kinds.update(
                self._db.execute(
                    f"SELECT subject, kind FROM subjects WHERE subject IN ({marks})", chunk
                ).fetchall()
            )
            cache.heads.update(
                (subject, (seq, digest))
                for subject, seq, digest in self._db.execute(
                    f"SELECT subject, seq, hash FROM chain_heads WHERE subject IN ({marks})", chunk
                )
            )

    def append_event(self, subject: str, event: RecordEvent) -> None:
        with self._database.transaction():
            row = self._db.execute(
                "SELECT seq, hash FROM chain_heads WHERE subject = ?", (subject,)
            ).fetchone()
            seq, previous = row or (0, GENESIS)
            fields = event_fields(subject, seq + 1, event)
            digest = link_hash(previous, "event", fields)
            self._db.execute(
                "INSERT INTO record_events (subject, seq, record, kind, at, actor, reason, hash, "
                "seal) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    subject,
                    seq + 1,
                    event.record,
                    event.kind,
                    ledger_time(event.at),
                    event.actor,
                    event.reason,
                    digest,
                    event.seal,
                ),
            )
            self._db.execute(
                "INSERT OR REPLACE INTO chain_heads VALUES (?, ?, ?)", (subject, seq + 1, digest)
            )
            self._database.append_leaves("event", [digest])
        # The next batch chains on from the event; a stale cached head would fork the chain.
        self._state.heads[subject] = (seq + 1, digest)

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
        enrolled = {
            subject: known_since(at, known)
            for subject, at, known in self._db.execute(
                "SELECT subject, enrolled_at, known_at FROM enrolments WHERE scheme = ?", (scheme,)
            )
        }
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
            yield SubjectLedger(subjects[key], records, mine, {scheme: at} if at else {})

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
        rows = [
            (
                link.business,
                link.person,
                link.role,
                ledger_time(link.since),
                ledger_time(link.until),
                reporter,
                ledger_time(reported_at),
            )
            for link in links
        ]
        with self._database.transaction():
            self._db.executemany("INSERT INTO links VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self._database.append_leaves("link", digests("link", rows))

    def links_to(self, person: str, role: str) -> list[Link]:
        return self._links("WHERE person = ? AND role = ?", (person, role))

    def links(self) -> list[Link]:
        """Every link, for a snapshot of the whole ledger."""
        return self._links("ORDER BY business, person, role, since", ())

    def _links(self, where: str, params: tuple[str, ...]) -> list[Link]:
        rows = self._db.execute(
            f"SELECT business, person, role, since, until, reported_at FROM links {where}", params
        )
        return [
            Link(b, p, r, parse(s), parse(u) if u else None, parse(at))
            for b, p, r, s, u, at in rows
        ]

    # -- decisions and access log -------------------------------------------
    def ledger_root(self) -> str:
        return ledger_root(self._db.execute("SELECT subject, seq, hash FROM chain_heads"))
