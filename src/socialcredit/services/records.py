"""One record at a time: read (logged), its standing after a change, a raw
event on it, and erasure, which blanks its contents and seals its place in the
chain so that ``verify`` still holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from socialcredit.domain.ledger.records import ERASED, EventKind, Record, RecordEvent, status_at
from socialcredit.domain.rights import notices as build
from socialcredit.domain.rights.transitions import check_transition
from socialcredit.errors import NotFound, UsageError
from socialcredit.services.extensions import Extensions
from socialcredit.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class RecordState:
    """A record as it stands: its events, its status now, and its subject shown masked."""

    record: Record
    events: list[RecordEvent]
    status: str  # the last event's kind, or "standing"
    subject: str | None  # masked


class Records:
    def __init__(self, uow: UnitOfWork, extensions: Extensions) -> None:
        self._uow = uow
        self._extensions = extensions

    def get(self, record_id: str) -> Record:
        """The record (:class:`NotFound` if none is held)."""
        record = self._uow.ledger.record(record_id)
        if record is None:
            raise NotFound(f"no record with id {record_id!r}")
        return record

    def read(
        self,
        record_id: str,
        *,
        actor: str,
        purpose: str = "record enquiry",
        authorize: Callable[[Record], None] | None = None,
    ) -> RecordState:
        """A record as it stands, for someone to see: ``authorize`` (the caller's
        rule of who may) is applied first, then the read is logged."""
        if authorize is not None:
            authorize(self.get(record_id))
        state = self.state(record_id)
        uow = self._uow
        what = f"record {record_id}"
        uow.audit.log_access(state.record.subject, uow.clock(), actor, purpose, what)
        return state

    def state(self, record_id: str) -> RecordState:
        """A record as it stands, for the answer to a change its caller just made
        (a report, a contest, a review), which the ledger keeps with that caller
        as its actor. A read for its own sake goes through :meth:`read`."""
        record = self.get(record_id)
        ledger = self._uow.ledger
        events = ledger.record_events(record.id)
        held = ledger.subject(record.subject)
        status = status_at(events, self._uow.clock()) or "standing"
        return RecordState(record, events, status, held.masked if held else None)

    def status(self, record_id: str, at: datetime) -> str | None:
        return status_at(self._uow.ledger.record_events(record_id), at)

    def add_event(
        self,
        record_id: str,
        kind: EventKind,
        *,
        actor: str,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> RecordEvent:
        """Append an event to a record's chain, where the record's status allows it.
        Contests and reviews go through the case work, which keeps their cases."""
        record = self.get(record_id)
        moment = at or self._uow.clock()
        check_transition(record_id, self.status(record_id, moment), kind)
        event = RecordEvent(record_id, kind, moment, actor, reason)
        self._uow.ledger.append_event(record.subject, event)
        return event

    def erase(self, record: Record, why: str, actor: str) -> None:
        """Blank a record's contents and seal its place in the chain (a tombstone);
        a plugin drops what it derived from the record in the same transaction."""
        uow = self._uow
        now = uow.clock()
        if record.category == ERASED:
            raise UsageError(f"record {record.id!r} was already erased")
        event = RecordEvent(record.id, "erased", now, actor, why)
        masked = self._masked(record.subject)
        notice = build.record_erased(record.id, record.subject, masked, record.scheme, why, now)
        with uow.transaction():
            uow.due_process.erase_record(record, event)
            self._extensions.record_erased(record.id)
            uow.due_process.add_notices([notice])
        uow.checkpoint()  # out of the write-ahead log too (once the outermost write ends)

    def _masked(self, key: str) -> str:
        held = self._uow.ledger.subject(key)
        return held.masked if held else "unknown subject"


__all__ = ["RecordState", "Records"]
