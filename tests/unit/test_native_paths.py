"""The C accelerators (``socialcredit.native._speedups``) must give exactly what the
Python functions they stand for give, or give up where those functions are
the reference: on lines of every shape, on whole files, and on batches.

Where the extension was not built, these tests are skipped, unless
SOCIALCREDIT_REQUIRE_NATIVE=1 (set by CI) makes that a failure."""

from __future__ import annotations

import codecs
import os
import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType, SimpleNamespace

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_intake_paths import NOW, REGISTRY, lines
from test_scoring_properties import subjects as scoring_subjects

from conftest import at, event, events, history, record, scheme
from socialcredit.adapters.db.rows import subject_records_in_python
from socialcredit.adapters.files.records import parse_file, parse_file_chunks
from socialcredit.domain.identity import Pseudonymiser
from socialcredit.domain.intake import RecordError, RecordIntake
from socialcredit.domain.ledger import batching
from socialcredit.domain.ledger.chain import GENESIS, link_hash_in_python, record_item_hash
from socialcredit.domain.ledger.records import Record, RecordEvent
from socialcredit.domain.ledger.values import NewRecord, SubjectRow
from socialcredit.domain.schemes.compiled import ListTarget, RecordRule
from socialcredit.domain.schemes.durations import Duration, _add_months, add_months
from socialcredit.domain.scoring import engine
from socialcredit.native import native

if native is None and os.environ.get("SOCIALCREDIT_REQUIRE_NATIVE") == "1":
    pytest.fail("the C accelerator was not built, and this run requires it", pytrace=False)
pytestmark = pytest.mark.skipif(native is None, reason="the C accelerator is not built here")

KEY = Pseudonymiser(b"k" * 32)


def _python_answer(intake: RecordIntake, line: dict[str, object]) -> object:
    try:
        return intake._parse_common(line) or intake._parse_checked(line)
    except RecordError as error:
        return str(error)


@settings(max_examples=600, deadline=None)
@given(first=lines, second=lines)
def test_the_c_path_gives_up_or_agrees_with_the_python_paths(first, second) -> None:
    intake = RecordIntake(REGISTRY, KEY, NOW)
    table = intake.native_table()
    for line in (first, second, first):  # the second time, subject and expiry are cached
        found = native.parse_common(dict(line), table)
        expected = _python_answer(intake, line)  # fills the caches, as parse() would
        if found is not None:
            assert found == expected
            assert type(found) is NewRecord and type(found.subject) is SubjectRow


def test_the_c_path_takes_the_common_line_once_its_caches_are_warm() -> None:
    intake = RecordIntake(REGISTRY, KEY, NOW)
    line = {
        "id": "r1",
        "scheme": "civic",
        "category": "litter",
        "subject": "cn-ric:11010519491231002X",
        "occurred_at": "2025-01-31T10:00:00+00:00",
        "reported_at": "2025-02-01T10:00:00.500000+00:00",
        "reporter": "police",
        "evidence": "case/7",
    }
    assert native.parse_common(line, intake.native_table()) is None  # expiry date not cached yet
    expected = intake.parse(line)
    assert native.parse_common(line, intake.native_table()) == expected
    without_report = {k: v for k, v in line.items() if k != "reported_at"}
    assert native.parse_common(without_report, intake.native_table()) == intake._parse_common(
        without_report
    )


