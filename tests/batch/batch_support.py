"""Generated ledgers, and the comparison of a batch engine's results with the
per-subject engine's, subject by subject and field by field.

The ledgers are built of domain values (schemes compiled into histories,
records, events, enrolments, consents), so the per-subject engine runs on
them directly, and the batch engines get the same values as the snapshot
writes them (``snapshot.record_row``, ``status_rows``, ``consent_rows``).
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import strategies as st
from rich.console import Console

from socialcredit.adapters.analytics.snapshot import (
    SCHEMAS,
    Columns,
    aware,
    consent_rows,
    naive,
    record_row,
    status_rows,
)
from socialcredit.domain.consent import SCORING, ConsentChange
from socialcredit.domain.consent import periods as consent_periods
from socialcredit.domain.ledger.records import ERASED, EVENT_KINDS, Record, RecordEvent
from socialcredit.domain.schemes.compiled import SchemeHistory, compile_scheme
from socialcredit.domain.schemes.loader import parse_definition
from socialcredit.domain.schemes.models import Scheme
from socialcredit.domain.scoring.engine import SchemeEvaluation, evaluate
from socialcredit.entrypoints.demo import run_demo

START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 3 * 365


@dataclass
class GeneratedLedger:
    histories: dict[str, SchemeHistory]
    records: list[Record]
    events: dict[str, list[RecordEvent]]
    enrolments: dict[tuple[str, str], datetime]
    consents: dict[str, list[ConsentChange]]  # by subject
    subjects: list[str] = field(default_factory=list)
    at: datetime = START  # the instant to ask about, which the ledger's times cluster around

    def arrow(self) -> dict[str, pa.Table]:
        """The ledger as the snapshot holds it."""
        tables = {name: Columns(SCHEMAS[name]) for name in ("rec", "st", "enr", "con")}
        for record in self.records:
            tables["rec"].add(record_row(record))
            for row in status_rows(self.events.get(record.id, []), 1):
                tables["st"].add(row)
        for (subject, scheme), at in sorted(self.enrolments.items()):
            tables["enr"].add((subject, scheme, naive(at)))
        for subject, changes in sorted(self.consents.items()):
            for scheme in sorted({c.scheme for c in changes}):
                for row in consent_rows(subject, scheme, changes, SCORING, 1):
                    tables["con"].add(row)
        return {name: columns.table() for name, columns in tables.items()}

    def expected(self, schemes: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
        """The per-subject engine's answers at ``self.at`` for ``schemes``, as
        :func:`batch_evaluations` gathers a batch's."""
        found = self.per_subject(self.at)
        return {pair: expected(value) for pair, value in found.items() if pair[1] in schemes}

    def per_subject(self, at: datetime) -> dict[tuple[str, str], SchemeEvaluation]:
        """What the per-subject engine answers for each enrolled (subject, scheme)."""
        found = {}
        by_pair: dict[tuple[str, str], list[Record]] = defaultdict(list)
        for record in self.records:
            by_pair[(record.subject, record.scheme)].append(record)
        pairs = set(by_pair) | set(self.enrolments)
        for subject, scheme in sorted(pairs):
            history = self.histories.get(scheme)
            if history is None:
                continue
            records = by_pair.get((subject, scheme), [])
            events = {r.id: self.events[r.id] for r in records if r.id in self.events}
            spans = consent_periods(self.consents.get(subject, []), scheme, SCORING)
            enrolled = self.enrolments.get((subject, scheme))
            found[(subject, scheme)] = evaluate(history, records, events, at, enrolled, spans)
        return found


