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
from datetime import timedelta
from pathlib import Path

import pytest
from ledger_support import (
    KEY,
    NOW,
    at,
    businesses,
    line,
    masked,
    numbered,
    open_system,
    people,
    scheme_file,
    shipped_system,
    sql,
    with_bad_check_char,
)

from socialcredit.app import SocialCredit
from socialcredit.readers import read_lines
from socialcredit.views import check_view, entry_view, reason_view, score_view

# -- idempotency -------------------------------------------------------------------


def test_the_same_record_twice_is_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    system = shipped_system(path)
    [who] = people(1)
    first = line("traffic-1", who, "traffic-violation", at(2025, 5, 1), reported_at=at(2025, 5, 2))

    report = system.import_records(numbered([first]))
    assert (report.accepted, report.duplicates, report.rejected) == (1, 0, [])
    again = system.import_records(numbered([dict(first)]))
    assert (again.accepted, again.duplicates, again.rejected) == (0, 1, [])

    assert system.store.counts()["records"] == 1
    assert sql(path, "SELECT seq FROM chain_heads") == [(1,)]  # no second chain row
    assert system.verify() == []


def test_a_retry_without_reported_at_is_a_duplicate_even_later(tmp_path: Path) -> None:
    """``reported_at`` defaults to the intake clock; a retry an hour later is
    still the same record, not a conflict."""
    path = tmp_path / "ledger.db"
    [who] = people(1)
    sent = line("heroic-1", who, "heroic-act", at(2025, 5, 1))
    first = shipped_system(path, now=NOW)
    assert first.import_records(numbered([sent])).accepted == 1
    first.close()

    later = open_system(path, now=NOW + timedelta(hours=1))
    report = later.import_records(numbered([dict(sent)]))
    assert (report.accepted, report.duplicates, report.rejected) == (0, 1, [])
    stored = later.store.record("heroic-1")
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
        "traffic-1", who, "traffic-violation", at(2025, 5, 1), reported_at=at(2025, 5, 2),
        evidence="case/1",
    )  # fmt: skip
    assert system.import_records(numbered([first])).accepted == 1
    changed = {**first, **change}
    if changed["subject"] == "other":
        changed["subject"] = other

    report = system.import_records(numbered([changed]))

    assert (report.accepted, report.duplicates) == (0, 0)
    [rejection] = report.rejected
    assert (rejection.line, rejection.record) == (1, "traffic-1")
    assert rejection.reason.startswith("id: ") and "conflict" in rejection.reason
    stored = system.store.record("traffic-1")
    assert stored is not None
    assert (stored.category, stored.points, stored.evidence) == ("traffic-violation", -5, "case/1")
    assert system.store.counts()["records"] == 1


def test_repeats_within_one_batch_are_duplicates_or_conflicts_of_the_right_line(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    who, other = people(2)
    a = line("a", who, "traffic-violation", at(2025, 5, 1), reported_at=at(2025, 5, 2))
    b = line("b", other, "traffic-violation", at(2025, 5, 1), reported_at=at(2025, 5, 2))
    a_changed = {**a, "category": "drunk-driving"}

    report = system.import_records(numbered([a, b, dict(a), a_changed, dict(b)]))

    assert (report.accepted, report.duplicates) == (2, 2)
    assert [(r.line, r.record) for r in report.rejected] == [(4, "a")]  # not line 1, kept
    assert "conflict" in report.rejected[0].reason
    stored = system.store.record("a")
    assert stored is not None and stored.category == "traffic-violation"

    # The same again, across batches of two and against what is stored now.
    again = system.import_records(numbered([a_changed, dict(a), dict(b), a_changed]), batch_size=2)
    assert (again.accepted, again.duplicates) == (0, 2)
    assert [(r.line, r.record) for r in again.rejected] == [(1, "a"), (4, "a")]
    assert system.store.counts()["records"] == 2
    assert system.verify() == []


def test_a_subject_held_as_another_kind_is_refused_naming_the_subject(tmp_path: Path) -> None:
    """An ``ext:`` identifier's kind is given by the reporter; a record that
    would change the kind of a held subject is refused, and the reason names
    the subject, not the (new) record id."""
    system = shipped_system(tmp_path / "ledger.db")
    as_person = line("e1", "ext:city:resident-42", "traffic-violation", at(2025, 5, 1))
    as_business = {
        **line("e2", "ext:city:resident-42", "able-but-refusing", at(2025, 5, 1),
               scheme="spc-defaulters"),
        "subject_kind": "business",
    }  # fmt: skip
    assert system.import_records(numbered([as_person])).accepted == 1

    report = system.import_records(numbered([as_business]))

    assert report.accepted == 0
    [rejection] = report.rejected
    assert rejection.record == "e2"
    assert rejection.reason.startswith("subject: ")
    assert "already held as a person" in rejection.reason
    assert system.store.record("e2") is None


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

    report = system.import_records(read_lines(source), batch_size=3)

    assert report.accepted == 3
    for kept in ("good-1", "good-2", "good-3"):
        assert system.store.record(kept) is not None
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
    assert system.store.counts()["records"] == 3


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

    report = system.import_records(read_lines(source))

    assert report.accepted == 2
    assert [(r.line, r.record, r.reason) for r in report.rejected] == [
        (3, None, "line has 5 fields but the header names 8"),
        (4, None, "line has 9 fields but the header names 8"),
        (5, "c4", "category: scheme 'rongcheng-personal' has no category 'litter'"),
    ]
    heroic = system.store.record("c5")
    assert heroic is not None and heroic.reported_at == NOW and heroic.evidence is None


# -- pseudonymised storage -----------------------------------------------------------


def _every_value(path: Path) -> str:
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
        line("i-1", authority, "disclosure-failure", at(2025, 5, 1),
             scheme="rongcheng-institutions"),
        {**line("x-1", external, "cabin-disorder", at(2025, 5, 1), scheme="caac-flight-ban")},
    ]  # fmt: skip
    assert system.import_records(numbered(lines)).rejected == []
    system.enrol(residents[2], "rongcheng-personal")
    system.link(firm, residents[2], since=at(2025, 1, 1))
    system.record_event("p-1", "contested", reason="not my car", at=at(2025, 5, 20))
    for identifier in [*residents, firm, authority]:
        system.scores(identifier)
    system.check(residents[2], "travel.air.ticket")
    system.check(external, "travel.air.ticket", kind="person")
    system.lists()
    system.close()

    stored = _every_value(path)
    raw_files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(path.name))
    for identifier in [*residents, firm, authority]:
        value = identifier.partition(":")[2]
        assert identifier not in stored and value not in stored
        assert value.encode() not in raw_files
        assert masked(identifier) in stored
    assert "rider-7f3k2j9x" not in stored and b"rider-7f3k2j9x" not in raw_files
    assert "ext:mobike:ri*********9x" in stored
    assert not list(tmp_path.glob("*.key"))  # the key came from the environment