@pytest.mark.parametrize(
    "change",
    [
        {"occurred_at": "2025-01-31T10:00:00.000000+00:00"},  # isoformat drops a zero fraction
        {"occurred_at": "2025-02-29T10:00:00+00:00"},  # no such day
        {"occurred_at": "2025-01-31T24:00:00+00:00"},
        {"occurred_at": "２０２５-01-31T10:00:00+00:00"},  # digits, but not ASCII ones
        {"reported_at": "2025-01-30T10:00:00+00:00"},  # before occurred_at
        {"reported_at": (NOW + timedelta(minutes=6)).isoformat()},  # in the future
        {"reporter": "po\x7flice"},
        {"reporter": "police\u3000"},  # an ideographic space at the end
        {"evidence": ""},
        {"id": "r\u00a01"},  # a no-break space
        {"subject_kind": "person"},
        {"extra": 1},
        {"points": -5},
        {"scheme": "nope"},
        {"category": "odd"},  # a validity with a time part: the Python path computes it
        {"subject": "cn-ric:110105194912310021"},  # a wrong check character
    ],
)
def test_the_c_path_gives_up_on_each_kind_of_doubt(change: dict[str, object]) -> None:
    intake = RecordIntake(REGISTRY, KEY, NOW)
    line = {
        "id": "r1",
        "scheme": "civic",
        "category": "litter",
        "subject": "cn-ric:11010519491231002X",
        "occurred_at": "2025-01-31T10:00:00+00:00",
        "reporter": "police",
    }
    intake.parse(line)  # warm both caches
    assert native.parse_common(dict(line), intake.native_table()) is not None
    assert native.parse_common({**line, **change}, intake.native_table()) is None


def _file_lines(draw_lines: list[dict[str, object]], extras: list[bytes]) -> bytes:
    out = [orjson.dumps(line) + b"\n" for line in draw_lines]
    for place, extra in enumerate(extras):
        out.insert((place * 7) % (len(out) + 1), extra)
    return b"".join(out)


