"""``socialcredit demo`` on a small town: the whole application layer at once."""

from __future__ import annotations

import io
import json
import os
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from ledger_support import KEY, KEY_ENV
from rich.console import Console

from socialcredit import bootstrap
from socialcredit.entrypoints.demo import run_demo

PEOPLE, BUSINESSES, INSTITUTIONS = 600, 40, 6
RONGCHENG = {
    "rongcheng-personal": PEOPLE,
    "rongcheng-business": BUSINESSES,
    "rongcheng-institutions": INSTITUTIONS,
}


# The demo builds its own SQLite town; the store itself is tested on both.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SOCIALCREDIT_TEST_PG")), reason="the demo runs on its own SQLite file"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.db"
    console_text = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCIALCREDIT_KEY", KEY)
        stdout = io.StringIO()
        patch.setattr("sys.stdout", stdout)
        summary = run_demo(
            str(db),
            people=PEOPLE,
            businesses=BUSINESSES,
            institutions=INSTITUTIONS,
            seed=7,
            console=Console(file=console_text, width=120),
            as_json=True,
        )
    return {
        "db": db,
        "folder": folder,
        "summary": summary,
        "stdout": stdout.getvalue(),
        "console": console_text.getvalue(),
    }


def test_the_json_summary_is_printed_and_nothing_else(demo: dict[str, Any]) -> None:
    printed = json.loads(demo["stdout"])
    assert printed == json.loads(json.dumps(demo["summary"]))
    assert demo["console"] == ""  # --json keeps the tables and progress bars out


def test_grade_distributions_cover_every_enrolled_subject(demo: dict[str, Any]) -> None:
    grades = demo["summary"]["grades"]
    assert set(RONGCHENG) <= set(grades)
    allowed = {"AAA", "AA", "A", "B", "C", "D"}
    for scheme, subjects in RONGCHENG.items():
        assert sum(grades[scheme].values()) == subjects, scheme
        assert set(grades[scheme]) <= allowed
    # A year of records moves people off the base grade in both directions.
    personal = grades["rongcheng-personal"]
    assert personal.get("A", 0) < PEOPLE
    assert personal.get("AAA", 0) + personal.get("AA", 0) > 0
    assert sum(personal.get(g, 0) for g in ("B", "C", "D")) > 0


def test_list_counts_match_the_ledger(demo: dict[str, Any]) -> None:
    lists = demo["summary"]["lists"]
    assert lists and all(isinstance(n, int) and n > 0 for n in lists.values())
    assert "spc-defaulters/dishonest-defaulters" in lists
    assert "caac-flight-ban/no-fly" in lists
    system = bootstrap.open(str(demo["db"]), env=KEY_ENV)
    try:
        # The demo evaluates at its own "now"; a moment later the same entries hold.
        moment = _decision_time(demo)
        found = Counter(
            f"{e.entry.scheme}/{e.entry.list}" for e in system.checks.lists(at=moment, actor="cli")
        )
    finally:
        system.close()
    assert dict(found) == lists


def test_examples_include_denials_with_their_reasons(demo: dict[str, Any]) -> None:
    examples = demo["summary"]["examples"]
    denials = [e for e in examples if e["decision"]["effect"] == "deny"]
    assert denials
    for example in denials:
        reasons = example["decision"]["reasons"]
        assert reasons
        assert all(r["effect"] == "deny" and r["rationale"] and r["scheme"] for r in reasons)
    by_why = {e["why"]: e["decision"] for e in examples}
    represented = by_why["legal representative of a business on the defaulter list"]
    assert represented["effect"] == "deny"
    assert all(
        r["via"].startswith("legal_representative of cn-uscc:") for r in represented["reasons"]
    )
    ordinary = by_why["an ordinary resident"]
    assert (ordinary["effect"], ordinary["reasons"]) == ("allow", [])
    # Every example decision was logged under its id.
    db = sqlite3.connect(str(demo["db"]))
    try:
        logged = {row[0]: row[1] for row in db.execute("SELECT id, effect FROM decisions")}
    finally:
        db.close()
    for example in examples:
        assert logged[example["decision"]["decision_id"]] == example["decision"]["effect"]


def test_the_demo_ledger_verifies_and_matches_its_counts(demo: dict[str, Any]) -> None:
    summary = demo["summary"]
    system = bootstrap.open(str(demo["db"]), env=KEY_ENV)
    try:
        assert system.integrity.verify() == []
        counts = system.uow.ledger.counts()
    finally:
        system.close()
    assert summary["rejected"] == 0
    pilots = summary["pilots"]
    assert pilots["bike_share"]["rejected"] == 0
    # The town's records, Ant Group's records and one record per bike trip.
    pilot_records = pilots["sesame"]["records"] + pilots["bike_share"]["trips"]
    assert counts["records"] == summary["records"] + pilot_records
    assert summary["records"] > PEOPLE
    # The due-process showcase contests one more record, now.
    assert counts["record_events"] == summary["events"] + 1 and summary["events"] > 0
    assert counts["links"] == BUSINESSES
    assert not list(Path(demo["folder"]).glob("*.key"))  # the key came from the environment


def _decision_time(demo: dict[str, Any]) -> Any:
    from datetime import datetime

    at = demo["summary"]["examples"][0]["decision"]["at"]
    return datetime.fromisoformat(at.replace("Z", "+00:00"))


def test_the_demo_shows_due_process_and_sends_notices(demo: dict[str, Any]) -> None:
    shown = demo["summary"]["due_process"]
    assert shown["override"]["now"] == "allow"  # a person overrode a refusal
    assert shown["contest"]["due_at"] > demo["summary"]["examples"][0]["decision"]["at"]
    summary = demo["summary"]
    pilots = summary["pilots"]
    records = summary["records"] + pilots["sesame"]["records"] + pilots["bike_share"]["trips"]
    assert shown["notices"]["record_reported"] == records
    sent = Path(str(demo["db"]) + ".notices.jsonl").read_text().splitlines()
    # Built outside the sweep: each Sesame member's consent, and the showcase's case
    # steps (a review opened and decided, a contest opened).
    assert len(sent) == sum(shown["notices"].values()) + pilots["sesame"]["members"] + 3
    assert {json.loads(line)["kind"] for line in sent} >= {"record_reported", "case_decided"}


def test_the_demo_runs_both_commercial_pilots(demo: dict[str, Any]) -> None:
    sesame, bikes = demo["summary"]["pilots"]["sesame"], demo["summary"]["pilots"]["bike_share"]
    assert sesame["members"] == PEOPLE // 4 and 0.5 < sesame["fit"]["auc"] <= 1
    best, worst = sesame["examples"]
    assert best["score"] > worst["score"] and set(best["dimensions"]) == {
        "credit-history",
        "behaviour-and-preferences",
        "ability-to-honour-obligations",
        "identity-traits",
        "connections",
    }
    if best["score"] >= 650:
        assert best["offers"]["deposit.bike"] == "adjust x0"  # the deposit is waived
    assert bikes["trips"] > 0 and bikes["precise_positions_kept"] == 0
    assert set(bikes["verdicts"]) <= {"normal", "outside-parking", "no-parking"}
    assert all(r["effect"] in ("adjust", "allow") for r in bikes["lowest_scores"])