def scheme_text(
    id: str,
    *,
    base: int,
    bounds: tuple[int | None, int | None],
    monthly: bool,
    consent: bool,
    list_duration: str | None,
    categories: list[dict[str, Any]],
    scorecard: dict[str, Any] | None = None,
) -> str:
    low, high = bounds
    score = f"score: {{base: {base}" + (f", min: {low}" if low is not None else "")
    score += (f", max: {high}" if high is not None else "") + "}\n"
    duration = f", duration: {list_duration}" if list_duration else ""
    lines = [
        "type: scheme",
        f"id: {id}",
        f"title: Generated {id}",
        "authority: {id: city, name: City, kind: government}",
        "context: civic",
        f"lawful_basis: {'consent' if consent else 'public_task'}",
        "subjects: [person]",
        "retention: P5Y",
        score.rstrip("\n"),
        "grades:",
        f"  - {{name: good, min: {base + 15}}}",
        f"  - {{name: fair, min: {base - 15}}}",
        "  - {name: poor}",
        "lists:",
        f"  - {{id: banned, kind: black{duration}, legal_basis: Civic Order s. 4}}",
        "  - {id: model, kind: red, grades: [good]}",
        "categories:",
    ]
    if scorecard is not None:  # scored by factors; no list held by grade (tables.py)
        lines.remove("  - {id: model, kind: red, grades: [good]}")
    if monthly:
        lines.insert(8, "recompute: monthly")
    for category in categories:
        extra = ""
        if category.get("limit"):
            count, per = category["limit"]
            extra += f", limit: {{count: {count}, per: {per}}}"
        if category.get("cap"):
            extra += f", grade_cap: {category['cap']}"
        if category.get("listed"):
            extra += ", lists: [banned]"
        lines.append(
            f"  - {{code: {category['code']}, title: {category['code']}, "
            f"points: {category['points']}, severity: general, validity: {category['validity']}, "
            f"data_categories: [user.behavior], legal_basis: Civic Order s. 2{extra}}}"
        )
    if scorecard is not None:
        lines += _scorecard_lines(scorecard)
    return "\n".join(lines) + "\n"


def _scorecard_lines(card: dict[str, Any]) -> list[str]:
    """One dimension of five factors, one of each measure, over the codes a, b, c."""
    window = f", window: {card['window']}" if card["window"] else ""
    factors = [
        f"count: [a]{window}, bins: [{{below: 1, points: 0}}, {{below: 3, points: 10}}, {{points: 25}}]",
        "ratio: {numerator: [a], denominator: [a, b]}, "
        f"bins: [{{below: 0.5, points: -10}}, {{points: 15}}], missing: {card['missing']}",
        "age: [c], bins: [{below: 30, points: 0}, {below: 365, points: 8}, {points: 20}]",
        f"recency: [b]{window}, bins: [{{below: 7, points: -5}}, {{points: 5}}], missing: 3",
        "sum: [a, b, c], bins: [{below: 0, points: -20}, {below: 50, points: 0}, {points: 12}]",
    ]
    lines = [
        "scorecard:",
        "  dimensions:",
        "    - id: conduct",
        "      title: Conduct",
        "      factors:",
    ]
    for n, factor in enumerate(factors):
        lines.append(f"        - {{id: f{n}, title: Factor {n}, {factor}}}")
    return lines


def parse_scheme(text: str) -> Scheme:
    definition = parse_definition(text, "generated.yaml").definition
    assert isinstance(definition, Scheme)
    return definition


CODES = ("a", "b", "c")
VALIDITIES = ("P10D", "P3M", "P1Y", "P2Y", "P3Y")


@st.composite
def categories(draw: st.DrawFn) -> list[dict[str, Any]]:
    found = []
    for code in CODES:
        limit = draw(
            st.none()
            | st.tuples(st.integers(1, 2), st.sampled_from(["day", "week", "month", "year"]))
        )
        found.append(
            {
                "code": code,
                "points": draw(st.integers(-40, 40)),
                "validity": draw(st.sampled_from(VALIDITIES)),
                "limit": limit,
                "cap": draw(st.none() | st.sampled_from(["fair", "poor"])),
                "listed": draw(st.booleans()),
            }
        )
    return found