odd_lines = st.lists(
    st.sampled_from(
        [
            b"\n",
            b"   \n",
            b"{not json\n",
            b"[1, 2]\n",
            b'"text"\n',
            b"\xff\xfe{}\n",
            b'{"id": "r9", "scheme": "civic", "reporter": "caf\xc3\xa9"}\n',
            b"\xef\xbb\xbf{}\n",
            b'{"id": "r8", "scheme": "civic", "category": "litter", "subject": "ext:city:1", '
            b'"occurred_at": "2025-01-31T10:00:00+00:00", "reporter": "p"}\n',
        ]
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    records=st.lists(lines, max_size=12),
    extras=odd_lines,
    bom=st.booleans(),
    last_newline=st.booleans(),
)
def test_a_file_read_in_chunks_gives_the_items_the_line_reader_gives(
    tmp_path_factory: pytest.TempPathFactory,
    records: list[dict[str, object]],
    extras: list[bytes],
    bom: bool,
    last_newline: bool,
) -> None:
    content = _file_lines(records, extras)
    if bom:
        content = codecs.BOM_UTF8 + content
    if not last_newline:
        content = content.rstrip(b"\n")
    path = tmp_path_factory.mktemp("chunks") / "records.jsonl"
    path.write_bytes(content)
    chunked = [item for chunk in parse_file_chunks(path, REGISTRY, KEY, NOW) for item in chunk]
    assert chunked == list(parse_file(path, REGISTRY, KEY, NOW))


def test_a_file_with_carriage_returns_is_read_as_text(tmp_path: Path) -> None:
    """A lone carriage return is a line break to the text reader but not to
    bytes, so such a file is read as text, and numbered the same."""
    path = tmp_path / "records.jsonl"
    path.write_bytes(b'{"id": "a"}\r{"id": "b"}\r\n{not json\n')
    chunked = [item for chunk in parse_file_chunks(path, REGISTRY, KEY, NOW) for item in chunk]
    assert chunked == list(parse_file(path, REGISTRY, KEY, NOW))
    assert [item[0] for item in chunked] == [1, 2, 3]


def _record(n: int, key: str, kind: str = "person", **fields: object) -> NewRecord:
    values: dict[str, object] = {
        "id": f"r{n}",
        "subject": SubjectRow(key, kind, "masked"),
        "scheme": "civic",
        "scheme_version": 1,
        "category": "litter",
        "occurred_at": "2025-01-31T10:00:00+00:00",
        "reported_at": "2025-01-31T11:00:00+00:00",
        "expires_at": "2026-01-31T10:00:00+00:00",
        "points": -5,
        "reporter": "police",
        "evidence": None,
        "fingerprint": "f" * 32,
    }
    values.update(fields)
    return NewRecord(**values)  # type: ignore[arg-type]


odd_values = st.sampled_from(
    [
        {},
        {"evidence": "café №7"},
        {"points": 10**30},
        {"points": -(2**63)},
        {"scheme_version": True},
        {"reporter": "市公安局"},
        {"evidence": ""},
        {"category": 5},
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(st.tuples(st.sampled_from("abc"), odd_values), max_size=25),
    known_seq=st.integers(0, 2**40),
)
def test_chaining_in_c_equals_chaining_in_python(
    picks: list[tuple[str, dict[str, object]]], known_seq: int
) -> None:
    fresh = [(n, _record(n, key * 32, **fields)) for n, (key, fields) in enumerate(picks)]
    known = {"b" * 32: (known_seq, "cd" * 32)}
    heads_c: dict[str, tuple[int, str]] = {}
    rows_c: list[tuple[object, ...]] = []
    native.chain(fresh, known, heads_c, rows_c, GENESIS, record_item_hash)
    heads_py: dict[str, tuple[int, str]] = {}
    rows_py: list[tuple[object, ...]] = []
    batching._chain_rows(fresh, known, heads_py, rows_py)
    assert rows_c == rows_py
    assert heads_c == heads_py


def test_a_text_that_cannot_be_encoded_raises_as_in_python() -> None:
    fresh = [(0, _record(0, "a" * 32, reporter="\ud800"))]
    with pytest.raises(UnicodeEncodeError):
        batching._chain_rows(fresh, {}, {}, [])
    with pytest.raises(UnicodeEncodeError):
        native.chain(fresh, {}, {}, [], GENESIS, record_item_hash)


def test_now_outside_utc_leaves_the_c_path_unused() -> None:
    from datetime import timezone

    eight = timezone(timedelta(hours=8))
    intake = RecordIntake(REGISTRY, KEY, datetime(2025, 6, 1, 20, tzinfo=eight))
    assert intake.native_table() == ()
    assert RecordIntake(REGISTRY, KEY, datetime(2025, 6, 1, tzinfo=UTC)).native_table() != ()


@settings(max_examples=200, deadline=None)
@given(
    picks=st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from(["person", "business"])), max_size=25
    )
)
def test_keeping_kinds_in_c_equals_keeping_them_in_python(picks: list[tuple[str, str]]) -> None:
    fresh = [(n, _record(n, key * 32, kind)) for n, (key, kind) in enumerate(picks)]
    kinds = {"b" * 32: "institution"}
    by_c, by_python = batching.BatchPlan([], {}, {}), batching.BatchPlan([], {}, {})
    kept_c = batching._refuse_kind_changes(fresh, kinds, by_c)
    kept_python = batching._kept_kinds(fresh, kinds, by_python)
    assert kept_c == kept_python
    assert by_c.new_subjects == by_python.new_subjects
    assert by_c.outcome.refused == by_python.outcome.refused


@settings(max_examples=500, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(9999, 12, 31),
        timezones=st.none() | st.just(UTC) | st.timezones(),
    ),
    months=st.integers(-130_000, 130_000) | st.integers(-40, 40),
)
def test_adding_months_in_c_equals_adding_them_in_python(moment: datetime, months: int) -> None:
    def outcome(add: object) -> object:
        try:
            moved = add(moment, months)  # type: ignore[operator]
        except (ValueError, OverflowError) as error:
            return type(error), str(error)
        return moved, moved.tzinfo, moved.fold

    assert outcome(add_months) == outcome(_add_months)
    if -120_000 <= months <= 120_000 and not moment.fold:  # what the C spelling takes
        assert outcome(native.add_months) == outcome(_add_months)


