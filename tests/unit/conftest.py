"""Shared builders for the unit tests of the pure domain.

``tests`` is not a package, so the builders live here and test modules import
them with ``from conftest import ...`` (pytest's default ``prepend`` import
mode puts this directory on ``sys.path``).
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from socialcredit.domain.ledger.records import EventKind, Record, RecordEvent
from socialcredit.domain.sanctions.check import Decision, Representation, decide
from socialcredit.domain.schemes.compiled import SchemeHistory, build_measure_index
from socialcredit.domain.schemes.loader import parse_definition
from socialcredit.domain.schemes.models import Memorandum, Scheme
from socialcredit.domain.scoring.engine import (
    SchemeEvaluation,
    ScoreExplanation,
    evaluate,
    explain_score,
)

US = timedelta(microseconds=1)
SUBJECT = "subject-1"

_HEADER = """\
type: scheme
id: {id}
title: Test scheme {id}
authority: {{id: {authority}, name: Test authority, kind: {authority_kind}}}
context: civic
lawful_basis: {lawful_basis}
subjects: [person, business]
retention: P5Y
"""

_MEMO_HEADER = """\
type: memorandum
id: {id}
title: Test memorandum {id}
signatories: [{{id: caac, name: Civil Aviation}}, {{id: rail, name: Railways}}]
on: {{scheme: {scheme}, list: {list}}}
"""


def at(*parts: int) -> datetime:
    """A UTC instant: ``at(2024, 1, 31, 12)``."""
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def scheme(
    body: str,
    *,
    id: str = "civic",
    authority: str = "city",
    authority_kind: str = "government",
    lawful_basis: str = "public_task",
) -> Scheme:
    """A scheme from the YAML ``body`` (score, grades, lists, categories, measures)."""
    header = _HEADER.format(
        id=id, authority=authority, authority_kind=authority_kind, lawful_basis=lawful_basis
    )
    text = header + textwrap.dedent(body)
    definition = parse_definition(text, f"{id}.yaml").definition
    assert isinstance(definition, Scheme)
    return definition


def memorandum(
    body: str,
    *,
    id: str = "memo",
    on_scheme: str = "courts",
    on_list: str = "defaulters",
    known: Mapping[str, Scheme] | None = None,
) -> Memorandum:
    text = _MEMO_HEADER.format(id=id, scheme=on_scheme, list=on_list) + textwrap.dedent(body)
    definition = parse_definition(text, f"{id}.yaml", known).definition
    assert isinstance(definition, Memorandum)
    return definition


def history(*versions: Scheme) -> SchemeHistory:
    """Versions numbered 1, 2, ... in the order given."""
    return SchemeHistory.of(list(enumerate(versions, start=1)))


_ids = itertools.count(1)


def record(
    hist: SchemeHistory,
    category: str,
    occurred_at: datetime,
    *,
    id: str | None = None,
    reported_at: datetime | None = None,
    version: int | None = None,
    subject: str = SUBJECT,
    points: int | None = None,
) -> Record:
    """A record as the ledger would store it: points and ``expires_at`` copied
    from the category of the version it is reported under (default: current)."""
    number = hist.current.version if version is None else version
    found = hist.versions[number].categories[category]
    return Record(
        id=id or f"r{next(_ids):05d}",
        subject=subject,
        scheme=hist.id,
        scheme_version=number,
        category=category,
        occurred_at=occurred_at,
        reported_at=occurred_at if reported_at is None else reported_at,
        expires_at=found.validity.after(occurred_at),
        points=found.points if points is None else points,
        reporter="test-reporter",
    )


def event(record_id: str | Record, kind: EventKind, when: datetime) -> RecordEvent:
    rid = record_id.id if isinstance(record_id, Record) else record_id
    return RecordEvent(record=rid, kind=kind, at=when, actor="reviewer")


def events(*found: RecordEvent) -> dict[str, list[RecordEvent]]:
    """Events grouped by record, in the order given (ledger order)."""
    grouped: dict[str, list[RecordEvent]] = {}
    for item in found:
        grouped.setdefault(item.record, []).append(item)
    return grouped


def explain(
    hist: SchemeHistory,
    records: Sequence[Record],
    t: datetime,
    evs: Iterable[RecordEvent] = (),
    enrolled_at: datetime | None = None,
) -> ScoreExplanation:
    return explain_score(hist, records, events(*evs), t, enrolled_at)


def evaluation(
    hist: SchemeHistory,
    records: Sequence[Record],
    t: datetime,
    evs: Iterable[RecordEvent] = (),
    enrolled_at: datetime | None = None,
) -> SchemeEvaluation:
    return evaluate(hist, records, events(*evs), t, enrolled_at)


def reasons_of(explanation: ScoreExplanation) -> dict[str, str]:
    """Record id -> exclusion reason."""
    return {e.record: e.reason for e in explanation.excluded}


def counted_ids(explanation: ScoreExplanation) -> list[str]:
    return [c.record for c in explanation.counted]


def list_reach(*histories: SchemeHistory) -> dict[tuple[str, str], frozenset[str]]:
    """(scheme, list) -> the link roles its measures reach, from the current versions."""
    return {
        (h.id, lst.id): frozenset(lst.reach)
        for h in histories
        for lst in h.current.definition.lists
        if lst.reach
    }


def check(
    action: str,
    t: datetime,
    histories: Sequence[SchemeHistory],
    evaluations: Mapping[str, SchemeEvaluation],
    memoranda: Sequence[Memorandum] = (),
    representations: Sequence[Representation] = (),
) -> Decision:
    index = build_measure_index([h.current for h in histories], memoranda)
    return decide(action, t, index, evaluations, representations, list_reach(*histories))
