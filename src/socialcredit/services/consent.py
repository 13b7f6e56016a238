"""Consent (GDPR art. 7): granted and withdrawn per subject, scheme and
purpose, each change one call; and a subject's consents as they stand."""

from __future__ import annotations

from dataclasses import dataclass

from socialcredit.domain.consent import (
    ConsentChange,
    ConsentStanding,
    Period,
    active_at,
    periods,
    standings,
)
from socialcredit.domain.ledger.values import SubjectRow
from socialcredit.domain.rights import notices as build
from socialcredit.errors import UsageError
from socialcredit.services.subjects import SUBJECT_ACCESS, Subjects
from socialcredit.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class ConsentChanged:
    change: ConsentChange
    standing: ConsentStanding  # the consent to that scheme and purpose as it now stands


class Consents:
    def __init__(self, uow: UnitOfWork, subjects: Subjects) -> None:
        self._uow = uow
        self._subjects = subjects

    def set(
        self,
        identifier: str | SubjectRow,
        scheme_id: str,
        purpose: str,
        granted: bool,
        *,
        kind: str | None = None,
        actor: str,
    ) -> ConsentChanged:
        """Grant or withdraw consent to a scheme for one purpose; the subject is told."""
        uow = self._uow
        scheme = uow.registry.history(scheme_id).current.definition
        if purpose not in scheme.purposes:
            raise UsageError(
                f"purpose: {scheme_id!r} asks consent for {', '.join(scheme.purposes)}, "
                f"not {purpose!r}"
            )
        subject = self._subjects.identify(identifier, kind)
        now = uow.clock()
        held = uow.due_process.consents(subject.key)
        if active_at(periods(held, scheme_id, purpose), now) == granted:
            state = "already active" if granted else "not active"
            raise UsageError(
                f"consent of {subject.masked} to {scheme_id!r} for {purpose!r} is {state}"
            )
        change = ConsentChange(subject.key, scheme_id, purpose, granted, now, actor)
        notice = build.consent_changed(
            subject.key, subject.masked, scheme_id, purpose, granted, now
        )
        with uow.transaction():
            uow.ledger.ensure_subject(subject)
            uow.due_process.add_consent(change)
            uow.due_process.add_notices([notice])
        spans = periods([*held, change], scheme_id, purpose)
        return ConsentChanged(change, ConsentStanding(scheme_id, purpose, granted, spans))

    def periods(self, subject_key: str, scheme_id: str, purpose: str) -> list[Period]:
        """When a held subject's consent to a scheme for one purpose was active,
        [granted, withdrawn): what a plugin asks before it keeps data that needs
        that consent. Not shown to anyone, so not logged as a read."""
        return periods(self._uow.due_process.consents(subject_key), scheme_id, purpose)

    def of(
        self,
        identifier: str,
        *,
        kind: str | None = None,
        actor: str,
        purpose: str = SUBJECT_ACCESS,
    ) -> list[ConsentStanding]:
        """Each (scheme, purpose) the subject ever consented to, with its periods. Logged."""
        subject = self._subjects.identify(identifier, kind)
        uow = self._uow
        found = standings(uow.due_process.consents(subject.key), uow.clock())
        uow.audit.log_access(subject.key, uow.clock(), actor, purpose, "consents")
        return found


__all__ = ["ConsentChanged", "Consents"]