stored_times = st.sampled_from(
    [
        "2025-01-31T10:00:00+00:00",
        "2024-02-29T23:59:59.999999+00:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+00:00",
        "2025-01-31T18:00:00+08:00",
        "2025-01-31T10:00:00",
        "2025-01-31T10:00:00.000000+00:00",
        "2025-01-31",
        "2025-02-30T10:00:00+00:00",
    ]
) | st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.text(max_size=5),
            st.sampled_from(["civic", "spc"]),
            st.integers(1, 3),
            st.text(max_size=5),
            stored_times,
            stored_times,
            stored_times,
            st.integers(-100, 100),
            st.text(max_size=5),
            st.none() | st.text(max_size=5),
        ),
        max_size=8,
    )
)
def test_records_read_in_c_equal_records_read_in_python(rows: list[tuple[object, ...]]) -> None:
    def outcome(read: object) -> object:
        try:
            found = read(rows, "k" * 32)  # type: ignore[operator]
        except ValueError as error:
            return str(error)
        return [
            (record, [type(v) for v in record], [getattr(v, "tzinfo", 0) for v in record])
            for record in found
        ]

    assert outcome(native_records) == outcome(subject_records_in_python)


def native_records(rows: list[tuple[object, ...]], key: str) -> list[object]:
    return native.subject_records(iter(rows), key, Record, datetime.fromisoformat)


# Python code the C functions call (a fallback, a first sight, the Python paths) may
# change what the caller passed in; the C side must neither crash nor answer from
# values it no longer holds. (Found in review; an ASAN build showed the first two.)


def test_a_fallback_that_drops_the_batch_leaves_chaining_whole() -> None:
    fresh = [(0, _record(0, "".join(["k"] * 32), points=True))]  # bool: the fallback hashes

    def fallback(previous: str, subject: str, seq: int, item: NewRecord) -> str:
        fresh.clear()
        return record_item_hash(previous, subject, seq, item)

    heads: dict[str, tuple[int, str]] = {}
    rows: list[tuple[object, ...]] = []
    native.chain(list(fresh), {}, heads, rows, GENESIS, fallback)
    assert [row[0] for row in rows] == list(heads) == ["k" * 32]


def test_a_line_changed_during_a_first_sight_is_left_to_the_python_paths() -> None:
    intake = RecordIntake(REGISTRY, KEY, NOW)
    line = {
        "id": "r1",
        "scheme": "civic",
        "category": "litter",
        "subject": "cn-ric:11010519491231002X",
        "occurred_at": "2025-01-31T10:00:00+00:00",
        "reporter": "police",
    }
    intake.parse(dict(line))  # caches the expiry date
    table = list(intake.native_table())
    table[1], table[7] = {}, {}  # the subject is new again, so its first sight runs

    def first_sight(text: str) -> object:
        line["subject"] = "cn-ric:110105194912310021"
        return intake._first_sight(text)

    table[2] = first_sight
    assert native.parse_common(line, tuple(table)) is None


@pytest.mark.parametrize("answer", [(1, None), (1, ("r1",)), (1, "record"), "(1, record)"])
def test_the_one_pass_planner_refuses_a_malformed_answer_of_the_python_paths(answer) -> None:
    context = (
        (),
        orjson.loads,
        lambda n, f: answer,
        lambda n, r: None,
        {},
        {},
        GENESIS,
        record_item_hash,
        "conflict",
    )
    batch = [[], {}, {}, [], [], [], {}, 0, 0, 0, 0]
    with pytest.raises(TypeError):
        native.plan_lines([b'{"id": "r1"}\n'], 0, 1, context, batch, 10)
    with pytest.raises(IndexError):
        native.plan_lines([b'{"id": "r1"}\n'], -3, 1, context, batch, 10)


