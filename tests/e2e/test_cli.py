"""The installed ``socialcredit`` command, run as a subprocess on a temporary database.

One tour database is built once per module (init, schemes, records); each
test then reads it or changes its own records, so the tests do not depend on
each other's order. Tampering happens on a copy.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric, generate_uscc, parse_identifier

BIN = Path(sys.executable).parent / "socialcredit"
KEY = "cd" * 32
NOW = datetime.now(UTC).replace(microsecond=0)


def days_ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def masked(identifier: str) -> str:
    return parse_identifier(identifier).masked()


@dataclass
class Cli:
    folder: Path
    db: Path

    @property
    def env(self) -> dict[str, str]:
        # No COLUMNS: the command's own default width applies, as in a pipe or a CI log.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SOCIALCREDIT_") and k not in ("COLUMNS", "LINES")
        }
        env.update(SOCIALCREDIT_DB=str(self.db), SOCIALCREDIT_KEY=KEY)
        return env

    def run(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(BIN), *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == code, (args, done.stdout, done.stderr)
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def fails(self, *args: str) -> str:
        """Run a command that must fail; return its single stderr line."""
        done = self.run(*args, code=1)
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
        assert done.stdout == ""
        return lines[0]


_rng = random.Random(2026)
RESIDENT, REPRESENTATIVE, NEWCOMER, SHOPKEEPER = ("cn-ric:" + generate_ric(_rng) for _ in range(4))
FIRM = "cn-uscc:" + generate_uscc(_rng, first="9")
HEADER = "id,scheme,category,subject,occurred_at,reported_at,reporter,evidence"


def _csv() -> str:
    rows = [
        HEADER,
        f"t1,rongcheng-personal,traffic-violation,{RESIDENT},{days_ago(40)},{days_ago(39)},police,ticket/1",
        f"h1,rongcheng-personal,heroic-act,{RESIDENT},{days_ago(35)},{days_ago(34)},village,",
        f"d1,rongcheng-personal,drunk-driving,{RESIDENT},{days_ago(30)},{days_ago(29)},police,case/9",
        f"bad-fields,rongcheng-personal,traffic-violation,{RESIDENT},{days_ago(30)}",
        f"bad-category,rongcheng-personal,jaywalking,{RESIDENT},{days_ago(30)},{days_ago(29)},police,",
        f"s1,rongcheng-personal,traffic-violation,{SHOPKEEPER},{days_ago(20)},{days_ago(19)},police,",
        f"s2,rongcheng-personal,traffic-violation,{SHOPKEEPER},{days_ago(18)},{days_ago(17)},police,",
    ]
    return "\n".join(rows) + "\n"


def _jsonl() -> str:
    good = {
        "id": "spc-1",
        "scheme": "spc-defaulters",
        "category": "able-but-refusing",
        "subject": FIRM,
        "occurred_at": days_ago(60),
        "reported_at": days_ago(58),
        "reporter": "court",
    }
    bad_check = {
        **good,
        "id": "spc-bad",
        "subject": RESIDENT[:-1] + ("1" if RESIDENT[-1] != "1" else "2"),
    }
    future = {**good, "id": "spc-future", "reported_at": (NOW + timedelta(days=2)).isoformat()}
    lines = [json.dumps(good), "{oops", json.dumps(bad_check), json.dumps(future)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("tour")
    cli = Cli(folder, folder / "tour.db")
    made = {"cli": cli, "init": [cli.run("init").stdout, cli.run("init").stdout]}
    made["added"] = cli.json("schemes", "add", *map(str, shipped_scheme_files()))
    (folder / "records.csv").write_text(_csv(), encoding="utf-8-sig")  # as spreadsheets save it
    (folder / "records.jsonl").write_text(_jsonl(), encoding="utf-8")
    made["csv"] = cli.run("records", "import", "records.csv").stdout
    made["jsonl"] = cli.json("records", "import", str(folder / "records.jsonl"))
    cli.run("link", FIRM, REPRESENTATIVE, "--since", days_ago(400))
    return made


# -- init and definitions -----------------------------------------------------------------


def test_init_is_idempotent(tour: dict[str, Any]) -> None:
    cli: Cli = tour["cli"]
    first, second = tour["init"]
    assert "schema migrations applied: 1, 2, 4, 5, 6, 7, mobility 1" in first and str(
        cli.db
    ) in first.replace("\n", "")
    assert "the schema is up to date" in second
    assert not list(cli.folder.glob("*.key"))  # the key came from SOCIALCREDIT_KEY
    db = sqlite3.connect(str(cli.db))
    try:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [
            ("7",)
        ]
    finally:
        db.close()


def test_schemes_add_list_and_show(tour: dict[str, Any]) -> None:
    cli: Cli = tour["cli"]
    shipped = shipped_scheme_files()
    assert {(a["id"], a["version"]) for a in tour["added"]} == {(p.stem, 1) for p in shipped}
    listed = cli.json("schemes", "list")
    assert {(d["id"], d["type"], d["version"]) for d in listed} == {
        (p.stem, "memorandum" if p.stem == "ndrc-2016-141" else "scheme", 1) for p in shipped
    }
    shown = cli.json("schemes", "show", "rongcheng-personal")
    source = next(p for p in shipped if p.stem == "rongcheng-personal")
    assert (shown["id"], shown["type"], shown["versions"]) == ("rongcheng-personal", "scheme", [1])
    assert shown["text"] == source.read_text(encoding="utf-8")
    assert "no scheme or memorandum 'nope'" in cli.fails("schemes", "show", "nope")


def test_schemes_lint_names_every_problem_on_its_own_line(tour: dict[str, Any]) -> None:
    cli: Cli = tour["cli"]
    good = shipped_scheme_files()[0]
    ok = cli.run("schemes", "lint", str(good))
    assert ok.stdout.startswith(f"ok: {good}")
    bad = cli.folder / "bad.yaml"
    bad.write_text(
        textwrap.dedent(
            """\
            type: scheme
            id: broken
            title: Broken
            authority: {id: city, name: City}
            context: civic
            lawful_basis: because
            subjects: [person]
            categories:
              - {code: x, title: X, points: 1, severity: tiny, validity: P1Y}
            """
        ),
        encoding="utf-8",
    )

    done = cli.run("schemes", "lint", str(good), str(bad), code=1)

    assert "Traceback" not in done.stderr and "ok:" not in done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 3  # lawful_basis, retention, severity: one line each, however long
    for problem in lines:
        assert problem.startswith(f"error: {bad}: "), problem
        assert problem.count(": ") >= 3  # error: file: path: rule
    paths = [problem.split(": ")[2] for problem in lines]
    assert "lawful_basis" in paths and "retention" in paths
    assert any(p.startswith("categories") for p in paths)
    assert str(good) not in done.stderr

    # Adding is all or nothing: the good file is not added beside the bad one.
    before = _definition_count(cli.db)
    added = cli.run("schemes", "add", str(good), str(bad), code=1)
    assert added.stderr.splitlines() == lines and added.stdout == ""
    assert _definition_count(cli.db) == before


def _definition_count(path: Path) -> int:
    db = sqlite3.connect(str(path))
    try:
        return int(db.execute("SELECT COUNT(*) FROM definitions").fetchone()[0])
    finally:
        db.close()


# -- records ---------------------------------------------------------------------------------


def test_records_import_counts_and_rejects_files(tour: dict[str, Any]) -> None:
    cli: Cli = tour["cli"]
    assert "accepted 5, duplicates 0, rejected 2" in tour["csv"]
    assert "records.csv.rejects.jsonl" in tour["csv"]
    csv_rejects = _rejects(cli.folder / "records.csv.rejects.jsonl")
    assert [(r["line"], r["id"]) for r in csv_rejects] == [(5, None), (6, "bad-category")]
    assert csv_rejects[0]["reason"] == "line has 5 fields but the header names 8"
    assert csv_rejects[1]["reason"].startswith("category: ")

    summary = tour["jsonl"]
    assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (1, 0, 3)
    jsonl_rejects = _rejects(Path(summary["rejects_file"]))
    assert [(r["line"], r["id"]) for r in jsonl_rejects] == [
        (2, None),
        (3, "spc-bad"),
        (4, "spc-future"),
    ]
    assert jsonl_rejects[0]["reason"].startswith("line is not valid JSON")
    assert jsonl_rejects[1]["reason"].startswith("subject: cn-ric:")
    assert "check character" in jsonl_rejects[1]["reason"]
    assert jsonl_rejects[2]["reason"] == "reported_at: is in the future"


def test_importing_the_same_file_again_only_finds_duplicates(tour: dict[str, Any]) -> None:
    cli: Cli = tour["cli"]
    good_only = cli.folder / "again.csv"
    lines = _csv().splitlines()
    good_only.write_text("\n".join(lines[:4] + lines[6:]) + "\n", encoding="utf-8")
    stale = Path(f"{good_only}.rejects.jsonl")
    stale.write_text('{"line": 1}\n', encoding="utf-8")

    summary = cli.json("records", "import", str(good_only))

    assert summary == {"accepted": 0, "duplicates": 5, "rejected": 0, "rejects_file": None}
    assert not stale.exists()  # a stale rejects file would mislead


def _rejects(path: Path) -> list[dict[str, Any]]:
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


# -- scores, checks and lists ---------------------------------------------------------------


def _points(view: dict[str, Any]) -> dict[str, int]:
    return {c["record"]: c["points"] for c in view["counted"]}


def test_enrol_and_score_explain_every_record(tour: dict[str, Any]) -> None:
    cli: Cli = tour["cli"]
    assert (
        "enrolled in rongcheng-personal" in cli.run("enrol", NEWCOMER, "rongcheng-personal").stdout
    )
    again = cli.run("enrol", NEWCOMER, "rongcheng-personal").stdout
    assert "was already enrolled" in again
    fresh = cli.json("score", NEWCOMER, "--scheme", "rongcheng-personal")
    assert (fresh["score"], fresh["grade"], fresh["counted"], fresh["excluded"]) == (
        1000,
        "A",
        [],
        [],
    )

    view = cli.json("score", RESIDENT, "--scheme", "rongcheng-personal")

    assert view["scheme"] == "rongcheng-personal" and view["subject"] == masked(RESIDENT)
    assert [(c["record"], c["category"], c["points"]) for c in view["counted"]] == [
        ("t1", "traffic-violation", -5),
        ("h1", "heroic-act", 30),
        ("d1", "drunk-driving", -50),
    ]
    assert view["score"] == 1000 - 5 + 30 - 50
    assert (view["band"], view["grade"]) == ("A", "C")  # drunk driving caps the grade
    assert view["cap"] == {"grade": "C", "record": "d1", "category": "drunk-driving"}
    assert view["excluded"] == []

    past = cli.json("score", RESIDENT, "--scheme", "rongcheng-personal", "--at", days_ago(32))

    assert _points(past) == {"t1": -5, "h1": 30}
    assert past["excluded"] == [
        {"record": "d1", "category": "drunk-driving", "reason": "not_yet_reported"}
    ]
    assert (past["score"], past["grade"]) == (1025, "A")

    every = cli.json("score", RESIDENT)
    assert [v["scheme"] for v in every] == ["rongcheng-personal"]
    table = cli.run("score", RESIDENT).stdout
    assert "capped at C by d1" in table and "d1" in table


def test_check_json_gives_effect_factor_reasons_and_decision_id(tour: dict[str, Any]) -> None:
    cli: Cli = tour["cli"]

    firm = cli.json("check", FIRM, "travel.air.ticket")
    person = cli.json("check", REPRESENTATIVE, "travel.air.ticket")
    loan = cli.json("check", FIRM, "loan.credit")
    free = cli.json("check", NEWCOMER, "travel.air.ticket")

    assert (firm["effect"], firm["factor"], firm["subject"]) == ("deny", None, masked(FIRM))
    assert {r["memorandum"] for r in firm["reasons"]} == {None, "ndrc-2016-141"}
    assert all(r["records"] == ["spc-1"] and r["via"] is None for r in firm["reasons"])
    assert person["effect"] == "deny"
    assert {r["via"] for r in person["reasons"]} == {f"legal_representative of {masked(FIRM)}"}
    assert (loan["effect"], loan["factor"]) == ("adjust", 0.5)
    assert (free["effect"], free["factor"], free["reasons"]) == ("allow", None, [])
    ids = [d["decision_id"] for d in (firm, person, loan, free)]
    db = sqlite3.connect(str(cli.db))
    try:
        logged = dict(db.execute("SELECT id, effect FROM decisions"))
    finally:
        db.close()
    assert [logged[i] for i in ids] == ["deny", "deny", "adjust", "allow"]


def test_lists_count_and_show_entries(tour: dict[str, Any]) -> None:
    cli: Cli = tour["cli"]
    table = cli.run("lists").stdout
    assert "dishonest-defaulters" in table and "spc-defaulters" in table

    entries = cli.json("lists", "spc-defaulters/dishonest-defaulters")

    assert [(e["subject"], e["subject_kind"], e["records"]) for e in entries] == [
        (masked(FIRM), "business", ["spc-1"])
    ]
    assert entries[0]["since"] == days_ago(60).replace("+00:00", "Z")
    assert cli.json("lists", "caac-flight-ban/no-fly") == []
    assert "has no list 'nope'" in cli.fails("lists", "spc-defaulters/nope")


# -- due process ------------------------------------------------------------------------------


def test_contest_review_and_repair_change_the_score(tour: dict[str, Any]) -> None:
    cli: Cli = tour["cli"]

    def score() -> dict[str, Any]:
        return cli.json("score", SHOPKEEPER, "--scheme", "rongcheng-personal")

    before = score()
    assert (before["score"], _points(before)) == (990, {"s1": -5, "s2": -5})

    message = cli.fails("review", "s1", "--uphold", "--reason", "it stands")
    assert "only a contested or restricted record can be reviewed" in message and "'s1'" in message
    assert "--statement" in cli.run("contest", "s1", code=2).stderr  # a contest says why

    contested = cli.json("contest", "s1", "--reason", "not my car")
    assert contested["kind"] == "contest" and contested["open"] and contested["record"] == "s1"
    frozen = score()
    assert frozen["score"] == 995
    assert {"record": "s1", "category": "traffic-violation", "reason": "contested"} in (
        frozen["excluded"]
    )
    assert "already contested" in cli.fails("contest", "s1", "--statement", "again")
    assert "written reason" in cli.fails("review", "s1", "--overturn")

    decided = cli.json("review", "s1", "--overturn", "--reason", "wrong plate")
    assert (decided["outcome"], decided["reason"]) == ("overturned", "wrong plate")
    overturned = score()
    assert overturned["score"] == 995
    assert [(x["record"], x["reason"]) for x in overturned["excluded"]] == [("s1", "overturned")]

    cli.run("contest", "s2", "--statement", "I paid it")
    assert score()["score"] == 1000
    cli.run("review", "s2", "--uphold", "--reason", "the fine was unpaid then")
    upheld = score()
    assert (upheld["score"], _points(upheld)) == (995, {"s2": -5})

    applied = cli.json("repair", "s2", "--statement", "fine paid", "--evidence", "receipt-9")
    assert applied["kind"] == "repair" and applied["evidence"] == "receipt-9"
    assert score()["score"] == 995  # until a reviewer approves
    cli.run("cases", "decide", applied["id"], "--outcome", "approved", "--reason", "receipt seen")
    repaired = score()
    assert (repaired["score"], repaired["counted"]) == (1000, [])
    assert {(x["record"], x["reason"]) for x in repaired["excluded"]} == {
        ("s1", "overturned"),
        ("s2", "repaired"),
    }
    assert "give exactly one of --uphold or --overturn" in cli.fails("review", "s2")
    assert "no record with id 'nope'" in cli.fails("contest", "nope", "--statement", "x")


# -- integrity ------------------------------------------------------------------------------


def test_verify_passes_then_names_a_tampered_row(tour: dict[str, Any], tmp_path: Path) -> None:
    cli: Cli = tour["cli"]
    ok = cli.run("verify")
    assert ok.stdout.startswith("ledger intact") and ok.stderr == ""

    copy = Cli(tmp_path, tmp_path / "tampered.db")
    for sibling in cli.folder.iterdir():
        if sibling.name.startswith(cli.db.name):
            shutil.copy(sibling, tmp_path / sibling.name.replace(cli.db.name, copy.db.name))
    assert copy.json("verify")["problems"] == []
    db = sqlite3.connect(str(copy.db), isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE records SET points = 0 WHERE id = 'd1'")
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            db.execute(f"DROP TRIGGER {name}")
        db.execute("UPDATE records SET points = 0 WHERE id = 'd1'")
    finally:
        db.close()

    done = copy.run("verify", code=1)

    [line] = done.stderr.splitlines()
    assert line.startswith("tampered: records record 'd1'")
    assert masked(RESIDENT) in line and "hash does not match" in line
    report = json.loads(copy.run("verify", "--json", code=1).stdout)
    assert len(report["problems"]) == 1 and "'d1'" in report["problems"][0]


# -- errors -----------------------------------------------------------------------------------


def test_errors_are_one_line_without_a_traceback(tour: dict[str, Any], tmp_path: Path) -> None:
    cli: Cli = tour["cli"]
    wrong = RESIDENT[:-1] + ("1" if RESIDENT[-1] != "1" else "2")

    assert "unknown scheme 'nope'" in cli.fails("score", RESIDENT, "--scheme", "nope")
    assert "unknown scheme 'nope'" in cli.fails("enrol", RESIDENT, "nope")
    message = cli.fails("score", wrong)
    assert "check character" in message and "GB 11643-1999" in message
    stranger = "cn-ric:" + generate_ric(random.Random(99))
    assert "no data is held about" in cli.fails("score", stranger)
    assert "no such file" in cli.fails("records", "import", "missing.csv")
    assert "not an ISO-8601" in cli.fails("score", RESIDENT, "--at", "last week")

    missing = Cli(tmp_path, tmp_path / "absent.db")
    message = missing.fails("score", RESIDENT)
    assert message.startswith("error: no database at") and "socialcredit init" in message
    assert not (tmp_path / "absent.db").exists()  # reading never creates a database
