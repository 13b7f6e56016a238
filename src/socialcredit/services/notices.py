"""Notices to subjects: built from what the ledger holds (records reported,
adverse decisions, lists entered and left; case steps and consents are told as
they happen), put in an outbox, and handed to a channel at least once."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from socialcredit.domain.rights import notices as build
from socialcredit.domain.rights.notices import Notice, StoredNotice
from socialcredit.domain.scoring.engine import ListEntry
from socialcredit.domain.times import parse_time
from socialcredit.services.checks import Checks
from socialcredit.services.ports import NoticeChannel
from socialcredit.services.subjects import SUBJECT_ACCESS, Subjects
from socialcredit.services.unit_of_work import UnitOfWork

DELIVERY_BATCH = 1_000
SWEEP_CHUNK = 10_000


@dataclass(slots=True)
class SweepReport:
    built: Counter[str] = field(default_factory=Counter)


class Notices:
    def __init__(self, uow: UnitOfWork, subjects: Subjects, checks: Checks) -> None:
        self._uow = uow
        self._subjects = subjects
        self._checks = checks

    def of(
        self,
        identifier: str,
        *,
        kind: str | None = None,
        actor: str,
        purpose: str = SUBJECT_ACCESS,
    ) -> list[StoredNotice]:
        """What the subject was told (or is due to be told), oldest first. Logged."""
        subject = self._subjects.identify(identifier, kind)
        uow = self._uow
        found = uow.due_process.notices(subject.key)
        uow.audit.log_access(subject.key, uow.clock(), actor, purpose, "notices")
        return found

    def sweep(self) -> SweepReport:
        """Build the notices the ledger calls for and the outbox lacks: records
        reported, adverse decisions, and lists entered or left. Idempotent."""
        report = SweepReport()
        now = self._uow.clock()
        masks: dict[str, str] = {}
        self._record_notices(now, masks, report)
        pending: list[Notice] = []
        for row in self._uow.due_process.unnotified_adverse_decisions():
            masked = self._masked(row.subject, masks)
            reasons = orjson.loads(row.reasons_json)
            pending.append(
                build.decision_adverse(
                    row.subject, masked, row.id, row.action, row.effect, row.factor, reasons, now
                )
            )
        pending.extend(self._list_changes(now, masks))
        by_kind: dict[str, list[Notice]] = {}
        for notice in pending:
            by_kind.setdefault(notice.kind, []).append(notice)
        for kind, notices in sorted(by_kind.items()):
            added = self._uow.due_process.add_notices(notices)  # those already there are skipped
            if added:
                report.built[kind] = added
        return report

    def _record_notices(self, now: datetime, masks: dict[str, str], report: SweepReport) -> None:
        """Record-reported notices, a chunk at a time in id order, so that a sweep
        over millions of records holds only one chunk in memory."""
        registry, store = self._uow.registry, self._uow.due_process
        after = ""
        while records := store.unnotified_records(after, SWEEP_CHUNK):
            after = records[-1].id
            built = []
            for record in records:
                history = registry.schemes.get(record.scheme)
                if history is None:
                    continue
                rule = history.category(record.scheme_version, record.category)
                title = history.current.definition.title
                masked = self._masked(record.subject, masks)
                category = rule.title if rule else record.category
                built.append(build.record_reported(record, masked, title, category, now))
            if added := store.add_notices(built):
                report.built["record_reported"] += added

    def _list_changes(self, now: datetime, masks: dict[str, str]) -> list[Notice]:
        store = self._uow.due_process
        found: list[Notice] = []
        current: set[str] = set()
        exits = Counter(s.partition("#")[0] for s in store.notice_sources("list_left"))
        schemes = self._uow.registry.schemes
        for scheme_id, history in sorted(schemes.items()):
            if not history.current.lists:
                continue
            title = history.current.definition.title
            for subject, evaluation in self._checks.evaluate_scheme(scheme_id, now):
                masks[subject.key] = subject.masked
                for entry in evaluation.entries:
                    left = exits[build.leave_source(build.entry_source(subject.key, entry))]
                    notice = build.list_entered(
                        subject.key, subject.masked, entry, title, now, occurrence=left
                    )
                    current.add(notice.source)
                    found.append(notice)
        for told in store.open_list_notices():
            if told.source in current:
                continue
            reason = told.reasons[0]
            since = parse_time(reason["since"], "since")
            entry = ListEntry(reason["scheme"], reason["list"], reason["kind"], since, None, ())
            held = schemes.get(entry.scheme)
            title = held.current.definition.title if held else entry.scheme
            found.append(build.list_left(told.subject, told.masked, entry, title, now, told.source))
        return found

    def deliver(self, channel: NoticeChannel, *, limit: int = 10_000) -> int:
        """Hand undelivered notices to ``channel``, oldest first; each is marked
        delivered only once the channel took it (at least once delivery)."""
        store = self._uow.due_process
        delivered, position = 0, 0
        while delivered < limit:
            found = store.undelivered_notices(min(DELIVERY_BATCH, limit - delivered), position)
            if not found:
                break
            batch = [notice for _, notice in found]
            channel.deliver(batch)
            store.mark_delivered([n.id for n in batch], channel.name, self._uow.clock())
            delivered, position = delivered + len(batch), found[-1][0]
        return delivered

    def _masked(self, subject: str, cache: dict[str, str]) -> str:
        if subject not in cache:
            cache[subject] = self._subjects.masked(subject)
        return cache[subject]


__all__ = ["DELIVERY_BATCH", "SWEEP_CHUNK", "Notices", "SweepReport"]