def test_the_one_pass_planner_tells_a_repeat_by_its_id_not_its_object() -> None:
    record = _record(0, "a" * 32)
    context = (
        (),
        orjson.loads,
        lambda n, f: (n, record),
        lambda n, r: None,
        {},
        {},
        GENESIS,
        record_item_hash,
        "conflict",
    )
    batch = [[], {}, {}, [], [], [], {}, 0, 0, 0, 0]
    native.plan_lines([b'{"id": "r0"}\n'] * 2, 0, 1, context, batch, 10)
    assert (len(batch[0]), batch[4], batch[10]) == (1, [2], 1)  # one row, line 2 a duplicate


def test_months_that_are_not_a_plain_int_are_added_in_python() -> None:
    moment = datetime(2024, 1, 31)
    assert add_months(moment, True) == _add_months(moment, True) == datetime(2024, 2, 29)


# --- the scoring engine's loop over records ------------------------------------------


@settings(max_examples=400, deadline=None)
@given(subject=scoring_subjects("s0"), consenting=st.booleans(), later=st.booleans())
def test_classifying_in_c_equals_classifying_in_python(subject, consenting, later) -> None:
    hist, records, evs, _, t = subject
    ordered = sorted(records, key=engine._record_order)
    now = t + timedelta(days=3) if later else t  # a monthly scheme reads statuses later
    found = native.classify(
        ordered, evs, t, now, consenting, hist.rules, hist.current_rules, engine._NATIVE_CLASSIFY
    )
    expected = engine.classify_in_python(hist, ordered, evs, t, now, consenting)
    assert found == expected
    assert [type(e) for e in found[0]] == [engine.Excluded] * len(found[0])
    entries = native.list_entries(found[2], t, hist.id, hist.current.lists, engine._NATIVE_LISTS)
    assert entries == engine.list_entries_in_python(hist, expected[2], t)  # in list order
    assert [type(e) for e in entries] == [engine.ListEntry] * len(entries)


@settings(max_examples=20, deadline=None)
@given(subject=scoring_subjects("s0").filter(lambda s: len(s[1]) >= 2))
def test_classifying_gives_up_on_what_is_not_a_plain_dict_or_record(subject) -> None:
    hist, records, evs, _, t = subject
    rules, current, context = hist.rules, hist.current_rules, engine._NATIVE_CLASSIFY
    assert native.classify(records, evs, t, t, True, rules, current, context) is not None
    assert (
        native.classify(records, MappingProxyType(evs), t, t, True, rules, current, context) is None
    )
    as_tuples = [tuple(r) for r in records]
    assert native.classify(as_tuples, evs, t, t, True, rules, current, context) is None
    ranked = [(tuple(r), None) for r in records] + [("not a pair",)]
    lists, context = hist.current.lists, engine._NATIVE_LISTS
    assert native.list_entries(ranked, t, hist.id, lists, context) is None
    assert native.list_entries([], t, hist.id, MappingProxyType(lists), context) is None


@settings(max_examples=20, deadline=None)
@given(subject=scoring_subjects("s0").filter(lambda s: len(s[1]) >= 2))
def test_a_time_that_cannot_be_compared_raises_as_in_python(subject) -> None:
    hist, records, evs, _, t = subject
    naive_t = t.replace(tzinfo=None)
    context = engine._NATIVE_CLASSIFY
    with pytest.raises(TypeError) as in_python:
        engine.classify_in_python(hist, records, evs, naive_t, naive_t, True)
    with pytest.raises(TypeError) as in_c:
        native.classify(
            records, evs, naive_t, naive_t, True, hist.rules, hist.current_rules, context
        )
    assert str(in_c.value) == str(in_python.value)


_LISTED = """\
score: {base: 100}
grades: [{name: A, min: 90}, {name: B}]
lists: [{id: banned, kind: black, duration: P1Y}]
categories:
  - {code: ticket, title: Ticket, points: -5, severity: minor, validity: P2Y, lists: [banned]}
"""


