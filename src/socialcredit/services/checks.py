"""Scores, checks and lists: the reads of the ledger that the pure engine
answers. Each read of a subject's data is logged here, with the actor and the
purpose, before the answer is handed back; each check is logged as a decision
with every reason."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from socialcredit.domain.consent import SCORING, ConsentChange
from socialcredit.domain.consent import Period as ConsentPeriod
from socialcredit.domain.consent import periods as consent_periods
from socialcredit.domain.ledger.records import Record
from socialcredit.domain.ledger.values import DecisionRow, SubjectLedger, SubjectRow
from socialcredit.domain.rights.overrides import adverse, apply_overrides
from socialcredit.domain.sanctions.check import (
    Decision,
    Representation,
    Standing,
    decide,
    reasons_json,
)
from socialcredit.domain.schemes.compiled import SchemeHistory
from socialcredit.domain.scoring.engine import (
    ListEntry,
    SchemeEvaluation,
    evaluate,
    record_list_entries,
)
from socialcredit.errors import Forbidden, SnapshotMoved, UsageError
from socialcredit.services.ids import time_ordered_id
from socialcredit.services.subjects import Subjects
from socialcredit.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class CheckResult:
    decision_id: str
    subject: str  # masked
    decision: Decision


@dataclass(frozen=True, slots=True)
class ListedEntry:
    subject: str  # masked
    kind: str
    entry: ListEntry
    subject_key: str


@dataclass(frozen=True, slots=True)
class PublishedPage:
    entries: list[ListedEntry]
    total: int  # entries matching, on every page
    page: int
    pages: int
    at: datetime


@dataclass(frozen=True, slots=True)
class PublicReport:
    subject: SubjectRow
    at: datetime
    entries: list[ListEntry]  # on published lists only
    records: list[Record]  # the records that put it there


@dataclass(frozen=True, slots=True)
class Distribution:
    """A scheme's population at one instant: subjects per grade (in the
    scheme's order, best first) and per list."""

    scheme: str
    at: datetime
    subjects: int
    grades: list[tuple[str, int]]
    ungraded: int  # enrolled or with records, but no grade (no score yet, or no grades)
    lists: list[tuple[str, int]]


