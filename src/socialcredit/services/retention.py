"""Retention: what each scheme may keep, and for how long. Records past their
scheme's retention period are listed, and erased with ``apply``; each plugin
sweeps what it keeps itself (a bike share's positions and trips)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from socialcredit.domain.rights.retention import kept_until, past_retention
from socialcredit.services.extensions import Extensions, RetentionSection
from socialcredit.services.records import Records
from socialcredit.services.subjects import Subjects
from socialcredit.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class RetentionItem:
    record: str
    scheme: str
    subject: str  # masked
    kept_until: datetime


@dataclass(slots=True)
class RetentionReport:
    applied: bool
    items: list[RetentionItem] = field(default_factory=list)
    plugins: list[RetentionSection] = field(default_factory=list)

    def by_scheme(self) -> dict[str, int]:
        return dict(Counter(item.scheme for item in self.items))


class Retention:
    def __init__(
        self, uow: UnitOfWork, subjects: Subjects, records: Records, extensions: Extensions
    ) -> None:
        self._uow = uow
        self._subjects = subjects
        self._records = records
        self._extensions = extensions

    def run(self, *, apply: bool = False, actor: str) -> RetentionReport:
        """Records past their scheme's retention period: listed, and erased with ``apply``."""
        uow = self._uow
        now = uow.clock()
        report = RetentionReport(applied=apply)
        # The plugins' holdings first, so that they are counted as what they are
        # rather than going silently with the records erased below.
        report.plugins = self._extensions.retention(now, apply)
        for scheme_id, history in sorted(uow.registry.schemes.items()):
            retention = history.current.definition.retention
            for record in uow.due_process.records_of_scheme(scheme_id):
                if not past_retention(record, retention, now):
                    continue
                masked = self._subjects.masked(record.subject)
                until = kept_until(record, retention)
                report.items.append(RetentionItem(record.id, scheme_id, masked, until))
                if apply:
                    why = f"retention of {scheme_id!r} ({retention}) ended"
                    self._records.erase(record, why, actor)
        if apply:  # erased contents must not linger in the write-ahead log either
            uow.checkpoint()
        return report


__all__ = ["Retention", "RetentionItem", "RetentionReport"]