class _Meddling(datetime):
    """A time whose comparison runs code that drops what the C loop is reading."""

    meddle: Callable[[], None] = staticmethod(lambda: None)

    def __le__(self, other: object) -> bool:
        type(self).meddle()
        return super().__le__(other)  # type: ignore[operator]


def _classify_both(hist, records, evs, t):
    ordered = sorted(records, key=engine._record_order)
    context = engine._NATIVE_CLASSIFY
    found = native.classify(ordered, evs, t, t, True, hist.rules, hist.current_rules, context)
    return found, engine.classify_in_python(hist, ordered, evs, t, t, True)


def test_a_rule_dropped_while_a_record_is_read_is_still_held() -> None:
    """Reviewer's finding: the rule was borrowed across the call to status_at."""
    t = at(2025, 6, 1)
    answers = []
    for classify in ("c", "python"):
        hist = history(scheme(_LISTED))
        first = record(hist, "ticket", at(2025, 1, 1), id="r1")
        stamp = _Meddling(2025, 2, 1, tzinfo=UTC)
        evs = events(event(first, "contested", stamp), event(first, "upheld", stamp))
        _Meddling.meddle = staticmethod(lambda h=hist: h.rules[1].pop("ticket", None))
        try:
            if classify == "c":
                found = native.classify(
                    [first],
                    evs,
                    t,
                    t,
                    True,
                    hist.rules,
                    hist.current_rules,
                    engine._NATIVE_CLASSIFY,
                )
            else:
                found = engine.classify_in_python(hist, [first], evs, t, t, True)
        finally:
            _Meddling.meddle = staticmethod(lambda: None)
        [(_, rule)] = found[1]
        answers.append((rule.category.code, rule.lists, found[3]))
    assert (
        answers[0] == answers[1] == ("ticket", (ListTarget("banned", Duration.parse("P1Y")),), True)
    )


def test_events_that_drop_themselves_when_tested_are_still_held() -> None:
    """Reviewer's finding: the events were borrowed across their truth test."""
    hist = history(scheme(_LISTED))
    first = record(hist, "ticket", at(2025, 1, 1), id="r1")
    evs: dict[str, list[RecordEvent]] = {}

    class Dropping(list):  # type: ignore[type-arg]
        def __bool__(self) -> bool:
            evs.pop("r1", None)
            return True

    evs["r1"] = Dropping([event(first, "contested", at(2025, 2, 1))])
    found = native.classify(
        [first],
        evs,
        at(2025, 6, 1),
        at(2025, 6, 1),
        True,
        hist.rules,
        hist.current_rules,
        engine._NATIVE_CLASSIFY,
    )
    assert found[0] == [engine.Excluded("r1", "ticket", "contested")]


def test_a_status_that_is_a_set_is_looked_up_as_python_does() -> None:
    hist = history(scheme(_LISTED))
    first = record(hist, "ticket", at(2025, 1, 1), id="r1")
    evs = {"r1": [RecordEvent("r1", {"contested"}, at(2025, 2, 1), "reviewer")]}  # type: ignore[arg-type]
    found, expected = _classify_both(hist, [first], evs, at(2025, 6, 1))
    assert found == expected and found[1] and not found[0]


def test_a_context_of_the_wrong_types_is_refused() -> None:
    hist = history(scheme(_LISTED))
    first = record(hist, "ticket", at(2025, 1, 1), id="r1")
    wrong = (*engine._NATIVE_CLASSIFY[:2], dict, *engine._NATIVE_CLASSIFY[3:])
    with pytest.raises(TypeError):
        native.classify([first], {}, NOW, NOW, True, hist.rules, hist.current_rules, wrong)
    wrong_lists = (*engine._NATIVE_LISTS[:4], dict)
    with pytest.raises(TypeError):
        native.list_entries([], NOW, hist.id, hist.current.lists, wrong_lists)
    assert native.list_entries((), NOW, hist.id, hist.current.lists, engine._NATIVE_LISTS) is None