class Checks:
    def __init__(self, uow: UnitOfWork, subjects: Subjects) -> None:
        self._uow = uow
        self._subjects = subjects
        # Bound once: a check is the most frequent call there is.
        self._ledger = uow.ledger
        self._audit = uow.audit
        self._clock = uow.clock

    # -- scores ------------------------------------------------------------------

    def scores(
        self,
        identifier: str | SubjectRow,
        *,
        scheme: str | None = None,
        at: datetime | None = None,
        kind: str | None = None,
        actor: str,
        purpose: str = "score enquiry",
        within: frozenset[str] | None = None,
    ) -> tuple[SubjectRow, list[SchemeEvaluation]]:
        """Scores with their explanations, in every scheme the subject is enrolled
        in or has records under (or ``scheme`` only). ``within`` limits them to the
        schemes a caller may see, before anything is read or logged. Logged."""
        registry = self._uow.registry
        if scheme is not None:
            registry.history(scheme)
        subject = self._subjects.held(identifier, kind)
        moment = at or self._clock()
        wanted = frozenset({scheme}) if scheme else None
        if within is not None:
            wanted = within if wanted is None else wanted & within
        evaluations = self._evaluate(self._ledger.subject_ledger(subject, wanted), moment, wanted)
        shown = ",".join(e.explanation.scheme for e in evaluations) or "none"
        what = f"scores at {moment.isoformat()}: {shown}"
        self._audit.log_access(subject.key, self._clock(), actor, purpose, what)
        return subject, evaluations

    # -- checks ------------------------------------------------------------------

    def check(
        self,
        identifier: str,
        action: str,
        *,
        at: datetime | None = None,
        kind: str | None = None,
        actor: str,
        purpose: str = "check",
    ) -> CheckResult:
        """Whether a consequence applies to the subject, with every reason.
        Logged as a decision."""
        # One snapshot for the reads and the audit write; should another writer
        # get in between, nothing was written and the check runs again the plain
        # way (statement by statement, the audit rows under the write lock).
        try:
            with self._uow.database.snapshot():
                return self._check(identifier, action, at, kind, actor, purpose)
        except SnapshotMoved:
            return self._check(identifier, action, at, kind, actor, purpose)

    def governs(self, action: str) -> bool:
        """Whether any scheme or memorandum has a measure on ``action``."""
        return bool(self._uow.registry.index.sources(action))

    def _check(
        self,
        identifier: str,
        action: str,
        at: datetime | None,
        kind: str | None,
        actor: str,
        purpose: str,
    ) -> CheckResult:
        registry = self._uow.registry
        moment = at or self._clock()
        subject = self._subjects.identify(identifier, kind)
        relevant, grades_matter = registry.check_inputs(action)
        evaluations: dict[str, Standing] = {}
        representations: list[Representation] = []
        if relevant:
            ledger = self._ledger.subject_ledger(subject, relevant, enrolments=grades_matter)
            evaluations = self._standings(ledger, moment, relevant, grades_matter)
            representations = self._representations(subject, relevant, moment, grades_matter)
        decision = decide(
            action, moment, registry.index, evaluations, representations, registry.list_reach
        )
        # A reviewer's override (GDPR art. 22) stands over an adverse answer of the
        # schemes; once their own answer is no longer adverse, it stands on its own.
        if adverse(decision.effect, decision.factor):
            overrides = self._uow.due_process.overrides(subject.key, action)
            if overrides:
                decision = apply_overrides(decision, overrides)
        decision_id = time_ordered_id()
        # Asked now: at the instant the check is about, unless that was given.
        asked_at = moment if at is None else self._clock()
        row = DecisionRow(
            decision_id,
            subject.key,
            action,
            moment,
            decision.effect,
            decision.factor,
            reasons_json(decision.reasons),
            asked_at,
            actor,
            purpose,
        )
        self._audit.log_decision(row)
        return CheckResult(decision_id, subject.masked, decision)

    # -- lists -------------------------------------------------------------------

    def lists(
        self,
        scheme: str | None = None,
        list_id: str | None = None,
        *,
        at: datetime | None = None,
        actor: str,
        purpose: str = "list enquiry",
    ) -> list[ListedEntry]:
        """Who is on red and black lists (of ``scheme``, of its ``list_id``). Logged."""
        moment = at or self._clock()
        found = self._entries(scheme, list_id, moment)
        self._log_shown(found, moment, actor, purpose)
        return found

    def _entries(
        self, scheme: str | None, list_id: str | None, moment: datetime
    ) -> list[ListedEntry]:
        """Everyone on the lists asked for at ``moment``; not logged: the caller
        logs the entries it shows."""
        registry = self._uow.registry
        histories = [registry.history(scheme)] if scheme else list(registry.schemes.values())
        if list_id is not None and scheme is not None and list_id not in histories[0].current.lists:
            raise UsageError(f"scheme {scheme!r} has no list {list_id!r}")
        found: list[ListedEntry] = []
        for history in histories:
            if not history.current.lists:
                continue
            for subject, evaluation in self.evaluate_scheme(history.id, moment):
                for entry in evaluation.entries:
                    if list_id is None or entry.list == list_id:
                        found.append(ListedEntry(subject.masked, subject.kind, entry, subject.key))
        return found

    def _log_shown(
        self, shown: Sequence[ListedEntry], moment: datetime, actor: str, purpose: str
    ) -> None:
        subjects = sorted({e.subject_key for e in shown})
        what = f"list entries at {moment.isoformat()}"
        self._audit.log_accesses(subjects, self._clock(), actor, purpose, what)

    def published_list(
        self, scheme: str, list_id: str, *, at: datetime | None = None, actor: str
    ) -> list[ListedEntry]:
        """A list as the public may read it: only where a ``publish`` measure
        covers it (:class:`Forbidden` otherwise). Logged as a publication."""
        self.check_published(scheme, list_id)
        return self.lists(scheme, list_id, at=at, actor=actor, purpose="publication")

    def published_page(
        self,
        scheme: str,
        list_id: str,
        *,
        search: str | None = None,
        page: int = 1,
        per_page: int = 50,
        at: datetime | None = None,
        actor: str,
    ) -> PublishedPage:
        """One page of a published list, or the entries of one identifier
        (``search``): only the entries shown are logged as read."""
        self.check_published(scheme, list_id)
        if page < 1 or not 1 <= per_page <= 500:
            raise UsageError("page: pages start at 1 and hold 1 to 500 entries")
        moment = at or self._clock()
        found = sorted(
            self._entries(scheme, list_id, moment), key=lambda e: (e.entry.since, e.subject)
        )
        if search is not None and search.strip():
            key = self._subjects.identify(search.strip()).key
            found = [e for e in found if e.subject_key == key]
        total = len(found)
        shown = found[(page - 1) * per_page : page * per_page]
        self._log_shown(shown, moment, actor, "publication")
        return PublishedPage(shown, total, page, max(1, -(-total // per_page)), moment)

    def public_report(
        self, identifier: str, *, at: datetime | None = None, actor: str
    ) -> PublicReport:
        """A business's public credit report: only its entries on published
        lists, with the records behind them and the authorities that run the
        lists. A person or a public body gets none. Logged as a publication."""
        subject = self._subjects.held(identifier)
        if subject.kind != "business":
            raise Forbidden(
                f"{subject.masked} is a {subject.kind}: only a business has a public credit report"
            )
        registry = self._uow.registry
        moment = at or self._clock()
        ledger = self._ledger.subject_ledger(subject, None)
        entries: list[ListEntry] = []
        for evaluation in self._evaluate(ledger, moment, None):
            entries.extend(e for e in evaluation.entries if registry.published(e.scheme, e.list))
        causes = {r for e in entries for r in e.records}
        records = [r for r in ledger.records if r.id in causes]
        self._audit.log_access(
            subject.key, self._clock(), actor, "publication", "public credit report"
        )
        return PublicReport(subject, moment, entries, records)

    def check_published(self, scheme: str, list_id: str) -> None:
        """:class:`NotFound` for no such list, :class:`Forbidden` for one no
        ``publish`` measure covers: asked before a request's other terms are
        read, so the public learns nothing more of a list it may not see."""
        if not self._uow.registry.published(scheme, list_id):
            raise Forbidden(f"{scheme}/{list_id} is not published: no 'publish' measure covers it")

    # -- the population ------------------------------------------------------------

    def evaluate_scheme(
        self, scheme: str, at: datetime
    ) -> Iterator[tuple[SubjectRow, SchemeEvaluation]]:
        """Every subject of one scheme, evaluated at ``at`` (the batch path: the
        same pure function as a single score, fed a scheme at a time).

        Not logged as a read: it feeds work over the whole population (lists,
        notices, statistics), and whatever of it is shown to someone is logged
        by the use case that shows it."""
        history = self._uow.registry.history(scheme)
        consents: dict[str, list[ConsentChange]] = {}
        if history.current.needs_consent:
            for change in self._uow.due_process.consents_of_scheme(scheme):
                consents.setdefault(change.subject, []).append(change)
        for ledger in self._ledger.scheme_ledgers(scheme):
            spans = consent_periods(consents.get(ledger.subject.key, ()), scheme, SCORING)
            enrolled_at = ledger.enrolments.get(scheme)
            yield (
                ledger.subject,
                evaluate(history, ledger.records, ledger.events, at, enrolled_at, spans),
            )

    def distribution(self, scheme: str, at: datetime | None = None) -> Distribution:
        """How many subjects of a scheme hold each grade and are on each list
        at ``at``: counts only, so no subject's data is read out or logged."""
        moment = at or self._clock()
        definition = self._uow.registry.history(scheme).current.definition
        grades = dict.fromkeys((g.name for g in definition.grades), 0)
        lists = dict.fromkeys((lst.id for lst in definition.lists), 0)
        subjects = ungraded = 0
        for _, evaluation in self.evaluate_scheme(scheme, moment):
            subjects += 1
            grade = evaluation.explanation.grade
            if grade is None or grade not in grades:
                ungraded += 1
            else:
                grades[grade] += 1
            for list_id in {entry.list for entry in evaluation.entries}:
                lists[list_id] = lists.get(list_id, 0) + 1
        return Distribution(
            scheme, moment, subjects, list(grades.items()), ungraded, list(lists.items())
        )

    # -- the engine's inputs -----------------------------------------------------------

    def _evaluate(
        self, ledger: SubjectLedger, moment: datetime, schemes: frozenset[str] | None
    ) -> list[SchemeEvaluation]:
        """Evaluate the subject in every scheme it is enrolled in or has records
        under (only ``schemes``, if given); a scheme asked for by name is
        evaluated even when the subject is not enrolled in it."""
        return [
            evaluate(history, records, ledger.events, moment, enrolled_at, spans)
            for history, records, enrolled_at, spans in self._scheme_inputs(ledger, schemes)
        ]

    def _standings(
        self, ledger: SubjectLedger, moment: datetime, schemes: frozenset[str], grades: bool
    ) -> dict[str, Standing]:
        """What a check reads of each of ``schemes``, by scheme: the evaluation,
        or where no measure on the action reads a grade (``grades`` false) only
        the entries records cause, which need no score."""
        found: dict[str, Standing] = {}
        for history, records, enrolled_at, spans in self._scheme_inputs(ledger, schemes):
            found[history.id] = (
                evaluate(history, records, ledger.events, moment, enrolled_at, spans)
                if grades
                else record_list_entries(history, records, ledger.events, moment, spans)
            )
        return found

    def _scheme_inputs(
        self, ledger: SubjectLedger, schemes: frozenset[str] | None
    ) -> Iterator[tuple[SchemeHistory, list[Record], datetime | None, list[ConsentPeriod]]]:
        """Per scheme to evaluate, in id order: its history, the subject's records
        under it, its explicit enrolment and the periods of consent to scoring."""
        by_scheme: dict[str, list[Record]] = {sid: [] for sid in ledger.enrolments}
        for record in ledger.records:
            by_scheme.setdefault(record.scheme, []).append(record)
        if schemes is not None:
            by_scheme = {sid: found for sid, found in by_scheme.items() if sid in schemes}
            if len(schemes) == 1:
                by_scheme.setdefault(next(iter(schemes)), [])
        histories = self._uow.registry.schemes
        changes: list[ConsentChange] | None = None
        for scheme_id in sorted(by_scheme):
            history = histories.get(scheme_id)
            if history is None:
                continue
            spans: list[ConsentPeriod] = []
            if history.current.needs_consent:
                if changes is None:  # read only when a consent scheme is evaluated
                    changes = self._uow.due_process.consents(ledger.subject.key)
                spans = consent_periods(changes, scheme_id, SCORING)
            yield history, by_scheme[scheme_id], ledger.enrolments.get(scheme_id), spans

    def _representations(
        self, subject: SubjectRow, relevant: frozenset[str], moment: datetime, grades: bool
    ) -> list[Representation]:
        """The businesses a person represents whose list entries reach them."""
        registry = self._uow.registry
        if subject.kind != "person" or not registry.list_reach:
            return []
        reaching = registry.reach_schemes & relevant
        if not reaching:
            return []
        found = []
        for role in registry.reach_roles:
            for link in self._ledger.links_to(subject.key, role):
                known = link.reported_at is None or link.reported_at <= moment
                if not (
                    known and link.since <= moment and (link.until is None or moment < link.until)
                ):
                    continue
                business = self._ledger.subject(link.business)
                if business is None:
                    continue
                ledger = self._ledger.subject_ledger(business, reaching)
                evaluations = self._standings(ledger, moment, reaching, grades)
                found.append(Representation(role, business.masked, evaluations))
        return found


__all__ = ["CheckResult", "Checks", "Distribution", "ListedEntry"]
