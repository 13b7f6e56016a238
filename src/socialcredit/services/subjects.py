"""Subjects: who an identifier names, enrolments in schemes, links between a
business and the people who represent it, and what a subject may read of its
own audit trail (each read logged)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from socialcredit.domain.fairness import audit_attributes
from socialcredit.domain.identity import parse_identifier
from socialcredit.domain.intake import RecordIntake
from socialcredit.domain.ledger.values import DecisionRow, Link, SubjectRow
from socialcredit.domain.schemes.models import Scheme
from socialcredit.errors import NotFound, UsageError
from socialcredit.services.unit_of_work import UnitOfWork

SUBJECT_ACCESS = "subject access"
_NOTED_AT_MOST = 200_000  # as many as the intake keeps parsed


class Subjects:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._intake: RecordIntake | None = None  # its bounded cache of parsed identifiers

    def identify(self, identifier: str | SubjectRow, kind: str | None = None) -> SubjectRow:
        """The subject an identifier names (validated, hashed, masked); an
        IdentifierError says what is wrong with it. A subject already held
        (a signed-in subject's own row, which knows no identifier) is itself.
        Kept for the life of the ledger's services: they are asked about the
        same people again and again."""
        if isinstance(identifier, SubjectRow):
            return identifier
        if self._intake is None:
            uow = self._uow
            # The fairness audit's attributes of each person identified are noted
            # here, and kept only for those the ledger comes to hold (_keep_attributes).
            self._intake = RecordIntake(uow.registry, uow.pseudonymiser, uow.clock(), {})
        noted = self._intake.attributes
        if noted is not None and len(noted) > _NOTED_AT_MOST:
            noted.clear()  # people looked up and never held: a server must not grow
        return self._intake.subject_row(identifier, kind)

    def _keep_attributes(
        self, subjects: Sequence[SubjectRow], texts: Sequence[str | None] = ()
    ) -> None:
        """Keep the audit's attributes of subjects now held, while the audit is on.
        Those noted at intake, or else, for a subject this process had already
        read (noted and dropped while the audit was off), from its ``texts``."""
        noted = self._intake.attributes if self._intake is not None else None
        if noted is None:
            return
        if self._uow.fairness.audit_on():
            for subject, text in zip(subjects, texts, strict=False):
                if subject.key not in noted and text is not None:
                    derived = audit_attributes(parse_identifier(text, subject.kind), subject.key)  # type: ignore[arg-type]
                    if derived is not None:
                        noted[subject.key] = derived
            self._uow.fairness.keep([noted[s.key] for s in subjects if s.key in noted])
        for subject in subjects:
            noted.pop(subject.key, None)

    def held(self, identifier: str | SubjectRow, kind: str | None = None) -> SubjectRow:
        """The subject, which must be held: :class:`NotFound` otherwise."""
        subject = self.identify(identifier, kind)
        if self._uow.ledger.subject(subject.key) is None:
            raise NotFound(f"no data is held about {subject.masked}")
        return subject

    def masked(self, key: str) -> str:
        """How a subject held under ``key`` is shown."""
        held = self._uow.ledger.subject(key)
        return held.masked if held else "unknown subject"

    def by_key(self, key: str) -> SubjectRow | None:
        """The subject held under a keyed hash, if any (its kind and masked
        identifier only: nothing of its data)."""
        return self._uow.ledger.subject(key)

    def hold(self, subject: SubjectRow) -> None:
        """Hold a subject (kept once; joins the caller's transaction if one is
        open), for a plugin about to keep rows of its own that name it."""
        self._uow.ledger.ensure_subject(subject)

    def log_reads(self, keys: Sequence[str], *, actor: str, purpose: str, what: str) -> None:
        """Log that ``actor`` read each of these subjects' data, for ``purpose``:
        a plugin's use case that shows what it keeps about people calls this
        before it returns it (DESIGN.md §4)."""
        if keys:
            self._uow.audit.log_accesses(list(keys), self._uow.clock(), actor, purpose, what)

    # -- enrolments ------------------------------------------------------------------

    def enrol(
        self,
        identifier: str,
        scheme_id: str,
        *,
        kind: str | None = None,
        at: datetime | None = None,
        actor: str,
    ) -> tuple[SubjectRow, bool]:
        """Enrol a subject in a scheme; the second value says whether it is new."""
        history = self._uow.registry.history(scheme_id)
        subject = self.identify(identifier, kind or _only_kind(history.current.definition))
        rated = history.current.definition.subjects
        if subject.kind not in rated:
            raise UsageError(
                f"a {subject.kind} is not rated by {scheme_id!r} (it rates: {', '.join(rated)})"
            )
        self._known_kind(subject)
        now = self._uow.clock()
        created = self._uow.ledger.enrol(subject, scheme_id, at or now, actor, now)
        self._keep_attributes([subject], [identifier if isinstance(identifier, str) else None])
        return subject, created

    def enrol_many(
        self, subjects: Sequence[SubjectRow], scheme_id: str, *, at: datetime, actor: str
    ) -> None:
        """Enrol subjects already identified, in one transaction (a registry's import)."""
        self._uow.registry.history(scheme_id)
        self._uow.ledger.enrol_many(subjects, scheme_id, at, actor, self._uow.clock())
        self._keep_attributes(subjects)

    def _known_kind(self, subject: SubjectRow) -> None:
        stored = self._uow.ledger.subject(subject.key)
        if stored is not None and stored.kind != subject.kind:
            raise UsageError(
                f"{subject.masked} is already held as a {stored.kind}, not a {subject.kind}"
            )

    # -- links -------------------------------------------------------------------------

    def link(
        self,
        business: str,
        person: str,
        *,
        role: str = "legal_representative",
        since: datetime,
        until: datetime | None = None,
        reporter: str,
    ) -> None:
        """Record that ``person`` holds ``role`` at ``business`` from ``since``."""
        biz = self.identify(business)
        who = self.identify(person, "person")
        _check_business(biz)
        if who.kind != "person":
            raise UsageError(f"{who.masked} is a {who.kind}: a legal representative is a person")
        if until is not None and until <= since:
            raise UsageError("until must be after since")
        ledger = self._uow.ledger
        for row in (biz, who):
            self._known_kind(row)
            ledger.ensure_subject(row)
        ledger.add_link(Link(biz.key, who.key, role, since, until), reporter, self._uow.clock())
        self._keep_attributes([who], [person if isinstance(person, str) else None])

    def add_links(self, links: Sequence[tuple[str, str, datetime]], *, reporter: str) -> int:
        """Bulk legal-representative links: (business, person, since) triples."""
        rows: list[Link] = []
        subjects: dict[str, SubjectRow] = {}
        for business, person, since in links:
            biz, who = self.identify(business), self.identify(person, "person")
            _check_business(biz)
            subjects[biz.key], subjects[who.key] = biz, who
            rows.append(Link(biz.key, who.key, "legal_representative", since, None))
        ledger = self._uow.ledger
        for row in subjects.values():
            ledger.ensure_subject(row)
        ledger.add_links(rows, reporter, self._uow.clock())
        self._keep_attributes(list(subjects.values()))
        return len(rows)

    # -- a subject's own audit trail ---------------------------------------------------

    def decisions(
        self, identifier: str, *, actor: str, purpose: str = SUBJECT_ACCESS
    ) -> list[DecisionRow]:
        """Every decision made about the subject, with its reasons. Logged."""
        subject = self.identify(identifier)
        uow = self._uow
        uow.audit.log_access(subject.key, uow.clock(), actor, purpose, "decisions")
        return uow.audit.decisions(subject.key)

    def access_log(
        self, identifier: str, *, actor: str, purpose: str = SUBJECT_ACCESS
    ) -> list[tuple[datetime, str, str, str]]:
        """Who read the subject's data, when and why: (at, by, purpose, what).
        This read is logged too, after the entries are taken."""
        subject = self.identify(identifier)
        uow = self._uow
        entries = uow.audit.access_log(subject.key)
        uow.audit.log_access(subject.key, uow.clock(), actor, purpose, "access log")
        return entries


def _check_business(subject: SubjectRow) -> None:
    if subject.kind != "business":
        raise UsageError(
            f"{subject.masked} is a {subject.kind}: only a business has a legal representative"
        )


def _only_kind(scheme: Scheme) -> str | None:
    return scheme.subjects[0] if len(scheme.subjects) == 1 else None


__all__ = ["SUBJECT_ACCESS", "Subjects"]