_fields = st.lists(
    st.text(max_size=12)  # lone surrogates too: the C spelling gives those up
    | st.integers()
    | st.floats(allow_nan=False)
    | st.none()
    | st.booleans()
    | st.datetimes(timezones=st.none() | st.just(UTC) | st.just(timezone(timedelta(hours=8)))),
    max_size=12,
)


@settings(max_examples=500, deadline=None)
@given(
    previous=st.text(max_size=70),
    kind=st.sampled_from(["decision", "access", "event"]),
    fields=_fields,
    as_list=st.booleans(),
)
def test_link_hashes_in_c_equal_link_hashes_in_python(previous, kind, fields, as_list) -> None:
    given_fields = list(fields) if as_list else tuple(fields)
    try:
        expected: object = link_hash_in_python(previous, kind, given_fields)
    except UnicodeEncodeError:
        expected = None  # Python raises; the C spelling leaves it to Python
    found = native.link_hash(previous, kind, given_fields)
    assert found == expected
    assert native.link_hash(previous, kind, iter(given_fields)) is None  # other iterables


class _ZonedStamp(datetime):
    pass


def test_a_proxy_that_claims_to_be_a_datetime_is_hashed_as_python_hashes_it() -> None:
    """Reviewer's finding: isinstance, not the object's own type, decides."""
    held = _ZonedStamp(2020, 1, 1, tzinfo=UTC)
    fields = ("subject", 1, weakref.proxy(held))
    assert native.link_hash(GENESIS, "access", fields) == link_hash_in_python(
        GENESIS, "access", fields
    )


def _standing_pair(list_id: object, occurred: datetime) -> tuple[Record, RecordRule]:
    found = Record(
        "r1", "s", "x", 1, "c", occurred, occurred, occurred + timedelta(days=30), 0, "reporter"
    )
    return found, RecordRule(None, None, (ListTarget(list_id, None),))  # type: ignore[arg-type]


def test_a_list_the_scheme_does_not_have_raises_the_same_key_error() -> None:
    """Reviewer's finding: a tuple key was unpacked into the KeyError's arguments."""
    t = datetime(2025, 1, 2, tzinfo=UTC)
    for list_id in (("a", "b"), None, "gone"):
        standing = [_standing_pair(list_id, datetime(2025, 1, 1, tzinfo=UTC))]
        with pytest.raises(KeyError) as in_c:
            native.list_entries(standing, t, "x", {}, engine._NATIVE_LISTS)
        history = SimpleNamespace(id="x", current=SimpleNamespace(lists={}))
        with pytest.raises(KeyError) as in_python:
            engine.list_entries_in_python(history, standing, t)  # type: ignore[arg-type]
        assert in_c.value.args == in_python.value.args == (list_id,)


class _CountingInstant(datetime):
    calls = 0

    def __lt__(self, other: object) -> bool:
        type(self).calls += 1
        return super().__lt__(other)  # type: ignore[operator]


def test_list_entries_give_up_before_running_any_python_code() -> None:
    """Reviewer's finding: giving up after a comparison ran made Python run it again."""
    t = _CountingInstant(2025, 1, 2, tzinfo=UTC)
    standing = [_standing_pair("banned", datetime(2025, 1, 1, tzinfo=UTC)), ["not", None]]
    _CountingInstant.calls = 0
    assert native.list_entries(standing, t, "x", {}, engine._NATIVE_LISTS) is None
    assert _CountingInstant.calls == 0


def test_classifying_gives_up_before_running_any_python_code() -> None:
    hist = history(scheme(_LISTED))
    first = record(hist, "ticket", at(2025, 1, 1), id="r1")
    t = _CountingInstant(2025, 6, 1, tzinfo=UTC)
    _CountingInstant.calls = 0
    found = native.classify(
        [first, tuple(first)],
        {},
        t,
        t,
        True,
        hist.rules,
        hist.current_rules,
        engine._NATIVE_CLASSIFY,
    )
    assert found is None and _CountingInstant.calls == 0
