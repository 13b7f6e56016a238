"""Reported records into the ledger: validated line by line, batched, and
appended to their subjects' hash chains. Good lines are kept whatever the bad
ones do; every bad line is reported with its reason; each batch is one
transaction, so nothing is half-written.

A consent scheme takes a record only while the subject's consent to its
scoring is active, both when the conduct occurred and now (GDPR art. 7).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from socialcredit.domain.access import AccessDenied, Principal, may_report
from socialcredit.domain.consent import SCORING, ConsentChange
from socialcredit.domain.consent import active_at as consent_active
from socialcredit.domain.consent import periods as consent_periods
from socialcredit.domain.fairness import AuditAttributes
from socialcredit.domain.intake import Line, Parsed, RecordIntake, validate_lines
from socialcredit.domain.ledger.batching import PlanBase, first_batch
from socialcredit.domain.ledger.values import NewRecord, Progress
from socialcredit.domain.times import parse_time
from socialcredit.services.ports import RecordFiles
from socialcredit.services.unit_of_work import UnitOfWork

# Large batches: each commit rewrites the index pages it touches, and with
# keyed-hash subject keys a batch touches pages all over the index, so fewer,
# larger commits write far less. Each batch is still atomic.
IMPORT_BATCH = 100_000
PROGRESS_STEP = 5_000


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    record: str | None
    reason: str


@dataclass(slots=True)
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    duplicate_lines: list[int] = field(default_factory=list)
    forbidden_lines: list[int] = field(default_factory=list)  # among ``rejected``

    def add(self, more: ImportReport) -> None:
        self.accepted += more.accepted
        self.duplicates += more.duplicates
        self.rejected.extend(more.rejected)
        self.duplicate_lines.extend(more.duplicate_lines)
        self.forbidden_lines.extend(more.forbidden_lines)


class Imports:
    def __init__(self, uow: UnitOfWork, files: RecordFiles) -> None:
        self._uow = uow
        self._files = files

    @property
    def files(self) -> RecordFiles:
        """The record files an import reads (for a plugin's own files of lines)."""
        return self._files

    def import_records(
        self,
        lines: Iterable[tuple[int, Mapping[str, Any] | str]],
        progress: Progress | None = None,
        batch_size: int = IMPORT_BATCH,
    ) -> ImportReport:
        """Validate and append records. ``lines`` yields (line number, fields)
        or (line number, a reason the line could not be read)."""
        uow = self._uow
        derived = self._derived()
        intake = RecordIntake(uow.registry, uow.pseudonymiser, uow.clock(), derived)
        parsed = validate_lines(lines, intake)
        return self._import(lambda: self._import_batches(parsed, progress, batch_size, derived))

    def _derived(self) -> dict[str, AuditAttributes] | None:
        """Where the intake puts the fairness audit's attributes of new people:
        only while the operator has the audit on."""
        return {} if self._uow.fairness.audit_on() else None

    def import_reported(
        self,
        lines: Iterable[Line],
        *,
        reporter: Principal,
        progress: Progress | None = None,
        batch_size: int = IMPORT_BATCH,
    ) -> ImportReport:
        """Records a reporter key sends (an API batch, a file uploaded to the
        console): each only to a scheme of the key's authority, which is
        recorded as its reporter whatever the line says. A line for another
        authority's scheme is refused (and named in ``forbidden_lines``); the
        other lines are imported as :meth:`import_records` imports them."""
        report = ImportReport()
        allowed = self._reported_by(lines, reporter, report)
        report.add(self.import_records(allowed, progress, batch_size))
        report.rejected.sort(key=lambda r: r.line)
        return report

    def _reported_by(
        self, lines: Iterable[Line], reporter: Principal, report: ImportReport
    ) -> Iterator[Line]:
        # The scheme is judged as the intake will read it (trimmed), so that a
        # line cannot reach another authority's scheme through white space.
        schemes = self._uow.registry.schemes
        for number, fields in lines:
            if not isinstance(fields, Mapping):
                yield number, fields
                continue
            named = fields.get("scheme")
            history = schemes.get(named.strip() if isinstance(named, str) else str(named))
            if history is not None:
                try:
                    may_report(reporter, history.current.definition)
                except AccessDenied as refused:
                    record = fields.get("id")
                    reason = f"scheme: {refused}"
                    report.rejected.append(Rejection(number, _text_or_none(record), reason))
                    report.forbidden_lines.append(number)
                    continue
            yield number, {**fields, "reporter": reporter.authority}

    def import_file(
        self,
        path: str | Path,
        progress: Progress | None = None,
        batch_size: int = IMPORT_BATCH,
        *,
        worker: bool | None = None,
    ) -> ImportReport:
        """Import a CSV or JSON Lines file. A large file is validated in a forked
        worker while this process writes (``worker`` forces the choice); the
        ledger comes out the same either way. While the fairness audit is on,
        the file is read in this process: the audit's attributes are derived
        where each identifier is read, and a worker's would be lost."""
        file, uow, files = Path(path), self._uow, self._files
        if uow.fairness.audit_on():
            return self.import_records(files.read(file), progress, batch_size)
        use_worker = files.worthwhile(file) if worker is None else worker
        now = uow.clock()
        if not use_worker:
            parsed = files.parse(file, uow.registry, uow.pseudonymiser, now)
            return self._import(lambda: self._import_batches(parsed, progress, batch_size))
        base = uow.ledger.plan_base(batch_size)
        if base is None:  # too many subjects held to copy: the worker only validates
            parsed = files.parse_forked(file, uow.registry, uow.pseudonymiser, now)
            return self._import(lambda: self._import_batches(parsed, progress, batch_size))
        return self._import(lambda: self._import_planned(file, now, base, progress, batch_size))

    def append(self, batch: list[tuple[int, NewRecord]]) -> ImportReport:
        """Append records already built (a rectified record's replacement, a
        verified rider report's records), under the same rules as an import."""
        report = ImportReport()
        self._append(batch, report)
        return report

    def _import(self, run: Callable[[], ImportReport]) -> ImportReport:
        # An import allocates millions of small acyclic tuples; the cyclic
        # collector would rescan the whole growing heap again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            report = run()
        finally:
            if collecting:
                gc.enable()
        # Fold the import's write-ahead log into the database now, rather than
        # inside whichever score or check happens to commit next.
        self._uow.checkpoint()
        return report

    def _import_batches(
        self,
        parsed: Iterable[Parsed],
        progress: Progress | None,
        batch_size: int,
        derived: dict[str, AuditAttributes] | None = None,
    ) -> ImportReport:
        report = ImportReport()
        batch: list[tuple[int, NewRecord]] = []
        seen, limit = 0, first_batch(batch_size)
        for item in parsed:
            seen += 1
            if progress is not None and seen % PROGRESS_STEP == 0:
                progress(PROGRESS_STEP)
            if item[1] is None:
                report.rejected.append(Rejection(item[0], item[2], item[3]))
                continue
            batch.append(item)
            if len(batch) >= limit:
                self._append(batch, report, derived)
                batch, limit = [], batch_size
        if batch:
            self._append(batch, report, derived)
        if progress is not None:
            progress(seen % PROGRESS_STEP)
        report.rejected.sort(key=lambda r: r.line)
        return report

    def _import_planned(
        self, file: Path, now: datetime, base: PlanBase, progress: Progress | None, batch_size: int
    ) -> ImportReport:
        """Write the batches the worker planned; at the first the store refuses
        (ids already held, or another writer moved the ledger), read on from
        that batch's first line in this process, judging every record against
        the ledger as it is. Either way the ledger comes out the same."""
        uow = self._uow
        report = ImportReport()
        batches = self._files.plan_forked(
            file, uow.registry, uow.pseudonymiser, now, batch_size, base
        )
        needing = uow.registry.consent_schemes
        try:
            for batch in batches:
                # The worker cannot see consents: a batch with a record of a consent
                # scheme is judged in this process, like a batch the store refuses.
                consent = bool(needing) and any(row[3] in needing for row in batch.plan.rows)
                if batch.plan.rows and (
                    consent or not uow.ledger.append_planned(batch.plan, base.epoch)
                ):
                    batches.close()  # stop the worker before taking over its work
                    parsed = self._files.parse(
                        file, uow.registry, uow.pseudonymiser, now, batch.start
                    )
                    report.add(self._import_batches(parsed, progress, batch_size))
                    break
                report.accepted += batch.accepted
                report.duplicates += len(batch.duplicate_lines)
                report.duplicate_lines.extend(batch.duplicate_lines)
                report.rejected.extend(Rejection(*found) for found in batch.rejected)
                if progress is not None:
                    progress(batch.seen)
        finally:
            batches.close()
        report.rejected.sort(key=lambda r: r.line)
        return report

    def _append(
        self,
        batch: list[tuple[int, NewRecord]],
        report: ImportReport,
        derived: dict[str, AuditAttributes] | None = None,
    ) -> None:
        batch = self._refuse_without_consent(batch, report)
        outcome = self._uow.ledger.append_records([item for _, item in batch])
        if derived:
            # Only the people the ledger now holds; a person seen only on refused
            # lines stays in ``derived`` until a line of theirs is taken, if ever.
            held = {batch[p][1].subject.key for p in (*outcome.accepted, *outcome.duplicates)}
            self._uow.fairness.keep([derived.pop(key) for key in held if key in derived])
        report.accepted += len(outcome.accepted)
        report.duplicates += len(outcome.duplicates)
        report.duplicate_lines.extend(batch[position][0] for position in outcome.duplicates)
        for position, reason in outcome.refused:
            number, item = batch[position]
            report.rejected.append(Rejection(number, item.id, reason))

    def _refuse_without_consent(
        self, batch: list[tuple[int, NewRecord]], report: ImportReport
    ) -> list[tuple[int, NewRecord]]:
        """A consent scheme takes a record only while the subject's consent to its
        scoring is active, both when the conduct occurred and now (GDPR art. 7)."""
        uow = self._uow
        needing = uow.registry.consent_schemes
        if not needing or not any(item.scheme in needing for _, item in batch):
            return batch
        now = uow.clock()
        changes: dict[str, list[ConsentChange]] = {}
        kept = []
        for number, item in batch:
            if item.scheme in needing:
                key = item.subject.key
                if key not in changes:
                    changes[key] = uow.due_process.consents(key)
                spans = consent_periods(changes[key], item.scheme, SCORING)
                occurred = parse_time(item.occurred_at, "occurred_at")
                if not (consent_active(spans, occurred) and consent_active(spans, now)):
                    reason = (
                        f"subject: {item.subject.masked} has no active consent to "
                        f"{item.scheme!r} for {SCORING!r} (GDPR art. 7), both when the conduct "
                        "occurred and now"
                    )
                    report.rejected.append(Rejection(number, item.id, reason))
                    continue
            kept.append((number, item))
        return kept


def _text_or_none(value: Any) -> str | None:
    return str(value).strip() if value is not None else None


__all__ = ["IMPORT_BATCH", "ImportReport", "Imports", "Rejection"]
