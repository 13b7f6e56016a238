"""Riders' reports of another trip's bad parking (Mobike 2018: points for
reporting bad parking): filed by a rider, verified or rejected by a reviewer
of the scheme's authority. A verified report appends the offender's
improper-parking record and the reporter's reward through the ledger's own
import, in one transaction with the verification."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from socialcredit.domain.identity import IdentifierError
from socialcredit.domain.ledger.chain import canonical
from socialcredit.domain.ledger.values import NewRecord, SubjectRow
from socialcredit.domain.schemes.models import Scheme
from socialcredit.domain.text import MAX_TEXT_LENGTH, checked_line, checked_statement
from socialcredit.domain.times import iso
from socialcredit.errors import NotFound, UsageError
from socialcredit.pilots.mobility.rows import ReportEvent, StoredTrip
from socialcredit.pilots.mobility.store import MobilityRows
from socialcredit.pilots.mobility.trips import REPORT_REWARD, REPORTED_PARKING
from socialcredit.plugins import time_ordered_id

if TYPE_CHECKING:
    from socialcredit import Services

REPORT_REVIEW = "report review"


@dataclass(frozen=True, slots=True)
class RiderReport:
    id: str
    trip: str
    scheme: str
    reporter: str  # masked
    offender: str  # masked
    statement: str
    photo: str | None
    status: str  # pending, verified or rejected
    filed_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    records: tuple[str, ...]
    subject: str  # keyed hash of the reporter
    offender_key: str


class RiderReports:
    def __init__(self, services: Services, rows: MobilityRows) -> None:
        self._uow = services.uow
        self._subjects = services.subjects
        self._consents = services.consents
        self._definitions = services.definitions
        self._imports = services.imports
        self.rows = rows

    def file(
        self,
        trip_id: str,
        by: str | SubjectRow,
        statement: str,
        *,
        photo: str | None = None,
        actor: str,
    ) -> RiderReport:
        """A rider (an identifier, or a held subject) reports the parking of
        another rider's trip; it counts only once a reviewer of the scheme's
        authority verifies it."""
        trip = self._trip(trip_id)
        if isinstance(by, SubjectRow):
            reporter = by
        else:
            try:
                reporter = self._subjects.identify(by, "person")
            except IdentifierError as error:
                raise UsageError(f"by: {error}") from None
        if reporter.kind != "person":
            raise UsageError(f"by: {reporter.masked} is a {reporter.kind}: riders report parking")
        if reporter.key == trip.subject:
            raise UsageError("by: a rider cannot report their own trip")
        for earlier in self._reports(self.rows.report_events(trip=trip.id)):
            if earlier.subject == reporter.key and earlier.status != "rejected":
                raise UsageError(
                    f"trip: {reporter.masked} already reported trip {trip.id!r} ({earlier.id}, "
                    f"{earlier.status})"
                )
        body = {
            "statement": checked_statement(statement, "statement"),
            "photo": checked_line(photo, "photo", MAX_TEXT_LENGTH) if photo is not None else None,
        }
        event = ReportEvent(
            f"report-{time_ordered_id()}",
            1,
            reporter.key,
            trip.subject,
            trip.id,
            trip.scheme,
            "filed",
            self._uow.clock(),
            actor,
            body,
        )
        with self._uow.transaction():
            self._subjects.hold(reporter)
            self.rows.add_report_event(event)
        return self._reports([event])[0]

    def file_as(
        self, subject_key: str, trip_id: str, statement: str, *, photo: str | None, actor: str
    ) -> RiderReport:
        """:meth:`file`, by the rider a subject's key stands for."""
        held = self._subjects.by_key(subject_key)
        if held is None:
            raise UsageError("by: no rides are held for this key's subject")
        return self.file(trip_id, held, statement, photo=photo, actor=actor)

    def find(
        self,
        *,
        actor: str,
        purpose: str = REPORT_REVIEW,
        status: str | None = None,
        authority: str | None = None,
        subject: str | None = None,
    ) -> list[RiderReport]:
        """Reports, oldest first: ``status`` pending, verified or rejected;
        ``authority`` keeps those its reviewers answer; ``subject`` (a keyed
        hash) those the subject filed or is named in. A report names two riders:
        reading it is logged for both."""
        found = self.matching(status=status, authority=authority, subject=subject)
        riders = sorted({key for r in found for key in (r.subject, r.offender_key)})
        if riders:
            what = f"rider reports ({status or 'all'})"
            self._subjects.log_reads(riders, actor=actor, purpose=purpose, what=what)
        return found

    def matching(
        self,
        *,
        status: str | None = None,
        authority: str | None = None,
        subject: str | None = None,
    ) -> list[RiderReport]:
        found = self._reports(self.rows.report_events(subject=subject))
        if authority is not None:
            found = [r for r in found if self._authority(r.scheme) == authority]
        if status is not None:
            found = [r for r in found if r.status == status]
        return sorted(found, key=lambda r: (r.filed_at, r.id))

    def get(self, report_id: str) -> RiderReport:
        events = self.rows.report_events(report_id)
        if not events:
            raise NotFound(f"no rider report with id {report_id!r}")
        return self._reports(events)[0]

    def scheme_of(self, report_id: str) -> Scheme:
        """The scheme whose reviewers answer a report."""
        return self._definitions.registry.history(self.get(report_id).scheme).current.definition

    def verify(self, report_id: str, reason: str, *, actor: str) -> RiderReport:
        """Verified: the offender gets an improper-parking record and the
        reporter a reward record, with the verification, in one transaction."""
        found = self._pending(report_id)
        trip = self._trip(found.trip)
        scheme = self._definitions.registry.history(found.scheme).current
        now = self._uow.clock()
        offender = self._subjects.by_key(found.offender_key)
        reporter = self._subjects.by_key(found.subject)
        if offender is None or reporter is None:
            raise UsageError(f"report {report_id!r}: a rider it names is no longer held")
        by = scheme.definition.authority.id
        note = checked_statement(reason, "reason")
        items = [
            self._new_record(
                f"report:{report_id}:parking",
                offender,
                scheme.id,
                REPORTED_PARKING,
                trip.ended_at,
                now,
                by,
                f"rider report {report_id} on trip {trip.id}",
            ),
            self._new_record(
                f"report:{report_id}:reward",
                reporter,
                scheme.id,
                REPORT_REWARD,
                found.filed_at,
                now,
                by,
                f"verified rider report {report_id}",
            ),
        ]
        event = ReportEvent(
            report_id,
            2,
            found.subject,
            found.offender_key,
            found.trip,
            found.scheme,
            "verified",
            now,
            actor,
            {"reason": note, "records": [i.id for i in items]},
        )
        with self._uow.transaction():
            outcome = self._imports.append(list(enumerate(items, 1)))
            if outcome.rejected:
                raise UsageError(outcome.rejected[0].reason)
            self.rows.add_report_event(event)
        return self.get(report_id)

    def reject(self, report_id: str, reason: str, *, actor: str) -> RiderReport:
        found = self._pending(report_id)
        event = ReportEvent(
            report_id,
            2,
            found.subject,
            found.offender_key,
            found.trip,
            found.scheme,
            "rejected",
            self._uow.clock(),
            actor,
            {"reason": checked_statement(reason, "reason"), "records": []},
        )
        self.rows.add_report_event(event)
        return self.get(report_id)

    def _pending(self, report_id: str) -> RiderReport:
        found = self.get(report_id)
        if found.status != "pending":
            raise UsageError(f"report {report_id!r} was already {found.status}")
        return found

    def _new_record(
        self,
        rid: str,
        subject: SubjectRow,
        scheme_id: str,
        code: str,
        occurred: datetime,
        now: datetime,
        reporter: str,
        evidence: str,
    ) -> NewRecord:
        compiled = self._definitions.registry.history(scheme_id).current
        rule = compiled.categories[code]
        sent = canonical((scheme_id, code, subject.key, occurred.isoformat(), reporter, evidence))
        return NewRecord(
            rid,
            subject,
            scheme_id,
            compiled.version,
            code,
            occurred.isoformat(),
            now.isoformat(),
            rule.validity.after(occurred).isoformat(),
            rule.points,
            reporter,
            evidence,
            hashlib.sha256(sent.encode()).hexdigest()[:32],
        )

    def _trip(self, trip_id: str) -> StoredTrip:
        found = self.rows.trips_by_id([trip_id]).get(trip_id)
        if found is None:
            raise NotFound(f"no trip with id {trip_id!r}")
        return found

    def _authority(self, scheme_id: str) -> str | None:
        history = self._definitions.registry.schemes.get(scheme_id)
        return history.current.definition.authority.id if history else None

    def _reports(self, events: Sequence[ReportEvent]) -> list[RiderReport]:
        grouped: dict[str, list[ReportEvent]] = {}
        for event in events:
            grouped.setdefault(event.report, []).append(event)
        masks: dict[str, str] = {}

        def masked(key: str) -> str:
            if key not in masks:
                held = self._subjects.by_key(key)
                masks[key] = held.masked if held else "unknown subject"
            return masks[key]

        found = []
        for report_id, steps in grouped.items():
            steps.sort(key=lambda e: e.n)
            filed, last = steps[0], steps[-1]
            decided = last if last.kind != "filed" else None
            found.append(
                RiderReport(
                    report_id,
                    filed.trip,
                    filed.scheme,
                    masked(filed.subject),
                    masked(filed.offender),
                    filed.body.get("statement", ""),
                    filed.body.get("photo"),
                    "pending" if decided is None else decided.kind,
                    filed.at,
                    decided.at if decided else None,
                    decided.actor if decided else None,
                    decided.body.get("reason") if decided else None,
                    tuple(decided.body.get("records", ())) if decided else (),
                    filed.subject,
                    filed.offender,
                )
            )
        return found


def report_view(report: RiderReport, viewer: str | None = None) -> dict[str, Any]:
    """A report as shown; to a rider (``viewer``, a subject key) the other
    rider is not named, not even masked: a rider learns nothing of who rode a
    trip they reported, nor of who reported theirs."""
    reporter, offender = report.reporter, report.offender
    if viewer is not None:
        reporter = reporter if viewer == report.subject else "another rider"
        offender = offender if viewer == report.offender_key else "another rider"
    return {
        "id": report.id,
        "trip": report.trip,
        "scheme": report.scheme,
        "reporter": reporter,
        "offender": offender,
        "statement": report.statement,
        "photo": report.photo,
        "status": report.status,
        "filed_at": iso(report.filed_at),
        "decided_at": iso(report.decided_at),
        "decided_by": report.decided_by,
        "reason": report.reason,
        "records": list(report.records),
    }


__all__ = ["REPORT_REVIEW", "RiderReport", "RiderReports", "report_view"]
