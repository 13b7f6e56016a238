"""Scores, grades, explanations and list entries: pure functions of
(scheme versions, records, record events, t), exactly as DESIGN.md §3 defines.

Nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Literal, NamedTuple

from socialcredit.domain.consent import Period as ConsentPeriod
from socialcredit.domain.consent import active_at as consent_active
from socialcredit.domain.ledger.records import (
    ERASED,
    SUSPENDING_STATUSES,
    Record,
    RecordEvent,
    status_at,
)
from socialcredit.domain.schemes.compiled import (
    CompiledScheme,
    ListTarget,
    RecordRule,
    SchemeHistory,
)
from socialcredit.domain.schemes.durations import Duration, add_months
from socialcredit.domain.schemes.models import ListDefinition
from socialcredit.domain.schemes.scorecard import FactorContribution
from socialcredit.domain.schemes.scorecard import change_instants as scorecard_instants
from socialcredit.domain.schemes.scorecard import contributions as scorecard_contributions
from socialcredit.native import native

ExclusionReason = Literal[
    "not_yet_reported",
    "expired",
    "limit",
    "contested",
    "overturned",
    "repaired",
    "erased",
    "restricted",
    "no_consent",
]
NO_EVENTS: tuple[RecordEvent, ...] = ()


# Per-record results are named tuples: immutable like the dataclasses below,
# and cheap enough to build by the thousand on the scoring hot path.
class Counted(NamedTuple):
    record: str
    category: str
    points: int
    occurred_at: datetime
    expires_at: datetime


class Excluded(NamedTuple):
    record: str
    category: str
    reason: ExclusionReason


class GradeCap(NamedTuple):
    grade: str
    record: str
    category: str


class ListEntry(NamedTuple):
    scheme: str
    list: str
    kind: str
    since: datetime
    until: datetime | None  # None: held while the grade holds
    records: tuple[str, ...]
    grade: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreExplanation:
    scheme: str
    version: int
    at: datetime
    enrolled: bool
    score: int | None
    grade: str | None
    band: str | None  # the grade the score alone gives, before any cap
    cap: GradeCap | None
    base: int | None
    counted: tuple[Counted, ...]
    excluded: tuple[Excluded, ...]
    # A scorecard scheme's factors: the score is base + their points (clamped),
    # and the counted records' own points are not added.
    factors: tuple[FactorContribution, ...] = ()


@dataclass(frozen=True, slots=True)
class SchemeEvaluation:
    explanation: ScoreExplanation
    entries: tuple[ListEntry, ...]


class ListStanding(NamedTuple):
    """The entries a subject's records in one scheme put it on, without its
    score: all a check reads of a scheme when none of the action's measures is
    on a grade or on a list held by grade (:func:`record_list_entries`)."""

    scheme: str
    entries: tuple[ListEntry, ...]


def evaluate(
    history: SchemeHistory,
    records: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    enrolled_at: datetime | None = None,
    consent: Sequence[ConsentPeriod] = (),
) -> SchemeEvaluation:
    """Score, grade, explanation and list entries of one subject in one scheme at ``t``.

    ``records`` are the subject's records in this scheme (any order),
    ``events`` maps record ids to their events in ledger order,
    ``enrolled_at`` is the time of an explicit enrolment, if any, and
    ``consent`` the periods of the subject's consent to the scheme's scoring
    (read only for a scheme whose lawful basis is consent: without active
    consent at ``t`` nothing counts and the subject has no score)."""
    asked, t = t, recomputed_at(history, t)
    explanation, standing = _explain(history, records, events, t, enrolled_at, consent, asked)
    entries = _record_list_entries(history, standing, t)
    if explanation.grade is not None:
        entries += _grade_list_entries(
            history, records, events, t, enrolled_at, explanation, consent
        )
    return SchemeEvaluation(explanation, tuple(entries))


def record_list_entries(
    history: SchemeHistory,
    records: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    consent: Sequence[ConsentPeriod] = (),
) -> ListStanding:
    """``evaluate(...).entries`` but those held by grade, without working out the
    score, grade and explanation that only grade measures read."""
    asked, t = t, recomputed_at(history, t)
    standing = _classify(history, records, events, t, asked, consent)[0][2]
    return ListStanding(history.id, tuple(_record_list_entries(history, standing, t)))


def explain_score(
    history: SchemeHistory,
    records: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    enrolled_at: datetime | None = None,
    consent: Sequence[ConsentPeriod] = (),
) -> ScoreExplanation:
    as_of = recomputed_at(history, t)
    return _explain(history, records, events, as_of, enrolled_at, consent, t)[0]


def recomputed_at(history: SchemeHistory, t: datetime) -> datetime:
    """The instant a scheme's answer at ``t`` is computed as of: ``t`` itself, or
    for a scheme recomputed monthly, the start of ``t``'s month (UTC), with what
    was known then. Until the next recomputation nothing changes, except that a
    contest, repair, erasure or withdrawn consent still takes effect at once."""
    if not history.current.monthly:
        return t
    start = _utc(t).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start if start.tzinfo is not None else start.replace(tzinfo=UTC)


def _explain(
    history: SchemeHistory,
    records: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    enrolled_at: datetime | None,
    consent: Sequence[ConsentPeriod],
    asked: datetime | None = None,
) -> tuple[ScoreExplanation, list[Ranked]]:
    """The explanation, plus the records in standing (counted or merely expired)
    that list entries are drawn from.

    ``t`` is the instant the scheme computes as of; ``asked`` (default ``t``) the
    instant asked about, later for a monthly scheme. Record statuses and consent
    are read at ``asked``: a contest freezes a record at once (GDPR art. 18)
    and withdrawn consent stops it counting at once, whatever the schedule."""
    found, consenting = _classify(
        history, records, events, t, t if asked is None else asked, consent
    )
    excluded, counted_pairs, standing, known = found
    enrolled = consenting and (known or (enrolled_at is not None and enrolled_at <= t))
    explanation = _grade(history, t, enrolled, counted_pairs, excluded)
    return explanation, standing


def _classify(
    history: SchemeHistory,
    records: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    now: datetime,
    consent: Sequence[ConsentPeriod],
) -> tuple[tuple[list[Excluded], list[Ranked], list[Ranked], bool], bool]:
    """:func:`classify_in_python` of the records in ``(occurred_at, id)`` order
    (by the C evaluator where there is one: it gives up on anything unusual),
    and whether the subject consents to the scheme at ``now``."""
    consenting = not history.current.needs_consent or consent_active(consent, now)
    ordered = sorted(records, key=_record_order)
    found = (
        None
        if native is None
        else native.classify(
            ordered,
            events,
            t,
            now,
            consenting,
            history.rules,
            history.current_rules,
            _NATIVE_CLASSIFY,
        )
    )
    if found is None:
        found = classify_in_python(history, ordered, events, t, now, consenting)
    return found, consenting


Ranked = tuple[Record, RecordRule | None]  # a record and its category's rule, if it has one


def classify_in_python(
    history: SchemeHistory,
    ordered: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    now: datetime,
    consenting: bool,
) -> tuple[list[Excluded], list[Ranked], list[Ranked], bool]:
    """Divide the records, given in ``(occurred_at, id)`` order, among the
    excluded, the counted and those in standing (counted or merely expired),
    and say whether any was known at ``t``. The reference for ``native.classify``."""
    excluded: list[Excluded] = []
    candidates: list[Ranked] = []
    standing: list[Ranked] = []
    known = False
    rules, current_rules = history.rules, history.current_rules
    for record in ordered:
        if record.category == ERASED:  # its contents are gone: nothing about it can count
            excluded.append(Excluded(record.id, record.category, "erased"))
            continue
        if record.reported_at > t or record.occurred_at > t:
            excluded.append(Excluded(record.id, record.category, "not_yet_reported"))
            known = known or record.reported_at <= t
            continue
        if not consenting:
            excluded.append(Excluded(record.id, record.category, "no_consent"))
            continue
        known = True
        rule = rules.get(record.scheme_version, current_rules).get(record.category)
        found = events.get(record.id)  # most records have no events
        status = status_at(found, now) if found else None
        # Reason priority: not_yet_reported, expired, status, limit.
        if t >= record.expires_at:
            excluded.append(Excluded(record.id, record.category, "expired"))
            if status not in SUSPENDING_STATUSES:
                standing.append((record, rule))
        elif status in SUSPENDING_STATUSES:
            excluded.append(Excluded(record.id, record.category, status))  # type: ignore[arg-type]
        else:
            candidates.append((record, rule))
    counted_pairs = _apply_limits(candidates, excluded)
    standing.extend(counted_pairs)
    return excluded, counted_pairs, standing, known


# (occurred_at, id) of a Record, read in C rather than by a Python function per record.
_record_order = itemgetter(5, 0)
assert Record._fields[5] == "occurred_at" and Record._fields[0] == "id"
_by_record = itemgetter(0)  # an Excluded's record id
assert Excluded._fields[0] == "record"
# tuple.__new__ builds a named tuple in C; the class's own __new__ is a Python call.
_new_tuple = tuple.__new__


def _apply_limits(candidates: list[Ranked], excluded: list[Excluded]) -> list[Ranked]:
    """Keep the first N counting records of a limited category per calendar period."""
    used: dict[tuple[str, object], int] = {}
    counted: list[Ranked] = []
    for record, rule in candidates:  # already in (occurred_at, id) order
        limit = rule.limit if rule is not None else None
        if limit is not None:
            slot = (record.category, PERIOD_KEYS[limit.per](record.occurred_at))
            taken = used.get(slot, 0)
            if taken >= limit.count:
                excluded.append(Excluded(record.id, record.category, "limit"))
                continue
            used[slot] = taken + 1
        counted.append((record, rule))
    return counted


def _utc(moment: datetime) -> datetime:
    """Calendar periods are UTC periods, whatever offset a time was given with."""
    return moment.astimezone(UTC) if moment.utcoffset() else moment


PERIOD_KEYS: Mapping[str, Callable[[datetime], object]] = {
    "day": lambda moment: _utc(moment).date(),
    "week": lambda moment: _utc(moment).date() - timedelta(days=_utc(moment).weekday()),  # Monday
    "month": lambda moment: (_utc(moment).year, _utc(moment).month),
    "year": lambda moment: _utc(moment).year,
}

# What the C evaluator is handed to build and read the same objects as Python.
_NATIVE_CLASSIFY = (
    Record,
    RecordRule,
    Excluded,
    status_at,
    SUSPENDING_STATUSES,
    PERIOD_KEYS,
    ERASED,
)
_NATIVE_LISTS = (Record, RecordRule, ListTarget, Duration, ListEntry)


def _grade(
    history: SchemeHistory,
    t: datetime,
    enrolled: bool,
    counted_pairs: list[Ranked],
    excluded: list[Excluded],
) -> ScoreExplanation:
    scheme = history.current
    if history.rescorings:
        counted = tuple(
            Counted(
                r.id,
                r.category,
                history.points(r.scheme_version, r.category, r.points, t),
                r.occurred_at,
                r.expires_at,
            )
            for r, _ in counted_pairs
        )
    else:  # Counted(...) per record, built in C (as records are: store.common.records_of)
        counted = tuple(
            [
                _new_tuple(Counted, (r.id, r.category, r.points, r.occurred_at, r.expires_at))
                for r, _ in counted_pairs
            ]
        )
    excluded.sort(key=_by_record)
    rule = scheme.definition.score
    if not enrolled or rule is None:
        return ScoreExplanation(
            scheme.id,
            scheme.version,
            t,
            enrolled,
            None,
            None,
            None,
            None,
            rule.base if rule else None,
            counted,
            tuple(excluded),
        )
    # A scorecard scheme scores its factors; the counted records are their inputs.
    card = scheme.scorecard
    factors = scorecard_contributions(card, counted, t) if card is not None else ()
    scored: Sequence[Counted | FactorContribution] = factors if card is not None else counted
    total = rule.base + sum(item.points for item in scored)
    if rule.min is not None and total < rule.min:
        total = rule.min
    if rule.max is not None and total > rule.max:
        total = rule.max
    band = scheme.grade_for(total)
    cap = _lowest_cap(scheme, counted_pairs)
    grade = band
    if (
        cap is not None
        and band is not None
        and scheme.grade_rank[cap.grade] > scheme.grade_rank[band]
    ):
        grade = cap.grade
    return ScoreExplanation(
        scheme.id,
        scheme.version,
        t,
        True,
        total,
        grade,
        band,
        cap,
        rule.base,
        counted,
        tuple(excluded),
        factors,
    )


def _lowest_cap(scheme: CompiledScheme, counted_pairs: list[Ranked]) -> GradeCap | None:
    lowest: GradeCap | None = None
    for record, rule in counted_pairs:
        category = rule.category if rule is not None else None
        if category is None or category.grade_cap is None:
            continue
        rank = scheme.grade_rank.get(category.grade_cap)
        if rank is None:  # the cap names a grade the current version dropped
            continue
        if lowest is None or rank > scheme.grade_rank[lowest.grade]:
            lowest = GradeCap(category.grade_cap, record.id, record.category)
    return lowest


def _record_list_entries(
    history: SchemeHistory, standing: list[Ranked], t: datetime
) -> list[ListEntry]:
    if native is not None:  # the C evaluator, unless it gives up
        found = native.list_entries(standing, t, history.id, history.current.lists, _NATIVE_LISTS)
        if found is not None:
            return found
    return list_entries_in_python(history, standing, t)


def list_entries_in_python(
    history: SchemeHistory, standing: list[Ranked], t: datetime
) -> list[ListEntry]:
    """Entries caused by records: from ``occurred_at`` to ``occurred_at + duration``.

    Overlapping causes on one list merge into one entry naming every record.
    The reference for ``native.list_entries``."""
    lists = history.current.lists
    spans = list_spans_in_python(standing, t)
    return [_merge(history.id, lists[list_id], found) for list_id, found in spans.items()]


Span = tuple[datetime, datetime, str]  # (since, until, record id) of one record's list entry


def list_spans_in_python(standing: list[Ranked], t: datetime) -> dict[str, list[Span]]:
    """The spans, by list, of the records in standing still listed at ``t``."""
    spans: dict[str, list[Span]] = {}
    for record, rule in standing:
        if rule is None:
            continue
        for target in rule.lists:
            # list_end(definition, ...), inlined: this runs for every record in standing.
            duration = target.duration
            until = record.expires_at if duration is None else duration.after(record.occurred_at)
            if t < until:
                spans.setdefault(target.list, []).append((record.occurred_at, until, record.id))
    return spans


def _merge(scheme_id: str, definition: ListDefinition, spans: list[Span]) -> ListEntry:
    # min(spans) starts at the earliest occurred_at; positional, as keywords cost more.
    return _new_tuple(
        ListEntry,
        (
            scheme_id,
            definition.id,
            definition.kind,
            min(spans)[0],
            max([s[1] for s in spans]),
            tuple(sorted([s[2] for s in spans])),
            None,
        ),
    )


def _grade_list_entries(
    history: SchemeHistory,
    records: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    enrolled_at: datetime | None,
    explanation: ScoreExplanation,
    consent: Sequence[ConsentPeriod],
) -> list[ListEntry]:
    held = [
        lst
        for lst in history.current.lists.values()
        if lst.grades is not None and explanation.grade in lst.grades
    ]
    if not held:
        return []
    entries = []
    for definition in held:
        grades = frozenset(definition.grades or ())
        since = _grade_held_since(history, records, events, t, enrolled_at, grades, consent)
        entries.append(
            ListEntry(
                history.id,
                definition.id,
                definition.kind,
                since,
                None,
                tuple(c.record for c in explanation.counted),
                explanation.grade,
            )
        )
    return entries


def _grade_held_since(
    history: SchemeHistory,
    records: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    enrolled_at: datetime | None,
    grades: frozenset[str],
    consent: Sequence[ConsentPeriod],
) -> datetime:
    """Start of the unbroken run, ending at ``t``, in which the grade was one of ``grades``.

    The grade can only change at a record's occurrence, report or expiry, or at
    an event, so it is enough to look at those instants, latest first."""
    since = t
    for instant in reversed(_change_instants(history, records, events, t, enrolled_at, consent)):
        if (
            explain_score(history, records, events, instant, enrolled_at, consent).grade
            not in grades
        ):
            break
        since = instant
    return since


def score_history(
    history: SchemeHistory,
    records: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    enrolled_at: datetime | None = None,
    consent: Sequence[ConsentPeriod] = (),
) -> list[tuple[datetime, int | None, str | None]]:
    """Every change of (score, grade) up to ``t``, as known at ``t``'s ledger:
    the instants where a record occurred, was reported or expired, an event
    or an enrolment happened, or consent began or ended."""
    changes: list[tuple[datetime, int | None, str | None]] = []
    for instant in _change_instants(history, records, events, t, enrolled_at, consent):
        found = explain_score(history, records, events, instant, enrolled_at, consent)
        if not changes and found.score is None:
            continue  # not yet enrolled
        if not changes or (changes[-1][1], changes[-1][2]) != (found.score, found.grade):
            changes.append((instant, found.score, found.grade))
    return changes


def _change_instants(
    history: SchemeHistory,
    records: Sequence[Record],
    events: Mapping[str, Sequence[RecordEvent]],
    t: datetime,
    enrolled_at: datetime | None,
    consent: Sequence[ConsentPeriod],
) -> list[datetime]:
    """The instants up to ``t``, in order, at which a score or grade can change:
    a record's occurrence, report or expiry, an event, enrolment, consent; for a
    scorecard, a record leaving a factor's window or an age crossing a bin edge.
    A scheme recomputed monthly changes only at the first month start at or
    after each of them, except for events and consent, which act at once."""
    instants: set[datetime] = {enrolled_at} if enrolled_at is not None else set()
    for record in records:
        instants.update((record.occurred_at, record.reported_at, record.expires_at))
    card = history.current.scorecard
    if card is not None:
        instants |= scorecard_instants(card, ((r.category, r.occurred_at) for r in records))
    if history.current.monthly:
        instants = {_next_month_start(history, i) for i in instants}
    # Events and consent act at once, on any schedule.
    for record in records:
        instants.update(event.at for event in events.get(record.id, NO_EVENTS))
    for start, end in consent:
        instants.add(start)
        if end is not None:
            instants.add(end)
    return sorted(i for i in instants if i <= t)


def _next_month_start(history: SchemeHistory, moment: datetime) -> datetime:
    """The first instant at or after ``moment`` at which a monthly scheme is recomputed."""
    start = recomputed_at(history, moment)
    return start if start == moment else add_months(start, 1)