@st.composite
def histories(draw: st.DrawFn, id: str, at: datetime = START) -> SchemeHistory:
    options = {
        "base": 100,
        "bounds": (draw(st.none() | st.just(60)), draw(st.none() | st.just(140))),
        "monthly": draw(st.booleans()),
        "consent": draw(st.booleans()),
        "list_duration": draw(st.none() | st.sampled_from(["P2M", "P1Y", "P30D"])),
        "scorecard": draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "window": st.sampled_from([None, "P10D", "P30D", "P3M"]),
                    "missing": st.integers(-5, 5),
                }
            )
        ),
    }
    if options["scorecard"] is not None:  # a scorecard scales into a range it must name
        options["bounds"] = (60, 140)
    first = draw(categories())
    versions = {1: compile_scheme(parse_scheme(scheme_text(id, categories=first, **options)), 1)}
    rescorings: list[tuple[datetime, int]] = []
    if draw(st.booleans()):  # a second version with other points, maybe rescored
        second = draw(categories())
        if draw(st.integers(0, 3)):  # mostly the same limits (the plan's case: see tables.py)
            for old, new in zip(first, second, strict=True):
                new["limit"] = old["limit"]
        versions[2] = compile_scheme(parse_scheme(scheme_text(id, categories=second, **options)), 2)
        if draw(st.booleans()):
            rescorings.append((around(draw, at, 400, 30), 2))
    return SchemeHistory(versions, tuple(rescorings))


def moments() -> st.SearchStrategy[datetime]:
    return st.integers(0, SPAN_DAYS * 24).map(lambda hours: START + timedelta(hours=hours))


AT = START + timedelta(days=2 * 365)


