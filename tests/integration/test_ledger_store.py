"""The ledger end to end: the application layer on real SQLite files, no mocks.

Idempotent imports, per-line rejections, pseudonymised storage, tamper
evidence, crash safety, order independence, scheme versions, the legal
representative's reach and the audit trail (DESIGN.md §2-§4).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from ledger_support import (
    KEY,
    NOW,
    at,
    businesses,
    line,
    location,
    masked,
    numbered,
    open_system,
    people,
    scheme_file,
    shipped_system,
    sql,
    with_bad_check_char,
)

from socialcredit import bootstrap
from socialcredit.adapters.files.readers import read_lines
from socialcredit.bootstrap import Services
from socialcredit.config import TEST_SERVER_ENV
from socialcredit.domain.ledger.batching import first_batch
from socialcredit.domain.ledger.records import EventKind
from socialcredit.domain.ledger.values import ChainProblem
from socialcredit.entrypoints.views import check_view, entry_view, reason_view, score_view

# -- idempotency -------------------------------------------------------------------


def test_the_same_record_twice_is_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    system = shipped_system(path)
    [who] = people(1)
    first = line("traffic-1", who, "traffic-violation", at(2025, 5, 1), reported_at=at(2025, 5, 2))

    report = system.imports.import_records(numbered([first]))
    assert (report.accepted, report.duplicates, report.rejected) == (1, 0, [])
    again = system.imports.import_records(numbered([dict(first)]))
    assert (again.accepted, again.duplicates, again.rejected) == (0, 1, [])

    assert system.uow.ledger.counts()["records"] == 1
    assert sql(path, "SELECT seq FROM chain_heads") == [(1,)]  # no second chain row
    assert system.integrity.verify() == []


def test_a_retry_without_reported_at_is_a_duplicate_even_later(tmp_path: Path) -> None:
    """``reported_at`` defaults to the intake clock; a retry an hour later is
    still the same record, not a conflict."""
    path = tmp_path / "ledger.db"
    [who] = people(1)
    sent = line("heroic-1", who, "heroic-act", at(2025, 5, 1))
    first = shipped_system(path, now=NOW)
    assert first.imports.import_records(numbered([sent])).accepted == 1
    first.close()

    later = open_system(path, now=NOW + timedelta(hours=1))
    report = later.imports.import_records(numbered([dict(sent)]))
    assert (report.accepted, report.duplicates, report.rejected) == (0, 1, [])
    stored = later.uow.ledger.record("heroic-1")
    assert stored is not None and stored.reported_at == NOW


@pytest.mark.parametrize(
    "change",
    [
        {"category": "drunk-driving"},
        {"occurred_at": "2025-05-01T00:00:01+00:00"},
        {"reporter": "someone-else"},
        {"evidence": "case/2"},
        {"subject": "other"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_the_same_id_with_other_contents_is_a_conflict(
    tmp_path: Path, change: dict[str, str]
) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    who, other = people(2)
    first = line(
        "traffic-1",
        who,
        "traffic-violation",
        at(2025, 5, 1),
        reported_at=at(2025, 5, 2),
        evidence="case/1",
    )
    assert system.imports.import_records(numbered([first])).accepted == 1
    changed = {**first, **change}
    if changed["subject"] == "other":
        changed["subject"] = other

    report = system.imports.import_records(numbered([changed]))

    assert (report.accepted, report.duplicates) == (0, 0)
    [rejection] = report.rejected
    assert (rejection.line, rejection.record) == (1, "traffic-1")
    assert rejection.reason.startswith("id: ") and "conflict" in rejection.reason
    stored = system.uow.ledger.record("traffic-1")
    assert stored is not None
    assert (stored.category, stored.points, stored.evidence) == ("traffic-violation", -5, "case/1")
    assert system.uow.ledger.counts()["records"] == 1


def test_repeats_within_one_batch_are_duplicates_or_conflicts_of_the_right_line(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    who, other = people(2)
    a = line("a", who, "traffic-violation", at(2025, 5, 1), reported_at=at(2025, 5, 2))
    b = line("b", other, "traffic-violation", at(2025, 5, 1), reported_at=at(2025, 5, 2))
    a_changed = {**a, "category": "drunk-driving"}

    report = system.imports.import_records(numbered([a, b, dict(a), a_changed, dict(b)]))

    assert (report.accepted, report.duplicates) == (2, 2)
    assert [(r.line, r.record) for r in report.rejected] == [(4, "a")]  # not line 1, kept
    assert "conflict" in report.rejected[0].reason
    stored = system.uow.ledger.record("a")
    assert stored is not None and stored.category == "traffic-violation"

    # The same again, across batches of two and against what is stored now.
    again = system.imports.import_records(
        numbered([dict(a), a_changed, dict(b), a_changed]), batch_size=2
    )
    assert (again.accepted, again.duplicates) == (0, 2)
    assert [(r.line, r.record) for r in again.rejected] == [(2, "a"), (4, "a")]
    assert system.uow.ledger.counts()["records"] == 2
    assert system.integrity.verify() == []


def test_a_line_identical_to_the_stored_record_is_a_duplicate_after_a_conflict(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    [who] = people(1)
    a = line("a", who, "traffic-violation", at(2025, 5, 1), reported_at=at(2025, 5, 2))
    assert system.imports.import_records(numbered([a])).accepted == 1

    report = system.imports.import_records(numbered([{**a, "category": "drunk-driving"}, dict(a)]))

    assert [(r.line, r.record) for r in report.rejected] == [(1, "a")]
    assert report.duplicates == 1


def test_a_line_refused_for_a_kind_change_holds_no_id_for_a_later_repeat(
    tmp_path: Path,
) -> None:
    """Issue 15's known bug: in one batch, a line refused because its subject
    would change kind stores nothing, so a later line with the same id is a
    record in its own right, not a conflicting repeat of the refused one (nor
    a harmless repeat of it)."""
    system = shipped_system(tmp_path / "ledger.db")
    as_person = line("e1", "ext:city:resident-42", "traffic-violation", at(2025, 5, 1))
    assert system.imports.import_records(numbered([as_person])).accepted == 1
    refused = {
        **line(
            "e2",
            "ext:city:resident-42",
            "able-but-refusing",
            at(2025, 5, 1),
            scheme="spc-defaulters",
        ),
        "subject_kind": "business",
    }
    meant = {**refused, "subject": "ext:city:firm-7"}
    again = {**refused, "subject": "ext:city:firm-8"}
    for batch_size in (3, 1000):
        store = shipped_system(tmp_path / f"ledger-{batch_size}.db")
        assert store.imports.import_records(numbered([as_person])).accepted == 1
        report = store.imports.import_records(
            numbered([refused, meant, again, meant]), batch_size=batch_size
        )
        assert report.accepted == 1, report.rejected
        assert report.duplicates == 1
        reasons = sorted((r.line, r.reason.split(":")[0]) for r in report.rejected)
        assert reasons == [(1, "subject"), (3, "id")], report.rejected
        held = store.uow.ledger.record("e2")
        assert held is not None
        assert held.subject == store.subjects.identify("ext:city:firm-7", "business").key
        store.close()
    system.close()


def test_a_subject_held_as_another_kind_is_refused_naming_the_subject(tmp_path: Path) -> None:
    """An ``ext:`` identifier's kind is given by the reporter; a record that
    would change the kind of a held subject is refused, and the reason names
    the subject, not the (new) record id."""
    system = shipped_system(tmp_path / "ledger.db")
    as_person = line("e1", "ext:city:resident-42", "traffic-violation", at(2025, 5, 1))
    as_business = {
        **line(
            "e2",
            "ext:city:resident-42",
            "able-but-refusing",
            at(2025, 5, 1),
            scheme="spc-defaulters",
        ),
        "subject_kind": "business",
    }
    assert system.imports.import_records(numbered([as_person])).accepted == 1

    report = system.imports.import_records(numbered([as_business]))

    assert report.accepted == 0
    [rejection] = report.rejected
    assert rejection.record == "e2"
    assert rejection.reason.startswith("subject: ")
    assert "already held as a person" in rejection.reason
    assert system.uow.ledger.record("e2") is None

    # The same when the subject came in through an enrolment in this process.
    system.subjects.enrol("ext:city:resident-43", "rongcheng-personal", kind="person", actor="cli")
    enrolled = {**as_business, "id": "e3", "subject": "ext:city:resident-43"}
    report = system.imports.import_records(numbered([enrolled]))
    assert [r.reason[:9] for r in report.rejected] == ["subject: "]
    assert system.uow.ledger.record("e3") is None


def test_an_import_after_a_record_event_continues_the_subjects_chain(tmp_path: Path) -> None:
    """A long-lived process (API, demo) interleaves events and imports on one
    connection: each must chain on from the other."""
    path = tmp_path / "ledger.db"
    system = shipped_system(path)
    [who] = people(1)
    assert system.imports.import_records(
        numbered([line("a", who, "traffic-violation", at(2025, 5, 1))])
    )
    system.records.add_event("a", "contested", at=at(2025, 5, 3), actor="cli")
    assert system.imports.import_records(numbered([line("b", who, "heroic-act", at(2025, 5, 2))]))
    system.records.add_event("b", "repaired", at=at(2025, 5, 4), actor="cli")
    assert system.imports.import_records(numbered([line("c", who, "heroic-act", at(2025, 5, 5))]))

    rows = sql(
        path,
        "SELECT seq, id FROM records UNION ALL SELECT seq, kind FROM record_events ORDER BY seq",
    )
    assert rows == [(1, "a"), (2, "contested"), (3, "b"), (4, "repaired"), (5, "c")]
    assert sql(path, "SELECT seq FROM chain_heads") == [(5,)]
    assert system.integrity.verify() == []


# -- a bulk import keeps the good lines --------------------------------------------


def test_a_bulk_import_keeps_good_lines_and_names_every_bad_one(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    who, other = people(2)
    [firm] = businesses(1)
    day, next_day = at(2025, 5, 1), at(2025, 5, 2)

    def good(id: str) -> dict[str, str]:
        return line(id, who, "traffic-violation", day, reported_at=next_day)

    missing = good("no-reporter")
    del missing["reporter"]
    objects: list[dict[str, str] | str] = [
        good("good-1"),
        {**good("bad-scheme"), "scheme": "no-such-scheme"},
        {**good("bad-category"), "category": "jaywalking"},
        {**good("bad-check"), "subject": with_bad_check_char(other)},
        {**good("reported-early"), "reported_at": "2025-04-30T23:59:59+00:00"},
        {**good("reported-future"), "reported_at": (NOW + timedelta(days=1)).isoformat()},
        missing,
        {**good("unknown-field"), "colour": "red"},
        {**good("not-rated"), "subject": firm},
        "{not json",
        good("good-2"),
        "[1, 2, 3]",
        "",
        {**good("bad-time"), "occurred_at": "yesterday"},
        good("good-3"),
    ]
    source = tmp_path / "records.jsonl"
    source.write_text(
        "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objects),
        encoding="utf-8",
    )

    report = system.imports.import_records(read_lines(source), batch_size=3)

    assert report.accepted == 3
    for kept in ("good-1", "good-2", "good-3"):
        assert system.uow.ledger.record(kept) is not None
    expected = {
        2: ("bad-scheme", "scheme: unknown scheme 'no-such-scheme'"),
        3: ("bad-category", "category: scheme 'rongcheng-personal' has no category 'jaywalking'"),
        4: ("bad-check", "subject: cn-ric:"),
        5: ("reported-early", "reported_at: is before occurred_at"),
        6: ("reported-future", "reported_at: is in the future"),
        7: ("no-reporter", "reporter: is required"),
        8: ("unknown-field", "colour: is not a record field"),
        9: ("not-rated", "subject: a business is not rated by 'rongcheng-personal'"),
        10: (None, "line is not valid JSON"),
        12: (None, "line must be a JSON object"),
        14: ("bad-time", "occurred_at: 'yesterday' is not an ISO-8601 date or time"),
    }
    assert [r.line for r in report.rejected] == sorted(expected)  # blank line 13 is no record
    for rejection in report.rejected:
        record, reason = expected[rejection.line]
        assert rejection.record == record
        assert rejection.reason.startswith(reason), rejection
    check = next(r for r in report.rejected if r.record == "bad-check")
    assert "check character" in check.reason and "GB 11643-1999" in check.reason
    assert system.uow.ledger.counts()["records"] == 3


def test_a_csv_row_with_the_wrong_number_of_fields_is_reported(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    [who] = people(1)
    source = tmp_path / "records.csv"
    source.write_text(
        textwrap.dedent(
            f"""\
            id,scheme,category,subject,occurred_at,reported_at,reporter,evidence
            c1,rongcheng-personal,traffic-violation,{who},2025-05-01,2025-05-02,police,ticket/1
            c2,rongcheng-personal,traffic-violation,{who},2025-05-01
            c3,rongcheng-personal,traffic-violation,{who},2025-05-01,2025-05-02,police,x,extra
            c4,rongcheng-personal,litter,{who},2025-05-01,2025-05-02,police,
            c5,rongcheng-personal,heroic-act,{who},2025-05-01,,village,
            """
        ),
        encoding="utf-8",
    )

    report = system.imports.import_records(read_lines(source))

    assert report.accepted == 2
    assert [(r.line, r.record, r.reason) for r in report.rejected] == [
        (3, None, "line has 5 fields but the header names 8"),
        (4, None, "line has 9 fields but the header names 8"),
        (5, "c4", "category: scheme 'rongcheng-personal' has no category 'litter'"),
    ]
    heroic = system.uow.ledger.record("c5")
    assert heroic is not None and heroic.reported_at == NOW and heroic.evidence is None


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_a_byte_order_mark_is_not_part_of_the_first_line(tmp_path: Path, suffix: str) -> None:
    """Spreadsheets save "CSV UTF-8" with a byte order mark."""
    system = shipped_system(tmp_path / "ledger.db")
    [who] = people(1)
    fields = line("bom-1", who, "traffic-violation", at(2025, 5, 1), reported_at=at(2025, 5, 2))
    if suffix == "csv":
        text = ",".join(fields) + "\n" + ",".join(fields.values()) + "\n"
    else:
        text = json.dumps(fields) + "\n"
    source = tmp_path / f"records.{suffix}"
    source.write_text(text, encoding="utf-8-sig")
    assert source.read_bytes().startswith(b"\xef\xbb\xbf")

    report = system.imports.import_records(read_lines(source))

    assert (report.accepted, report.rejected) == (1, [])


def test_a_retry_spelling_reported_at_differently_is_a_duplicate(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    [who] = people(1)
    sent = line("r1", who, "traffic-violation", "2025-05-01", reported_at="2025-05-02")
    assert system.imports.import_records(numbered([sent])).accepted == 1
    same_occurred = {**sent, "occurred_at": "2025-05-01T00:00:00Z"}
    assert system.imports.import_records(numbered([same_occurred])).duplicates == 1  # holds today

    report = system.imports.import_records(
        numbered([{**sent, "reported_at": "2025-05-02T00:00:00Z"}])
    )

    assert (report.duplicates, report.rejected) == (1, [])


# -- pseudonymised storage -----------------------------------------------------------


def _every_value(path: Path) -> str:
    """Every value of every table, whichever database holds the ledger."""
    if os.environ.get(TEST_SERVER_ENV):
        with psycopg.connect(location(path)) as pg:
            tables = [
                t
                for (t,) in pg.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                )
            ]
            assert {"subjects", "records", "record_events", "decisions", "access_log"} <= set(
                tables
            )
            return "\n".join(repr(row) for t in tables for row in pg.execute(f"SELECT * FROM {t}"))
    db = sqlite3.connect(str(path))
    try:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert {"subjects", "records", "record_events", "decisions", "access_log"} <= set(tables)
        return "\n".join(
            repr(row) for table in tables for row in db.execute(f"SELECT * FROM {table}")
        )
    finally:
        db.close()


def test_raw_identifiers_are_never_stored_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    system = shipped_system(path)
    residents = people(3, seed=11)
    [firm] = businesses(1, seed=12)
    [authority] = businesses(1, seed=13, first="1")
    external = "ext:mobike:rider-7f3k2j9x"
    lines = [
        line("p-1", residents[0], "traffic-violation", at(2025, 5, 1), evidence="ticket/1"),
        line("p-2", residents[1], "utility-theft", at(2025, 5, 1)),
        line("b-1", firm, "able-but-refusing", at(2025, 5, 1), scheme="spc-defaulters"),
        line(
            "i-1", authority, "disclosure-failure", at(2025, 5, 1), scheme="rongcheng-institutions"
        ),
        {**line("x-1", external, "cabin-disorder", at(2025, 5, 1), scheme="caac-flight-ban")},
    ]
    assert system.imports.import_records(numbered(lines)).rejected == []
    system.subjects.enrol(residents[2], "rongcheng-personal", actor="cli")
    system.subjects.link(firm, residents[2], since=at(2025, 1, 1), reporter="cli")
    system.records.add_event(
        "p-1", "contested", reason="not my car", at=at(2025, 5, 20), actor="cli"
    )
    for identifier in [*residents, firm, authority]:
        system.checks.scores(identifier, actor="cli")
    system.checks.check(residents[2], "travel.air.ticket", actor="cli")
    system.checks.check(external, "travel.air.ticket", kind="person", actor="cli")
    system.checks.lists(actor="cli")
    system.close()

    stored = _every_value(path)
    raw_files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(path.name))
    for identifier in [*residents, firm, authority]:
        value = identifier.partition(":")[2]
        assert identifier not in stored and value not in stored
        assert value.encode() not in raw_files
        assert masked(identifier) in stored
    assert "rider-7f3k2j9x" not in stored and b"rider-7f3k2j9x" not in raw_files
    assert masked(external, "person") in stored
    assert masked(external, "person").startswith("ext:mobike:ri*")
    assert not list(tmp_path.glob("*.key"))  # the key came from the environment


# -- tamper evidence --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tamper_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A ledger with three subjects, an event inside a chain and a row in
    every append-only table; tests copy the closed file and tamper with the copy."""
    if os.environ.get(TEST_SERVER_ENV):
        pytest.skip(
            "copies and tampers with SQLite files (the triggers on PostgreSQL are tested apart)"
        )
    folder = tmp_path_factory.mktemp("template")
    path = folder / "ledger.db"
    system = shipped_system(path)
    first, second, third = people(3, seed=21)
    [firm] = businesses(1, seed=22)
    day = at(2025, 5, 1)
    lines = [
        line(f"p1-{n}", first, "traffic-violation", day + timedelta(days=n)) for n in (1, 2, 3)
    ]
    lines += [line("p1-4", first, "heroic-act", day + timedelta(days=4))]
    lines += [line(f"p2-{n}", second, "blood-donation", day + timedelta(days=n)) for n in (1, 2)]
    lines += [line("b1-1", firm, "able-but-refusing", day, scheme="spc-defaulters")]
    assert system.imports.import_records(numbered(lines)).accepted == 7
    system.records.add_event(
        "p1-2", "contested", reason="not me", at=at(2025, 5, 25), actor="cli"
    )  # p1 seq 5
    assert system.imports.import_records(
        numbered([line("p1-6", first, "heroic-act", at(2025, 5, 26))])
    )
    system.subjects.link(firm, third, since=at(2025, 1, 1), reporter="cli")
    system.checks.scores(first, actor="cli")
    system.checks.check(third, "travel.air.ticket", actor="cli")
    assert system.integrity.verify() == []
    system.close()
    return {"path": path, "first": first, "second": second, "firm": firm}


