"""Hot-path spellings must give exactly what the plain spellings give.

Each check and each import goes through a few helpers that were rewritten for
speed (issue 2). The plain form of each is kept here, and held equal to the
fast one on generated inputs: same bytes, same hashes, same values, same order.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from socialcredit.adapters.db.rows import record_of, records_of
from socialcredit.domain.ledger.batching import plan_batch
from socialcredit.domain.ledger.chain import GENESIS, link_hash, record_item_hash
from socialcredit.domain.ledger.values import NewRecord, SubjectRow
from socialcredit.domain.sanctions.check import Reason, _reason, reasons_json
from socialcredit.domain.schemes.compiled import MeasureSource
from socialcredit.domain.schemes.durations import Duration, add_months
from socialcredit.entrypoints.views import reason_view
from socialcredit.services.ids import time_ordered_id

text = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x2FFF), max_size=20)
zones = st.sampled_from(
    [
        UTC,
        timezone(timedelta(0)),
        timezone(timedelta(hours=8)),
        timezone(timedelta(hours=-5, minutes=-30)),
    ]
)
# Far enough inside years 1 to 9999 that a reference computation moving a moment by
# -12 to +36 months (below) stays inside them too.
moments = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9996, 11, 30), timezones=zones
)
maybe = st.none() | text


@st.composite
def reasons(draw: st.DrawFn) -> Reason:
    return Reason(
        effect=draw(st.sampled_from(["deny", "adjust", "publish", "priority", "allow"])),
        factor=draw(st.none() | st.floats(0.01, 10, allow_nan=False)),
        source=draw(st.sampled_from(["grade", "list", "memorandum"])),
        scheme=draw(text),
        authority=draw(text),
        context=draw(text),
        rationale=draw(text),
        grade=draw(maybe),
        list=draw(maybe),
        list_kind=draw(st.none() | st.sampled_from(["black", "red"])),
        since=draw(st.none() | moments),
        until=draw(st.none() | moments),
        memorandum=draw(maybe),
        records=tuple(draw(st.lists(text, max_size=4))),
        via=draw(maybe),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(reasons(), max_size=4))
def test_logged_reasons_are_the_bytes_of_the_reason_views(found: list[Reason]) -> None:
    assert reasons_json(found) == orjson.dumps([reason_view(r) for r in found]).decode()


@settings(max_examples=300, deadline=None)
@given(plain=reasons(), grades=st.none() | st.frozensets(text, min_size=1, max_size=2))
def test_reasons_built_for_a_check_equal_reasons_built_by_their_class(plain, grades) -> None:
    source = MeasureSource(
        "act",
        plain.effect,
        plain.factor,
        plain.context,
        plain.rationale,
        plain.scheme,
        plain.authority,
        grades,
        plain.list,
        plain.memorandum,
    )
    built = _reason(
        source,
        plain.grade,
        plain.list,
        plain.list_kind,
        plain.since,
        plain.until,
        plain.records,
        plain.via,
    )
    kind = "memorandum" if plain.memorandum else ("grade" if grades else "list")
    expected = Reason(**{**reason_fields(plain), "source": kind})
    assert built == expected and hash(built) == hash(expected)
    assert reasons_json([built]) == reasons_json([expected])
    assert list(vars(built)) == list(vars(expected))  # the order the JSON is written in


def reason_fields(reason: Reason) -> dict[str, object]:
    return {field: getattr(reason, field) for field in Reason.__dataclass_fields__}


def test_decision_ids_are_spelt_as_uuid_spells_them() -> None:
    for _ in range(200):
        text_id = time_ordered_id()
        assert str(uuid.UUID(text_id)) == text_id


@settings(max_examples=500, deadline=None)
@given(
    moment=moments | st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9996, 11, 30)),
    months=st.integers(-12, 36),
    fold=st.sampled_from([0, 1]),
)
def test_add_months_equals_replace(moment: datetime, months: int, fold: int) -> None:
    moment = moment.replace(fold=fold)
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    assume(1 <= year <= 9998)  # the plain spelling below steps into the next year
    last = (datetime(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
    expected = moment.replace(year=year, month=month + 1, day=min(moment.day, last))
    moved = add_months(moment, months)
    assert (moved, moved.tzinfo, moved.fold) == (expected, expected.tzinfo, expected.fold)


@settings(max_examples=200, deadline=None)
@given(moment=moments, text_=st.sampled_from(["P1Y", "P6M", "P30D", "PT36H", "P1Y2M3DT4H"]))
def test_duration_after_equals_months_then_span(moment: datetime, text_: str) -> None:
    duration = Duration.parse(text_)
    moved = add_months(moment, duration.months) if duration.months else moment
    assert duration.after(moment) == moved + duration.span


@settings(max_examples=300, deadline=None)
@given(
    previous=st.sampled_from([GENESIS, "ab" * 32]),
    seq=st.integers(1, 10**6),
    version=st.integers(1, 50),
    points=st.integers(-1000, 1000),
    fields=st.lists(text, min_size=8, max_size=8),
    evidence=st.none() | text,
)
def test_record_item_hash_equals_the_generic_link_hash(
    previous: str, seq: int, version: int, points: int, fields: list[str], evidence: str | None
) -> None:
    subject, record_id, scheme, category, occurred, reported, expires, reporter = fields
    item = NewRecord(
        record_id,
        SubjectRow(subject, "person", "masked"),
        scheme,
        version,
        category,
        occurred,
        reported,
        expires,
        points,
        reporter,
        evidence,
        "fingerprint",
    )
    hashed = (
        subject,
        seq,
        record_id,
        scheme,
        version,
        category,
        occurred,
        reported,
        expires,
        points,
        reporter,
        evidence,
    )
    assert record_item_hash(previous, subject, seq, item) == link_hash(previous, "record", hashed)


def test_records_of_equals_record_of_row_by_row() -> None:
    rows = [
        (
            "r1",
            "s",
            "civic",
            1,
            "litter",
            "2025-01-31T10:00:00+00:00",
            "2025-01-31T11:00:00.250000+00:00",
            "2026-01-31T10:00:00+00:00",
            -5,
            "city",
            None,
        ),
        (
            "r2",
            "s",
            "civic",
            2,
            "help",
            "2024-02-29T00:00:00+00:00",
            "2024-02-29T00:00:00+00:00",
            "2024-03-30T00:00:00+00:00",
            2,
            "city",
            "case/1",
        ),
    ]
    built = records_of(rows)
    assert built == [record_of(row) for row in rows]
    assert [type(r) for r in built] == [type(record_of(rows[0]))] * 2
    assert built[0].occurred_at == datetime(2025, 1, 31, 10, tzinfo=UTC)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from(["x", "y"])), max_size=30))
def test_planned_rows_come_in_subject_and_seq_order(picks: list[tuple[str, str]]) -> None:
    """The stable sort by subject alone gives (subject, seq) order."""
    batch = [
        NewRecord(
            f"r{n}",
            SubjectRow(key * 32, "person", key),
            "civic",
            1,
            "litter",
            "2025-01-31T10:00:00+00:00",
            "2025-01-31T10:00:00+00:00",
            "2026-01-31T10:00:00+00:00",
            -5,
            reporter,
            None,
            f"f{n}",
        )
        for n, (key, reporter) in enumerate(picks)
    ]
    known = {"b" * 32: (7, "cd" * 32)}
    plan = plan_batch(batch, known, {"b" * 32: "person"}, {})
    assert plan.rows == sorted(plan.rows, key=lambda row: (row[0], row[1]))
    for subject in {row[0] for row in plan.rows}:
        seqs = [row[1] for row in plan.rows if row[0] == subject]
        start = known.get(subject, (0, ""))[0]
        assert seqs == list(range(start + 1, start + 1 + len(seqs)))