def around(draw: st.DrawFn, at: datetime, before_days: int, after_days: int) -> datetime:
    """A time near ``at``: mostly before it, sometimes after. A band is chosen
    first, so that the times spread over the range (Hypothesis draws integers
    near zero more often than elsewhere)."""
    bands = [(0, before_days // 8), (before_days // 8, before_days // 2)]
    bands += [(before_days // 2, before_days), (-after_days, 0)]
    low, high = draw(st.sampled_from(bands))
    return at - timedelta(hours=draw(st.integers(low * 24, high * 24)))


@st.composite
def ledgers(draw: st.DrawFn, prefix: str = "", at: datetime | None = None) -> GeneratedLedger:
    """A ledger around an instant to ask about (``at``): records that occurred
    mostly in the year before it, reported soon after, some of them contested
    or otherwise changed, under one or two schemes. ``prefix`` names its
    schemes, subjects and records apart from another's, so that several can
    be evaluated in one batch (``merged``)."""
    if at is None:
        at = AT + timedelta(hours=draw(st.integers(0, 365 * 24)))
    ids = (f"{prefix}s1", f"{prefix}s2")[: draw(st.integers(1, 2))]
    schemes = {sid: draw(histories(sid, at)) for sid in ids}
    subjects = [f"{prefix}k{n}" for n in range(draw(st.integers(1, 4)))]
    records: list[Record] = []
    events: dict[str, list[RecordEvent]] = {}
    for number in range(draw(st.integers(0, 16))):
        # Some records follow the one before closely, in its category: limits bite.
        follows = bool(records) and draw(st.sampled_from([False, False, True]))
        if follows:
            scheme, code = records[-1].scheme, records[-1].category or CODES[0]
            occurred = records[-1].occurred_at + timedelta(hours=draw(st.integers(0, 72)))
        else:
            scheme = draw(st.sampled_from(sorted(schemes)))
            code = draw(st.sampled_from(CODES))
            occurred = around(draw, at, 400, 20)
        history = schemes[scheme]
        version = draw(st.sampled_from(sorted(history.versions)))
        category = history.versions[version].categories[code]
        reported = occurred + timedelta(hours=draw(st.integers(0, 40 * 24)))
        erased = draw(st.sampled_from([False] * 19 + [True]))
        record = Record(
            id=f"{prefix}r{number:02d}",
            subject=records[-1].subject if follows else draw(st.sampled_from(subjects)),
            scheme=scheme,
            scheme_version=version,
            category=ERASED if erased else code,
            occurred_at=occurred,
            reported_at=reported,
            expires_at=category.validity.after(occurred),
            points=0 if erased else category.points,
            reporter="city",
        )
        records.append(record)
        if draw(st.sampled_from([False, False, False, True])):
            kinds = draw(st.lists(st.sampled_from(EVENT_KINDS), min_size=1, max_size=3))
            events[record.id] = [
                RecordEvent(record.id, kind, around(draw, at, 300, 30), "reviewer")
                for kind in kinds
            ]
    enrolments = {
        (subject, scheme): around(draw, at, 800, 30)
        for subject in subjects
        for scheme in schemes
        if draw(st.booleans())
    }
    consents: dict[str, list[ConsentChange]] = {}
    for subject in subjects:
        for scheme in schemes:
            grants = draw(st.lists(st.integers(0, 4).map(bool), max_size=3))
            for granted in grants:
                moment = around(draw, at, 800, 30)
                change = ConsentChange(subject, scheme, SCORING, granted, moment, "subject")
                consents.setdefault(subject, []).append(change)
    for changes in consents.values():  # changes are made in time order
        changes.sort(key=lambda c: c.at)
    return GeneratedLedger(schemes, records, events, enrolments, consents, subjects, at)


@st.composite
def several(draw: st.DrawFn, count: int) -> list[GeneratedLedger]:
    """``count`` ledgers around one instant, named apart."""
    at = AT + timedelta(hours=draw(st.integers(0, 365 * 24)))
    return [draw(ledgers(f"l{n}", at)) for n in range(count)]


def merged(parts: list[GeneratedLedger]) -> GeneratedLedger:
    """Ledgers named apart, as one."""
    whole = GeneratedLedger({}, [], {}, {}, {}, at=parts[0].at if parts else START)
    for part in parts:
        whole.histories.update(part.histories)
        whole.records.extend(part.records)
        whole.events.update(part.events)
        whole.enrolments.update(part.enrolments)
        whole.consents.update(part.consents)
        whole.subjects.extend(part.subjects)
    return whole


def batch_evaluations(results: dict[str, pa.Table]) -> dict[tuple[str, str], dict[str, Any]]:
    """The batch results gathered per (subject, scheme), in the shape of
    :func:`expected`."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in results["evaluations"].to_pylist():
        found[(row["subject"], row["scheme"])] = {
            "version": row["version"],
            "at": aware(row["at"]),
            "enrolled": row["enrolled"],
            "score": row["score"],
            "grade": row["grade"],
            "band": row["band"],
            "cap": (row["cap_grade"], row["cap_record"], row["cap_category"])
            if row["cap_grade"]
            else None,
            "counted": [],
            "excluded": [],
            "entries": [],
        }
    for row in results["counted"].to_pylist():
        found[(row["subject"], row["scheme"])]["counted"].append(
            (
                row["record"],
                row["category"],
                row["points"],
                aware(row["occurred_at"]),
                aware(row["expires_at"]),
            )
        )
    for row in results["excluded"].to_pylist():
        found[(row["subject"], row["scheme"])]["excluded"].append(
            (row["record"], row["category"], row["reason"])
        )
    for row in results["list_entries"].to_pylist():
        found[(row["subject"], row["scheme"])]["entries"].append(
            (
                row["list_id"],
                row["kind"],
                aware(row["since"]),
                aware(row["until"]),
                tuple(sorted(row["records"] or ())),
                row["grade"],
            )
        )
    for value in found.values():
        for key in ("counted", "excluded", "entries"):
            value[key].sort()
    return found


def expected(evaluation: SchemeEvaluation) -> dict[str, Any]:
    explanation = evaluation.explanation
    cap = explanation.cap
    return {
        "version": explanation.version,
        "at": explanation.at,
        "enrolled": explanation.enrolled,
        "score": explanation.score,
        "grade": explanation.grade,
        "band": explanation.band,
        "cap": (cap.grade, cap.record, cap.category)
        if cap is not None and explanation.score is not None
        else None,
        "counted": sorted(
            (c.record, c.category, c.points, c.occurred_at, c.expires_at)
            for c in explanation.counted
        ),
        "excluded": sorted((e.record, e.category, e.reason) for e in explanation.excluded),
        "entries": sorted(
            (e.list, e.kind, e.since, e.until, tuple(sorted(e.records)), e.grade)
            for e in evaluation.entries
        ),
    }


def demo_town(
    db: Path, key: str, *, people: int, businesses: int, institutions: int, seed: int
) -> Path:
    """The demo's town in ``db``, built quietly under the identifier key ``key``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCIALCREDIT_KEY", key)
        patch.setattr("sys.stdout", io.StringIO())
        run_demo(
            str(db),
            people=people,
            businesses=businesses,
            institutions=institutions,
            seed=seed,
            console=Console(file=io.StringIO()),
            as_json=True,
        )
    return db