def _copy(template: dict[str, object], folder: Path) -> Path:
    source = Path(str(template["path"]))
    for sibling in source.parent.iterdir():
        if sibling.name.startswith(source.name):
            shutil.copy(sibling, folder / sibling.name)
    return folder / source.name


def _drop_triggers(path: Path) -> None:
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        assert len(names) >= 12
        for name in names:
            db.execute(f"DROP TRIGGER {name}")
    finally:
        db.close()


def _subject_key(path: Path, identifier: str) -> str:
    system = bootstrap.open(location(path), env={"SOCIALCREDIT_KEY": KEY})
    try:
        return system.subjects.identify(identifier).key
    finally:
        system.close()


def _verify(path: Path) -> list[ChainProblem]:
    system = bootstrap.open(location(path), env={"SOCIALCREDIT_KEY": KEY})
    try:
        return system.integrity.verify()
    finally:
        system.close()


APPEND_ONLY = ("definitions", "records", "record_events", "links", "decisions", "access_log")


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_append_only_tables_refuse_update_and_delete(
    tamper_template: dict[str, object], tmp_path: Path, table: str
) -> None:
    path = _copy(tamper_template, tmp_path)
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        (before,) = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert before > 0  # the triggers fire per row: an empty table would prove nothing
        column = db.execute(f"PRAGMA table_info({table})").fetchall()[0][1]
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(f"UPDATE {table} SET {column} = {column} || ''")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute(f"DELETE FROM {table}")
        assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (before,)
    finally:
        db.close()
    assert _verify(path) == []


