"""The CLI refuses what would silently damage a ledger, with one line on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "socialcredit"
KEY = "cd" * 32
SCHEMES = Path(__file__).resolve().parents[2] / "schemes"


def run(
    folder: Path, *args: str, key: str | None = KEY, code: int = 0
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    if key is not None:
        env["SOCIALCREDIT_KEY"] = key
    done = subprocess.run(
        [str(BIN), *args], env=env, cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, (args, done.stdout, done.stderr)
    return done


def error_line(done: subprocess.CompletedProcess[str]) -> str:
    [line] = done.stderr.splitlines()
    assert line.startswith("error: ")
    return line


def test_a_database_refuses_a_key_other_than_its_own(tmp_path: Path) -> None:
    run(tmp_path, "--db", "city.db", "init")
    wrong = run(tmp_path, "--db", "city.db", "schemes", "list", key="ef" * 32, code=1)
    assert "key does not match this database" in error_line(wrong)
    run(tmp_path, "--db", "city.db", "schemes", "list")  # the right key still works


def test_no_key_is_invented_for_an_existing_database(tmp_path: Path) -> None:
    run(tmp_path, "--db", "city.db", "init", key=None)  # init creates city.db.key
    (tmp_path / "city.db.key").rename(tmp_path / "elsewhere.key")
    missing = run(tmp_path, "--db", "city.db", "schemes", "list", key=None, code=1)
    assert "no identifier key" in error_line(missing)
    assert not (tmp_path / "city.db.key").exists()


def test_files_that_are_not_ledgers_are_named_not_tracebacked(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not a database\n")
    assert "cannot open notes.db" in error_line(run(tmp_path, "--db", "notes.db", "verify", code=1))
    assert "cannot open" in error_line(run(tmp_path, "--db", "no/such/dir.db", "init", code=1))
    assert "no database at" in error_line(run(tmp_path, "--db", "absent.db", "verify", code=1))


def test_times_outside_the_calendar_are_refused_by_field(tmp_path: Path) -> None:
    run(tmp_path, "--db", "city.db", "init")
    done = run(
        tmp_path,
        "--db",
        "city.db",
        "check",
        "cn-ric:11010519491231002X",
        "travel.air.ticket",
        "--at",
        "0001-01-01T00:00:00+05:00",
        code=1,
    )
    assert "--at" in error_line(done) and "outside the years" in error_line(done)


def test_the_demo_never_replaces_a_real_ledger(tmp_path: Path) -> None:
    run(tmp_path, "--db", "city.db", "init")
    before = (tmp_path / "city.db").read_bytes()
    done = run(tmp_path, "demo", "--db", "city.db", "--people", "50", code=1)
    assert "not a demo database" in error_line(done)
    assert (tmp_path / "city.db").read_bytes() == before


def test_api_keys_are_shown_once_listed_without_secrets_and_revocable(tmp_path: Path) -> None:
    run(tmp_path, "--db", "city.db", "init")
    run(tmp_path, "--db", "city.db", "schemes", "add", *map(str, sorted(SCHEMES.glob("*.yaml"))))
    created = run(
        tmp_path,
        "--db",
        "city.db",
        "keys",
        "create",
        "--role",
        "checker",
        "--authority",
        "china-railway",
    )
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("sck_")
    listed = run(tmp_path, "--db", "city.db", "keys", "list", "--json").stdout
    key_id = token.split("_")[1]
    assert key_id in listed and token.split("_", 2)[2] not in listed
    run(tmp_path, "--db", "city.db", "keys", "revoke", key_id)
    again = run(tmp_path, "--db", "city.db", "keys", "revoke", key_id, code=1)
    assert "already revoked" in error_line(again)
    refused = run(tmp_path, "--db", "city.db", "keys", "create", "--role", "checker", code=1)
    assert "give --authority" in error_line(refused)


def test_lint_profiles_report_findings_and_fail_on_errors(tmp_path: Path) -> None:
    files = [str(SCHEMES / "spc-defaulters.yaml"), str(SCHEMES / "ndrc-2016-141.yaml")]
    eu = run(tmp_path, "schemes", "lint", "--profile", "eu", *files, code=1)
    assert (
        "AI Act art. 5(1)(c)(i)" in eu.stdout
        and "ndrc-2016-141.yaml: measures[0].context: error" in eu.stdout
    )
    cn = run(tmp_path, "schemes", "lint", "--profile", "cn", *files)
    assert cn.stdout.count("no findings") == 2
    wrong = run(tmp_path, "schemes", "lint", "--profile", "us", *files, code=1)
    assert "--profile" in error_line(wrong)


LATE_FEES = """\
type: scheme
id: library-late-fees
title: Library late fees
authority: {id: library, name: City library, kind: government}
context: library
lawful_basis: contract
subjects: [person]
retention: P1Y
score: {base: 0}
grades: [{name: member, min: 0}, {name: late}]
categories:
  - {code: late-return, title: Book returned late, points: -1, severity: minor, validity: P1M}
measures:
  - {on: {grades: [late]}, action: library.fee, effect: adjust, factor: 1.5, context: library,
     rationale: Late returners pay a higher fee.}
"""


def test_lint_knows_the_platforms_safeguards_and_the_ledgers_reviewers(tmp_path: Path) -> None:
    scheme = tmp_path / "late-fees.yaml"
    scheme.write_text(LATE_FEES, encoding="utf-8")
    # Without a ledger: the platform's referral is the art. 22(3) safeguard.
    clean = run(tmp_path, "schemes", "lint", "--profile", "eu", str(scheme), "--json")
    assert json.loads(clean.stdout)[0]["findings"] == []
    # With a ledger whose only reviewer answers for another authority, asked to
    # check reviewers: the library's referrals would reach no one.
    run(tmp_path, "--db", "city.db", "init")
    run(tmp_path, "--db", "city.db", "schemes", "add", str(SCHEMES / "spc-defaulters.yaml"))
    run(tmp_path, "--db", "city.db", "keys", "create", "--role", "reviewer", "--authority", "spc")
    lint = ("--db", "city.db", "schemes", "lint", "--profile", "eu", str(scheme))
    assert json.loads(run(tmp_path, *lint, "--json").stdout)[0]["findings"] == []
    found = run(tmp_path, *lint, "--check-reviewers", "--json", code=1)
    [finding] = json.loads(found.stdout)[0]["findings"]
    assert finding["rule"] == "eu.no-reviewer" and finding["provision"] == "GDPR art. 22(3)"
    assert "keys create --role reviewer" in finding["fix"]
    text = run(tmp_path, *lint, "--check-reviewers", code=1)
    assert "fix: create a reviewer key" in text.stdout
    missing = run(tmp_path, "schemes", "lint", "--check-reviewers", str(scheme), code=1)
    assert "--check-reviewers" in error_line(missing)
