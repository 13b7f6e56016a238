"""Everything held about a subject, as one export (GDPR art. 15): the data,
and for each scheme its purpose, lawful basis, sources, recipients, retention
and the logic of the scoring in plain words, with the subject's own numbers.
One read, logged once as an access request; the entry points render it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from socialcredit.domain.compliance.paperwork import recipients
from socialcredit.domain.consent import SCORING, ConsentStanding, standings
from socialcredit.domain.consent import periods as consent_periods
from socialcredit.domain.ledger.records import ERASED, Record, RecordEvent, status_at
from socialcredit.domain.ledger.transparency import InclusionProof, TreeHead
from socialcredit.domain.ledger.values import DecisionRow, SubjectLedger, SubjectRow
from socialcredit.domain.rights.cases import fold_all
from socialcredit.domain.rights.notices import StoredNotice
from socialcredit.domain.rights.overrides import Override
from socialcredit.domain.schemes.models import Scheme
from socialcredit.domain.scoring.engine import SchemeEvaluation, score_history
from socialcredit.domain.scoring.words import explain_in_words
from socialcredit.services.casework import ShownCase
from socialcredit.services.checks import Checks
from socialcredit.services.extensions import ExportSection, ExportTable, Extensions
from socialcredit.services.transparency import TransparencyLog
from socialcredit.services.unit_of_work import UnitOfWork

ACCESS_REQUEST = "access request (art. 15)"


@dataclass(frozen=True, slots=True)
class SchemePart:
    scheme: Scheme
    evaluation: SchemeEvaluation
    sources: list[str]
    recipients: list[str]
    logic: str
    score_history: list[tuple[datetime, int | None, str | None]]


@dataclass(frozen=True, slots=True)
class HeldRecord:
    record: Record
    events: list[RecordEvent]
    status: str
    proof: InclusionProof | None = None  # that it is in the log, against the export's head


@dataclass(frozen=True, slots=True)
class AccessExport:
    subject: SubjectRow
    exported_at: datetime
    schemes: list[SchemePart]
    records: list[HeldRecord]
    decisions: list[DecisionRow]
    access_log: list[tuple[datetime, str, str, str]]
    notices: list[StoredNotice]
    cases: list[ShownCase]
    consents: list[ConsentStanding]
    overrides: list[Override]
    sections: list[ExportSection]  # what plugins (and the fairness audit) hold about the subject
    log_head: TreeHead | None = None  # the transparency log's head the records' proofs lead to


class Export:
    def __init__(
        self, uow: UnitOfWork, checks: Checks, extensions: Extensions, log: TransparencyLog
    ) -> None:
        self._uow = uow
        self._checks = checks
        self._extensions = extensions
        self._log = log

    def access_export(
        self,
        identifier: str | SubjectRow,
        *,
        kind: str | None = None,
        actor: str,
        purpose: str = ACCESS_REQUEST,
    ) -> AccessExport:
        """Everything held about the subject; one read, logged for ``purpose``
        (the access export itself, or a subject's own portal page)."""
        uow = self._uow
        subject, evaluations = self._checks.scores(
            identifier, kind=kind, actor=actor, purpose=purpose
        )
        now = uow.clock()
        ledger = uow.ledger.subject_ledger(subject, None)
        held = sorted(ledger.records, key=lambda r: (r.occurred_at, r.id))
        head, proofs = self._proofs([record.id for record in held])
        records = []
        for record, proof in zip(held, proofs, strict=True):
            events = ledger.events.get(record.id, [])
            status = status_at(events, now) or "standing"
            records.append(HeldRecord(record, events, status, proof))
        store = uow.due_process
        changes = store.consents(subject.key)
        cases = fold_all(store.all_case_events(subject.key))
        cases.sort(key=lambda c: (c.opened_at, c.id))
        return AccessExport(
            subject=subject,
            exported_at=now,
            schemes=[self._scheme_part(e, ledger) for e in evaluations],
            records=records,
            decisions=uow.audit.decisions(subject.key),
            access_log=uow.audit.access_log(subject.key),
            notices=store.notices(subject.key),
            cases=[ShownCase(case, subject.masked, uow.clock()) for case in cases],
            consents=standings(changes, uow.clock()),
            overrides=store.overrides(subject.key),
            sections=[*self._extensions.export(subject), *self._audit_attributes(subject)],
            log_head=head,
        )

    def _proofs(self, record_ids: list[str]) -> tuple[TreeHead | None, list[InclusionProof | None]]:
        """A head made now and each record's inclusion proof against it; none
        where the ledger has no signing key yet (the export goes without)."""
        if not self._log.signed():
            return None, [None] * len(record_ids)
        head = self._log.head()
        return head, list(self._log.inclusions(record_ids, head))

    def _audit_attributes(self, subject: SubjectRow) -> list[ExportSection]:
        """The fairness audit's attributes of the subject, if it holds any: the
        subject is told of them, though no score or decision reads them."""
        held = self._uow.fairness.of_subject(subject.key)
        if held is None:
            return []
        data = {"birth_decade": held.birth_decade, "sex": held.sex, "prefecture": held.prefecture}
        purpose = (
            "fairness audit only: counted in groups of 20 or more, never used for a score "
            "or decision, deleted when the audit is turned off"
        )
        table = ExportTable(
            "Fairness audit attributes (from your resident ID)",
            [{**data, "purpose": purpose}],
            [*data, "purpose"],
        )
        return [ExportSection("fairness_audit", {**data, "purpose": purpose}, [table])]

    def _scheme_part(self, evaluation: SchemeEvaluation, ledger: SubjectLedger) -> SchemePart:
        registry = self._uow.registry
        history = registry.history(evaluation.explanation.scheme)
        scheme = history.current.definition
        mine = [r for r in ledger.records if r.scheme == scheme.id]
        sources = sorted({r.reporter for r in mine if r.category != ERASED})
        spans = (
            consent_periods(self._uow.due_process.consents(ledger.subject.key), scheme.id, SCORING)
            if scheme.lawful_basis == "consent"
            else []
        )
        enrolled_at = ledger.enrolments.get(scheme.id)
        at = evaluation.explanation.at
        changes = score_history(history, mine, ledger.events, at, enrolled_at, spans)
        return SchemePart(
            scheme=scheme,
            evaluation=evaluation,
            sources=sources,
            recipients=recipients(scheme, registry.memoranda),
            logic=explain_in_words(scheme, evaluation),
            score_history=changes,
        )


__all__ = ["ACCESS_REQUEST", "AccessExport", "Export", "HeldRecord", "SchemePart"]