def test_verify_is_empty_on_an_intact_ledger(
    tamper_template: dict[str, object], tmp_path: Path
) -> None:
    path = _copy(tamper_template, tmp_path)
    assert _verify(path) == []
    _drop_triggers(path)  # dropping the triggers alone changes no row
    assert _verify(path) == []


TAMPERING = {
    "edit points": (
        "UPDATE records SET points = 50 WHERE id = 'p1-3'",
        ("records", 3, "'p1-3'", "hash does not match"),
    ),
    "edit occurred_at": (
        "UPDATE records SET occurred_at = '2020-01-01T00:00:00+00:00' WHERE id = 'p1-1'",
        ("records", 1, "'p1-1'", "hash does not match"),
    ),
    "delete a middle record": (
        "DELETE FROM records WHERE id = 'p1-2'",
        ("records", 3, "'p1-3'", "expected seq 2"),
    ),
    "swap the seq of two records": (
        "UPDATE records SET seq = -3 WHERE id = 'p1-3';"
        "UPDATE records SET seq = 3 WHERE id = 'p1-4';"
        "UPDATE records SET seq = 4 WHERE id = 'p1-3';",
        ("records", 3, "'p1-4'", "hash does not match"),
    ),
    "edit an event's kind": (
        "UPDATE record_events SET kind = 'overturned' WHERE record = 'p1-2'",
        ("record_events", 5, "event on record 'p1-2'", "hash does not match"),
    ),
    "delete an event": (
        "DELETE FROM record_events WHERE record = 'p1-2'",
        ("records", 6, "'p1-6'", "expected seq 5"),
    ),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_detected_and_names_the_table_and_row(
    tamper_template: dict[str, object], tmp_path: Path, how: str
) -> None:
    path = _copy(tamper_template, tmp_path)
    _drop_triggers(path)
    statement, (table, seq, row, problem) = TAMPERING[how]
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        db.executescript(statement)
        assert db.total_changes >= 1
    finally:
        db.close()

    [found] = _verify(path)  # exactly one: the other subjects' chains are intact

    assert (found.table, found.seq) == (table, seq)
    assert row in found.row
    assert problem in found.problem
    assert found.subject_masked == masked(str(tamper_template["first"]))
    assert table in str(found) and row in str(found)


@pytest.mark.parametrize(
    ("subject", "record", "problem"),
    [
        ("first", "p1-6", "chain ends at seq 5 but the head says 6"),
        ("second", "p2-2", "chain ends at seq 1 but the head says 2"),
        ("firm", "b1-1", "the head has no rows"),
    ],
)
def test_deleting_the_last_record_of_a_subject_is_detected_at_its_head(
    tamper_template: dict[str, object], tmp_path: Path, subject: str, record: str, problem: str
) -> None:
    path = _copy(tamper_template, tmp_path)
    _drop_triggers(path)
    sql(path, "DELETE FROM records WHERE id = ?", (record,))

    [found] = _verify(path)

    assert found.table == "chain_heads"
    assert found.subject_masked == masked(str(tamper_template[subject]))
    assert problem in found.problem


def test_a_forged_head_is_detected(tamper_template: dict[str, object], tmp_path: Path) -> None:
    path = _copy(tamper_template, tmp_path)
    key = _subject_key(path, str(tamper_template["second"]))
    sql(path, "UPDATE chain_heads SET hash = ? WHERE subject = ?", ("0" * 64, key))

    [found] = _verify(path)

    assert found.table == "chain_heads"
    assert found.subject_masked == masked(str(tamper_template["second"]))


# -- a crash mid-import ------------------------------------------------------------------

_IMPORTER = f"""
import sys
import time
from pathlib import Path
from socialcredit import bootstrap
from socialcredit.bootstrap import Services
from socialcredit.adapters.files.readers import read_lines

db, source, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
system = bootstrap.open(db, env={{"SOCIALCREDIT_KEY": {KEY!r}}})

def paced(lines):
    # A pause between batches, so that the watcher sees the import under way
    # however fast it runs: the kill must land mid-import.
    for number, fields in lines:
        if number % batch == 0:
            time.sleep(0.02)
        yield number, fields

report = system.imports.import_records(paced(read_lines(source)), batch_size=batch)
print(report.accepted, report.duplicates, len(report.rejected))
"""


def test_a_crash_mid_import_leaves_no_half_written_batch(tmp_path: Path) -> None:
    total, batch = 60_000, 2_000
    path = tmp_path / "ledger.db"
    shipped_system(path, now=at(2026, 1, 1)).close()
    residents = people(3_000, seed=31)
    source = tmp_path / "records.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for n in range(total):
            occurred = at(2025, 1, 1) + timedelta(minutes=n)
            handle.write(
                json.dumps(
                    line(
                        f"bulk-{n:06d}",
                        residents[(n * 7) % len(residents)],
                        "traffic-violation",
                        occurred,
                        reported_at=occurred + timedelta(days=1),
                        reporter="police",
                    )
                )
                + "\n"
            )

    importer = subprocess.Popen(
        [sys.executable, "-c", _IMPORTER, location(path), str(source), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watcher = open_system(
        path, now=at(2026, 1, 1)
    )  # a second connection, as an operator's would be
    try:
        deadline = time.monotonic() + 120
        seen = 0
        while seen < 3 * batch and importer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
            seen = watcher.uow.ledger.counts()["records"]
        os.kill(importer.pid, signal.SIGKILL)
    finally:
        watcher.close()
    importer.communicate(timeout=60)
    assert importer.returncode == -signal.SIGKILL, "the import ended before it could be killed"

    system = open_system(path, now=at(2026, 1, 1))
    db = system.uow.database.connection  # the store's own connection: SQLite or PostgreSQL alike
    stored = system.uow.ledger.counts()["records"]
    assert 3 * batch <= stored < total
    # Whole batches only: each is one transaction (the first is a tenth of the others).
    assert (stored - first_batch(batch)) % batch == 0
    assert system.integrity.verify() == []
    heads = dict(db.execute("SELECT subject, seq FROM chain_heads").fetchall())
    tails = dict(db.execute("SELECT subject, MAX(seq) FROM records GROUP BY subject").fetchall())
    assert heads == tails  # every subject with records has its head, and no head is ahead
    (orphans,) = db.execute(
        "SELECT COUNT(*) FROM records WHERE subject NOT IN (SELECT subject FROM subjects)"
    ).fetchone()
    assert orphans == 0

    report = system.imports.import_records(read_lines(source), batch_size=batch)

    assert report.rejected == []
    assert report.accepted + report.duplicates == total
    assert report.duplicates == stored
    assert system.uow.ledger.counts()["records"] == total
    assert system.integrity.verify() == []


# -- import order does not matter ----------------------------------------------------------

PERSON_CATEGORIES = (
    "volunteering-8h",
    "volunteering-8h",
    "overdue-bank-debt",
    "overdue-bank-debt",
    "blood-donation",
    "traffic-violation",
    "drunk-driving",
    "utility-theft",
    "heroic-act",
    "large-donation",
)
BUSINESS_CATEGORIES = ("tax-grade-a", "charity-donation", "late-filing", "counterfeit-goods")
INSTITUTION_CATEGORIES = ("disclosure-failure", "openness-excellent", "arrears-to-businesses")
ACTIONS = (
    "travel.air.ticket",
    "travel.rail.highspeed",
    "fee.heating",
    "loan.rate",
    "public.disclosure",
    "government.procurement",
    "welfare.benefit",
    "honour.nomination",
)


@dataclass
class Town:
    residents: list[str]
    firms: list[str]
    bodies: list[str]
    lines: list[dict[str, str]]
    events: list[tuple[str, EventKind, datetime]]

    @property
    def everyone(self) -> list[str]:
        return [*self.residents, *self.firms, *self.bodies]


def _town() -> Town:
    rng = random.Random(41)
    town = Town(
        people(14, seed=42), businesses(4, seed=43), businesses(2, seed=44, first="1"), [], []
    )
    start = at(2024, 9, 1)

    def add(subject: str, scheme: str, category: str, occurred: datetime) -> None:
        reported = min(occurred + timedelta(days=rng.choice((0, 1, 20))), NOW)
        town.lines.append(
            line(
                f"r{len(town.lines):04d}",
                subject,
                category,
                occurred,
                scheme=scheme,
                reported_at=reported,
            )
        )

    for who in town.residents:
        for _ in range(rng.randint(3, 12)):
            occurred = start + timedelta(days=rng.randrange(270), hours=rng.choice((0, 9)))
            add(who, "rongcheng-personal", rng.choice(PERSON_CATEGORIES), occurred)
        twin = start + timedelta(days=100)  # same instant, limited category: lower id counts
        add(who, "rongcheng-personal", "volunteering-8h", twin)
        add(who, "rongcheng-personal", "volunteering-8h", twin)
    for who in town.residents[:3]:
        add(who, "caac-flight-ban", "cabin-disorder", start + timedelta(days=rng.randrange(200)))
    for firm in town.firms:
        for _ in range(rng.randint(3, 8)):
            occurred = start + timedelta(days=rng.randrange(270))
            add(firm, "rongcheng-business", rng.choice(BUSINESS_CATEGORIES), occurred)
    for firm in town.firms[:2]:
        add(firm, "spc-defaulters", "able-but-refusing", start + timedelta(days=30))
    for body in town.bodies:
        for _ in range(4):
            occurred = start + timedelta(days=rng.randrange(270))
            add(body, "rongcheng-institutions", rng.choice(INSTITUTION_CATEGORIES), occurred)

    touched: set[str] = set()
    for item in rng.sample(town.lines, 30):
        contested = datetime.fromisoformat(item["reported_at"]) + timedelta(days=2)
        if contested + timedelta(days=5) >= NOW:
            continue
        touched.add(item["id"])
        town.events.append((item["id"], "contested", contested))
        outcome = rng.choice(("upheld", "overturned", None))
        if outcome is not None:
            town.events.append((item["id"], outcome, contested + timedelta(days=5)))
    for item in rng.sample(town.lines, 10):
        if item["id"] not in touched:
            repaired = datetime.fromisoformat(item["reported_at"]) + timedelta(days=1)
            town.events.append((item["id"], "repaired", min(repaired, NOW)))
    return town


def _build(path: Path, town: Town, shuffle: random.Random | None) -> Services:
    system = shipped_system(path)
    lines = [dict(item) for item in town.lines]
    events = list(town.events)
    if shuffle is not None:
        shuffle.shuffle(lines)
        # Interleave the records' events at random, keeping each record's own order.
        queues: dict[str, list[tuple[str, EventKind, datetime]]] = {}
        for event in events:
            queues.setdefault(event[0], []).append(event)
        events = []
        while queues:
            record = shuffle.choice(sorted(queues))
            events.append(queues[record].pop(0))
            if not queues[record]:
                del queues[record]
    half = len(lines) // 2
    report = system.imports.import_records(numbered(lines[:half]), batch_size=7 if shuffle else 500)
    report2 = system.imports.import_records(
        numbered(lines[half:]), batch_size=7 if shuffle else 500
    )
    assert report.rejected == report2.rejected == []
    assert report.accepted + report2.accepted == len(lines)
    for record, kind, moment in events:
        system.records.add_event(record, kind, at=moment, actor="cli")
    for firm, person in zip(town.firms, town.residents, strict=False):
        system.subjects.link(firm, person, since=at(2024, 1, 1), reporter="cli")
    return system


def _views(system: Services, town: Town, moment: datetime) -> dict[str, object]:
    found: dict[str, object] = {}
    for identifier in town.everyone:
        subject, evaluations = system.checks.scores(identifier, at=moment, actor="cli")
        checks = {}
        for action in ACTIONS:
            result = system.checks.check(identifier, action, at=moment, actor="cli")
            view = check_view(result)
            del view["decision_id"]
            checks[action] = view
        found[identifier] = {
            "scores": [score_view(e, subject.masked) for e in evaluations],
            "checks": checks,
        }
    found["lists"] = sorted(
        json.dumps({"subject": e.subject, **entry_view(e.entry)}, sort_keys=True)
        for e in system.checks.lists(at=moment, actor="cli")
    )
    return found


def test_import_order_does_not_change_any_answer(tmp_path: Path) -> None:
    town = _town()
    ordered = _build(tmp_path / "ordered.db", town, None)
    shuffled = _build(tmp_path / "shuffled.db", town, random.Random(7))
    # The two ledgers really were written in different orders.
    sequence = "SELECT id FROM records ORDER BY subject, seq"
    assert sql(tmp_path / "ordered.db", sequence) != sql(tmp_path / "shuffled.db", sequence)

    for moment in (NOW, at(2025, 2, 1), at(2024, 12, 24, 9)):
        expected = _views(ordered, town, moment)
        assert _views(shuffled, town, moment) == expected, moment

    # The scenario exercises what order could break: limits with ties, frozen
    # records, caps, record- and grade-based lists, and the legal representative.
    text = json.dumps(_views(ordered, town, NOW))
    for needle in (
        '"reason": "limit"',
        '"reason": "contested"',
        '"reason": "overturned"',
        '"reason": "repaired"',
        '"cap": {',
        '"list": "no-fly"',
        '"list": "dishonest-defaulters"',
        '"via": "legal_representative of ',
    ):
        assert needle in text, needle
    assert ordered.integrity.verify() == shuffled.integrity.verify() == []


# -- scheme versions ----------------------------------------------------------------------

VILLAGE_V1 = """\
- {code: litter, title: Littering, points: -5, severity: minor, validity: P1Y}
- {code: help, title: Helping a neighbour, points: 3, severity: minor, validity: P1Y}
"""
VILLAGE_V2 = """\
- {code: litter, title: Littering, points: -20, severity: general, validity: P1Y}
"""


def test_records_keep_the_points_of_the_version_they_were_reported_under(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    system = open_system(path)
    v1 = scheme_file(tmp_path, "village-v1.yaml", VILLAGE_V1)
    v2 = scheme_file(tmp_path, "village-v2.yaml", VILLAGE_V2)
    [who] = people(1)
    assert [a.version for a in system.definitions.add_files([v1])] == [1]
    first = [
        line("r1", who, "litter", at(2025, 3, 1), scheme="village"),
        line("r2", who, "help", at(2025, 3, 2), scheme="village"),
    ]
    assert system.imports.import_records(numbered(first)).accepted == 2

    assert [a.version for a in system.definitions.add_files([v2])] == [2]
    later = [
        line("r3", who, "litter", at(2025, 4, 1), scheme="village"),
        line("r4", who, "help", at(2025, 4, 2), scheme="village"),
    ]
    report = system.imports.import_records(numbered(later))
    assert report.accepted == 1
    assert [r.reason for r in report.rejected] == [
        "category: scheme 'village' has no category 'help'"
    ]

    stored = {rid: system.uow.ledger.record(rid) for rid in ("r1", "r2", "r3")}
    assert {rid: (r.scheme_version, r.points) for rid, r in stored.items() if r} == {
        "r1": (1, -5),
        "r2": (1, 3),
        "r3": (2, -20),
    }
    subject, [evaluation] = system.checks.scores(who, scheme="village", actor="cli")
    view = score_view(evaluation, subject.masked)
    assert view["version"] == 2
    assert {c["record"]: c["points"] for c in view["counted"]} == {"r1": -5, "r2": 3, "r3": -20}
    assert (view["score"], view["grade"]) == (78, "poor")

    # Adding a file again is a new version too, and still leaves records alone.
    assert [a.version for a in system.definitions.add_files([v1])] == [3]
    system.close()
    reopened = open_system(path)
    versions = [d.version for d in reopened.uow.definitions.definitions() if d.id == "village"]
    assert versions == [1, 2, 3]
    subject, [evaluation] = reopened.checks.scores(who, scheme="village", actor="cli")
    view = score_view(evaluation, subject.masked)
    assert view["version"] == 3
    assert {c["record"]: c["points"] for c in view["counted"]} == {"r1": -5, "r2": 3, "r3": -20}


# -- the legal representative ---------------------------------------------------------------


def test_a_defaulting_business_restricts_its_legal_representative(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    representative, predecessor, stranger = people(3, seed=51)
    [firm] = businesses(1, seed=52)
    listed = at(2025, 3, 1)
    report = system.imports.import_records(
        numbered(
            [
                line(
                    "spc-1",
                    firm,
                    "able-but-refusing",
                    listed,
                    scheme="spc-defaulters",
                    reported_at=listed + timedelta(days=3),
                    reporter="court",
                ),
            ]
        )
    )
    assert report.accepted == 1
    system.subjects.link(
        firm, predecessor, since=at(2020, 1, 1), until=at(2025, 2, 1), reporter="cli"
    )
    system.subjects.link(
        firm, representative, since=at(2025, 2, 1), until=at(2025, 9, 1), reporter="cli"
    )
    system.subjects.enrol(stranger, "rongcheng-personal", actor="cli")

    decision = system.checks.check(representative, "travel.air.ticket", actor="cli").decision

    assert decision.effect == "deny"
    assert decision.reasons
    for reason in decision.reasons:
        assert reason.via == f"legal_representative of {masked(firm)}"
        assert (reason.scheme, reason.list, reason.records) == (
            "spc-defaulters",
            "dishonest-defaulters",
            ("spc-1",),
        )
    assert {r.memorandum for r in decision.reasons} == {None, "ndrc-2016-141"}

    for who, moment in (
        (stranger, NOW),  # never linked
        (predecessor, NOW),  # the link ended before the listing
        (representative, at(2025, 1, 31)),  # before the link
        (representative, at(2025, 9, 1)),  # until is exclusive
    ):
        result = system.checks.check(who, "travel.air.ticket", at=moment, actor="cli")
        assert (result.decision.effect, result.decision.reasons) == ("allow", ()), (who, moment)
    # The business itself stays listed after the link ends.
    assert (
        system.checks.check(
            firm, "travel.air.ticket", at=at(2025, 9, 1), actor="cli"
        ).decision.effect
        == "deny"
    )
    # A measure on a list without reach (the CAAC ban) does not pass to the person.
    assert system.checks.check(representative, "loan.rate", actor="cli").decision.effect == "allow"

    # Repairing the business's record lifts it for the representative too.
    system.records.add_event("spc-1", "repaired", at=at(2025, 5, 1), actor="cli")
    assert (
        system.checks.check(representative, "travel.air.ticket", actor="cli").decision.effect
        == "allow"
    )


# -- the audit trail -------------------------------------------------------------------------


def test_every_check_decision_is_logged_with_its_reasons(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    system = shipped_system(path)
    banned, model, stranger = people(3, seed=61)
    lines = [
        line("caac-1", banned, "cabin-disorder", at(2025, 5, 1), scheme="caac-flight-ban"),
        line("hero-1", model, "heroic-act", at(2025, 5, 1), reported_at=at(2025, 5, 3)),
        line("hero-2", model, "heroic-act", at(2025, 5, 2), reported_at=at(2025, 5, 3)),
    ]
    assert system.imports.import_records(numbered(lines)).accepted == 3

    results = [
        system.checks.check(banned, "travel.air.ticket", actor="airline", purpose="ticket sale"),
        system.checks.check(model, "fee.heating", at=at(2025, 5, 10), actor="cli"),
        system.checks.check(stranger, "travel.air.ticket", actor="cli"),
    ]

    assert [r.decision.effect for r in results] == ["deny", "adjust", "allow"]
    columns = "id, subject, action, at, effect, factor, reasons, asked_at, asked_by, purpose"
    rows = {row[0]: row for row in sql(path, f"SELECT {columns} FROM decisions")}
    assert set(rows) == {r.decision_id for r in results}
    for identifier, result in zip((banned, model, stranger), results, strict=True):
        _, subject, action, moment, effect, factor, reasons, asked_at, *_ = rows[result.decision_id]
        assert subject == system.subjects.identify(identifier).key  # the keyed hash, never the ID
        assert (action, effect, factor) == (
            result.decision.action,
            result.decision.effect,
            result.decision.factor,
        )
        assert moment == result.decision.at.isoformat() and asked_at == NOW.isoformat()
        assert json.loads(reasons) == [reason_view(r) for r in result.decision.reasons]
    assert rows[results[0].decision_id][8:] == ("airline", "ticket sale")
    assert rows[results[1].decision_id][5] == pytest.approx(0.9)
    assert json.loads(rows[results[0].decision_id][6])[0]["records"] == ["caac-1"]
    assert json.loads(rows[results[2].decision_id][6]) == []
    # The store reads the log back per subject.
    [logged] = system.uow.audit.decisions(system.subjects.identify(banned).key)
    assert (logged.id, logged.effect) == (results[0].decision_id, "deny")


def test_every_score_read_writes_the_access_log(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    system = shipped_system(path)
    who, other = people(2, seed=71)
    lines = [
        line("caac-1", who, "cabin-disorder", at(2025, 5, 1), scheme="caac-flight-ban"),
        line("t-1", who, "traffic-violation", at(2025, 5, 1)),
        line("t-2", other, "traffic-violation", at(2025, 5, 1)),
    ]
    assert system.imports.import_records(numbered(lines)).accepted == 3
    key, other_key = system.subjects.identify(who).key, system.subjects.identify(other).key
    assert system.uow.audit.access_log(key) == []  # importing is not reading

    system.checks.scores(who, actor="clerk", purpose="benefit application")
    system.checks.scores(who, scheme="caac-flight-ban", at=at(2025, 5, 2), actor="cli")
    system.checks.lists("caac-flight-ban", "no-fly", actor="airline", purpose="boarding")

    log = system.uow.audit.access_log(key)
    assert len(log) == 3
    assert log[0][:3] == (NOW, "clerk", "benefit application")
    assert "caac-flight-ban" in log[0][3] and "rongcheng-personal" in log[0][3]
    assert log[1][3] == f"scores at {at(2025, 5, 2).isoformat()}: caac-flight-ban"
    assert log[2][1:3] == ("airline", "boarding")
    assert system.uow.audit.access_log(other_key) == []  # not on the list, not read
    (total,) = sql(path, "SELECT COUNT(*) FROM access_log")[0]
    assert total == 3
