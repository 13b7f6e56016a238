"""Due process from the command line: human review of a decision, consent,
erasure and restriction, notices, cases and retention (issue 4)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_cli import NOW, Cli, days_ago

from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric

_rng = random.Random(4242)
DEBTOR, MEMBER, OLDTIMER = ("cn-ric:" + generate_ric(_rng) for _ in range(3))
CLUB = (Path(__file__).parents[1] / "data" / "deposit-club.yaml").read_text()


def _records(folder: Path, name: str, lines: list[dict[str, str]]) -> str:
    path = folder / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    folder = tmp_path_factory.mktemp("rights")
    cli = Cli(folder, folder / "rights.db")
    cli.run("init")
    (folder / "club.yaml").write_text(CLUB, encoding="utf-8")
    cli.run("schemes", "add", *map(str, shipped_scheme_files()), str(folder / "club.yaml"))
    cli.run(
        "records",
        "import",
        _records(
            folder,
            "court.jsonl",
            [
                {
                    "id": "spc-9",
                    "scheme": "spc-defaulters",
                    "category": "evading-enforcement",
                    "subject": DEBTOR,
                    "occurred_at": days_ago(30),
                    "reported_at": days_ago(29),
                    "reporter": "court",
                },
                {
                    "id": "old-1",
                    "scheme": "rongcheng-personal",
                    "category": "volunteering-8h",
                    "subject": OLDTIMER,
                    "occurred_at": days_ago(6 * 366),
                    "reported_at": days_ago(6 * 366),
                    "reporter": "village",
                },
                {
                    "id": "city-1",
                    "scheme": "rongcheng-personal",
                    "category": "traffic-violation",
                    "subject": OLDTIMER,
                    "occurred_at": days_ago(3),
                    "reporter": "police",
                },
            ],
        ),
    )
    return cli


def test_a_denied_check_is_referred_and_overridden_for_a_period(cli: Cli) -> None:
    denied = cli.json("check", DEBTOR, "travel.rail.highspeed")
    assert denied["effect"] == "deny"
    case = cli.json("refer", denied["decision_id"], "--statement", "My mother's surgery.")
    assert (
        case["kind"] == "decision_review" and case["details"]["action"] == "travel.rail.highspeed"
    )
    listed = cli.json("cases", "list", "--authority", "spc")
    assert [c["id"] for c in listed] == [case["id"]]
    assert cli.json("cases", "list", "--subject", "") == listed  # empty: everyone's, as before
    reads = json.loads(cli.run("export", DEBTOR).stdout)["access_log"]
    assert any(r["purpose"] == "case review" for r in reads)  # reading a case is logged
    until = (NOW + timedelta(days=7)).isoformat()
    assert "until" in cli.fails(
        "cases",
        "decide",
        case["id"],
        "--outcome",
        "overridden",
        "--reason",
        "medical need",
        "--effect",
        "allow",
    )
    cli.run(
        "cases",
        "decide",
        case["id"],
        "--outcome",
        "overridden",
        "--reason",
        "hospital letter seen",
        "--effect",
        "allow",
        "--until",
        until,
    )
    allowed = cli.json("check", DEBTOR, "travel.rail.highspeed")
    assert allowed["effect"] == "allow" and allowed["reasons"][0]["source"] == "override"
    assert cli.json("check", DEBTOR, "travel.air.ticket")["effect"] == "deny"
    assert cli.json("cases", "list") == []  # nothing left open


def test_consent_then_withdrawal_then_erasure(cli: Cli) -> None:
    line = {
        "id": "club-1",
        "scheme": "deposit-club",
        "category": "on-time",
        "subject": MEMBER,
        "occurred_at": NOW.isoformat(),
        "reporter": "club-co",
    }
    refused = cli.json("records", "import", _records(cli.folder, "club0.jsonl", [line]))
    assert (refused["accepted"], refused["rejected"]) == (0, 1)
    [reject] = (cli.folder / "club0.jsonl.rejects.jsonl").read_text().splitlines()
    assert "no active consent to 'deposit-club'" in json.loads(reject)["reason"]
    cli.run("consent", "grant", MEMBER, "deposit-club")
    line["occurred_at"] = datetime.now(UTC).isoformat()  # after the grant
    line["id"] = "club-2"
    taken = cli.json("records", "import", _records(cli.folder, "club1.jsonl", [line]))
    assert taken["accepted"] == 1
    assert cli.json("score", MEMBER, "--scheme", "deposit-club")["score"] == 610

    cli.run("consent", "withdraw", MEMBER, "deposit-club")
    withdrawn = cli.json("score", MEMBER, "--scheme", "deposit-club")
    assert withdrawn["score"] is None and withdrawn["excluded"][0]["reason"] == "no_consent"
    [consent] = cli.json("consent", "list", MEMBER)
    assert consent["active"] is False and len(consent["periods"]) == 1

    erased = cli.json("erase", "club-2", "--statement", "Forget my payments.")
    assert erased["erased"] is True and erased["case"] is None
    assert "ledger intact" in cli.run("verify").stdout


def test_erasure_under_a_public_task_restricts_until_a_reviewer_keeps_it(cli: Cli) -> None:
    restricted = cli.json("erase", "city-1", "--statement", "Delete my ticket.")
    assert restricted["erased"] is False and "public_task" in restricted["why"]
    score = cli.json("score", OLDTIMER, "--scheme", "rongcheng-personal")
    assert {"record": "city-1", "category": "traffic-violation", "reason": "restricted"} in (
        score["excluded"]
    )
    kept = cli.json("review", "city-1", "--uphold", "--reason", "the city needs it")
    assert kept["outcome"] == "kept"
    assert cli.json("score", OLDTIMER, "--scheme", "rongcheng-personal")["score"] == 995


def test_retention_is_a_dry_run_until_applied(cli: Cli) -> None:
    dry = cli.json("retention", "run")
    assert dry["applied"] is False and [r["record"] for r in dry["removed"]] == ["old-1"]
    assert "would erase" in cli.run("retention", "run").stdout
    applied = cli.json("retention", "run", "--apply")
    assert applied["by_scheme"] == {"rongcheng-personal": 1}
    assert cli.json("retention", "run")["removed"] == []


def test_notices_are_delivered_to_a_file_and_listed_for_the_subject(cli: Cli) -> None:
    outbox = cli.folder / "outbox.jsonl"
    done = cli.run("notices", "deliver", "--to", f"file:{outbox}")
    assert "notices delivered to file:" in done.stderr
    sent: list[dict[str, Any]] = [json.loads(x) for x in outbox.read_text().splitlines()]
    kinds = {n["kind"] for n in sent}
    assert {"record_reported", "decision_adverse", "list_entered", "case_opened"} <= kinds
    assert DEBTOR.split(":")[1] not in outbox.read_text()  # masked identifiers only
    mine = cli.json("notices", "list", DEBTOR)
    assert mine and all(n["delivered_at"] for n in mine)
    assert "0 notices delivered" in cli.run("notices", "deliver", "--to", f"file:{outbox}").stderr
    assert "--to" in cli.fails("notices", "deliver", "--to", "pigeon")