# -- tamper evidence --------------------------------------------------------------------


@pytest.fixture(scope="module")
def tamper_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A ledger with three subjects, an event inside a chain and a row in
    every append-only table; tests copy the closed file and tamper with the copy."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "ledger.db"
    system = shipped_system(path)
    first, second, third = people(3, seed=21)
    [firm] = businesses(1, seed=22)
    day = at(2025, 5, 1)
    lines = [line(f"p1-{n}", first, "traffic-violation", day + timedelta(days=n)) for n in (1, 2, 3)]
    lines += [line("p1-4", first, "heroic-act", day + timedelta(days=4))]
    lines += [line(f"p2-{n}", second, "blood-donation", day + timedelta(days=n)) for n in (1, 2)]
    lines += [line("b1-1", firm, "able-but-refusing", day, scheme="spc-defaulters")]
    assert system.import_records(numbered(lines)).accepted == 7
    system.record_event("p1-2", "contested", reason="not me", at=at(2025, 5, 25))  # p1 seq 5
    assert system.import_records(numbered([line("p1-6", first, "heroic-act", at(2025, 5, 26))]))
    system.link(firm, third, since=at(2025, 1, 1))
    system.scores(first)
    system.check(third, "travel.air.ticket")
    assert system.verify() == []
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
    system = SocialCredit.open(str(path), env={"SOCIALCREDIT_KEY": KEY})
    try:
        return system.subject_row(identifier).key
    finally:
        system.close()


def _verify(path: Path) -> list:  # type: ignore[type-arg]
    system = SocialCredit.open(str(path), env={"SOCIALCREDIT_KEY": KEY})
    try:
        return system.verify()
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
        "UPDATE records SET seq = CASE seq WHEN 3 THEN 4 ELSE 3 END "
        "WHERE id IN ('p1-3', 'p1-4')",
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
        assert db.execute(statement).rowcount >= 1
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

_IMPORTER = """
import sys
from pathlib import Path
from socialcredit.app import SocialCredit
from socialcredit.readers import read_lines

db, source, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
system = SocialCredit.open(db, env={"SOCIALCREDIT_KEY": %r})
report = system.import_records(read_lines(source), batch_size=batch)
print(report.accepted, report.duplicates, len(report.rejected))
""" % (KEY,)


def test_a_crash_mid_import_leaves_no_half_written_batch(tmp_path: Path) -> None:
    total, batch = 60_000, 2_000
    path = tmp_path / "ledger.db"
    shipped_system(path, now=at(2026, 1, 1)).close()
    residents = people(3_000, seed=31)
    source = tmp_path / "records.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for n in range(total):
            occurred = at(2025, 1, 1) + timedelta(minutes=n)
            handle.write(json.dumps(line(
                f"bulk-{n:06d}", residents[(n * 7) % len(residents)], "traffic-violation",
                occurred, reported_at=occurred + timedelta(days=1), reporter="police",
            )) + "\n")  # fmt: skip

    importer = subprocess.Popen(
        [sys.executable, "-c", _IMPORTER, str(path), str(source), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    watcher = sqlite3.connect(str(path), isolation_level=None)
    try:
        deadline = time.monotonic() + 120
        seen = 0
        while seen < 3 * batch and importer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
            seen = watcher.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        os.kill(importer.pid, signal.SIGKILL)
    finally:
        watcher.close()
    importer.communicate(timeout=60)
    assert importer.returncode == -signal.SIGKILL, "the import ended before it could be killed"

    system = open_system(path, now=at(2026, 1, 1))
    (stored,) = sql(path, "SELECT COUNT(*) FROM records")[0]
    assert 3 * batch <= stored < total
    assert stored % batch == 0  # whole batches only: each is one transaction
    assert system.verify() == []
    heads = dict(sql(path, "SELECT subject, seq FROM chain_heads"))
    tails = dict(sql(path, "SELECT subject, MAX(seq) FROM records GROUP BY subject"))
    assert heads == tails  # every subject with records has its head, and no head is ahead
    (orphans,) = sql(
        path, "SELECT COUNT(*) FROM records WHERE subject NOT IN (SELECT subject FROM subjects)"
    )[0]
    assert orphans == 0

    report = system.import_records(read_lines(source), batch_size=batch)

    assert report.rejected == []
    assert report.accepted + report.duplicates == total
    assert report.duplicates == stored
    assert system.store.counts()["records"] == total
    assert system.verify() == []


