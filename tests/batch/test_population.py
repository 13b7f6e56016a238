"""The population use case end to end on the demo town: a snapshot written
from a real SQLite ledger, evaluated on DuckDB, equals the per-subject engine
subject by subject; the grade distribution and list counts agree by both
routes; a second snapshot adds only what is new; the CLI writes Parquet."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from batch_support import batch_evaluations, demo_town, expected

from socialcredit import bootstrap
from socialcredit.domain.ledger.records import RecordEvent
from socialcredit.domain.registry import with_proposal
from socialcredit.domain.schemes.loader import parse_definition
from socialcredit.domain.schemes.models import Scheme
from socialcredit.domain.scoring.engine import evaluate
from socialcredit.errors import UsageError

KEY = "ab" * 32
BIN = Path(sys.executable).parent / "socialcredit"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SOCIALCREDIT_TEST_PG")), reason="the demo runs on its own SQLite file"
)


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("town")
    db = folder / "demo.db"
    # Seed 12: a town with businesses on the SPC list, which the reach test needs.
    return demo_town(db, KEY, people=500, businesses=40, institutions=6, seed=12)


def _open(db: Path) -> bootstrap.Services:
    return bootstrap.open(str(db), env={"SOCIALCREDIT_KEY": KEY})


def _results(folder: Path) -> dict[str, Any]:
    return {
        name: pq.read_table(folder / f"{name}.parquet")
        for name in ("evaluations", "counted", "excluded", "list_entries")
    }


def test_the_batch_equals_the_per_subject_engine_on_the_demo(town: Path, tmp_path: Path) -> None:
    at = datetime.now(UTC).replace(microsecond=0)
    with _open(town) as services:
        outcome = services.population.evaluate(at, tmp_path / "out", explain=True)
        assert outcome.skipped == {}  # every shipped scheme, sesame-credit's scorecard too
        assert "sesame-credit" in outcome.schemes
        want = {
            (subject.key, scheme): expected(evaluation)
            for scheme in outcome.schemes
            for subject, evaluation in services.checks.evaluate_scheme(scheme, at)
        }
    got = batch_evaluations(_results(tmp_path / "out"))
    assert len(want) > 500 and set(got) == set(want)
    assert [pair for pair in sorted(want) if got[pair] != want[pair]] == []
    # The same grade distribution and list counts by both routes.
    grades = Counter((scheme, value["grade"]) for (_, scheme), value in want.items())
    assert grades == Counter((scheme, value["grade"]) for (_, scheme), value in got.items())
    listed = Counter(
        (scheme, entry[0]) for (_, scheme), value in want.items() for entry in value["entries"]
    )
    assert listed and listed == Counter(
        (scheme, entry[0]) for (_, scheme), value in got.items() for entry in value["entries"]
    )


def test_spark_gives_the_demo_the_same_answers_as_duckdb(
    spark: Any, town: Path, tmp_path: Path
) -> None:
    at = datetime.now(UTC).replace(microsecond=0)
    with _open(town) as services:
        services.population.snapshot(tmp_path / "snapshot")
        for engine in ("duckdb", "spark"):
            services.population.evaluate(
                at, tmp_path / engine, engine=engine, snapshot=tmp_path / "snapshot", explain=True
            )
        checks = {
            engine: services.population.check(
                "travel.air.ticket", at, engine=engine, snapshot=tmp_path / "snapshot"
            )
            for engine in ("duckdb", "spark")
        }
    assert checks["spark"].effects == checks["duckdb"].effects
    assert checks["spark"].reasons == checks["duckdb"].reasons
    assert checks["duckdb"].effects.get("deny", 0) > 0
    on_duckdb = batch_evaluations(_results(tmp_path / "duckdb"))
    on_spark = batch_evaluations(_results(tmp_path / "spark"))
    assert len(on_duckdb) > 500 and on_spark == on_duckdb


def test_a_second_snapshot_adds_only_what_is_new(town: Path, tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    with _open(town) as services:
        first = services.population.snapshot(folder)
        assert first.part == 1 and first.rows["rec"] > 1000
        assert first.root == services.integrity.ledger_root()
        again = services.population.snapshot(folder)
        assert again.part == 2
        assert {name: count for name, count in again.rows.items() if count} == {}
        # A contest of one record: only its events come again.
        record = services.uow.ledger.scheme_ledgers("rongcheng-personal")
        contested = next(r for ledger in record for r in ledger.records)
        event = RecordEvent(contested.id, "contested", services.clock(), "test")
        services.uow.ledger.append_event(contested.subject, event)
        third = services.population.snapshot(folder)
    assert third.rows["rec"] == 0 and third.rows["st"] >= 1
    statuses = pq.read_table(folder / "parts" / "00003" / "st.parquet").to_pylist()
    assert {row["record"] for row in statuses} == {contested.id}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [part["part"] for part in manifest["parts"]] == [1, 2, 3]
    assert manifest["ledger_root"] == third.root != first.root


def test_a_snapshot_holds_no_identifier_in_clear(town: Path, tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    with _open(town) as services:
        services.population.snapshot(folder)
    records = pq.read_table(folder / "parts" / "00001" / "rec.parquet")
    assert records.column_names == [
        "record",
        "subject",
        "scheme",
        "version",
        "category",
        "occurred_at",
        "reported_at",
        "expires_at",
        "points",
    ]
    subjects = set(records.column("subject").to_pylist())
    assert subjects and all(re.fullmatch("[0-9a-f]{32}", key) for key in subjects)  # keyed hashes


def test_the_command_line_writes_the_results(town: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["SOCIALCREDIT_KEY"] = KEY
    at = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    snapshot = [str(BIN), "--db", str(town), "snapshot", "--out", str(tmp_path / "s"), "--json"]
    written = json.loads(
        subprocess.run(snapshot, env=env, capture_output=True, text=True, check=True).stdout
    )
    assert written["part"] == 1
    command = [str(BIN), "--db", str(town), "batch", "evaluate", "--at", at]
    command += ["--snapshot", str(tmp_path / "s"), "--out", str(tmp_path / "out"), "--json"]
    command += ["--scheme", "rongcheng-personal", "--memory-limit", "256MB"]
    done = json.loads(
        subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    )
    assert done["schemes"] == ["rongcheng-personal"] and done["skipped"] == {}
    evaluations = pq.read_table(tmp_path / "out" / "evaluations.parquet")
    assert done["rows"]["evaluations"] == evaluations.num_rows == 500
    assert {"subject", "scheme", "score", "grade"} <= set(evaluations.column_names)
    # Bad input: a clear line naming the option, and a non-zero exit.
    wrong = subprocess.run(
        [*command[:7], "--out", str(tmp_path / "x"), "--engine", "oracle"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert wrong.returncode != 0 and "--engine" in wrong.stderr


def test_batch_check_decides_as_a_check_decides_each_subject(town: Path, tmp_path: Path) -> None:
    db = tmp_path / "town.db"
    shutil.copy(town, db)  # each check below logs a decision: on a copy
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    with _open(db) as services:
        _link_a_listed_business(services, at)
        registry = services.definitions.registry
        graded = sorted(
            action
            for action in registry.index.actions
            if any(s.grades for s in registry.index.sources(action))
            and all(s.scheme != "sesame-credit" for s in registry.index.sources(action))
        )
        # The defaulters' air ticket has a reviewer's override in the demo; a grade's measure too.
        for action in ["travel.air.ticket", "travel.rail.highspeed", graded[0]]:
            found = services.population.check(action, at)
            batch = {
                row["subject"]: (row["effect"], _rounded(row["factor"]))
                for row in found.decisions.to_pylist()  # type: ignore[attr-defined]
            }
            keys = {r.subject for ledger in _all_ledgers(services) for r in ledger.records}
            keys |= {link.person for link in services.uow.ledger.links()}
            per_subject = {}
            for key in keys:
                row = services.uow.ledger.subject(key)
                decision = services.checks.check(row, action, at=at, actor="test").decision
                if decision.reasons:
                    per_subject[key] = (decision.effect, _rounded(decision.factor))
            assert batch == per_subject, action
            if action == "travel.air.ticket":
                assert found.overridden == 1  # the demo's reviewed refusal
            if action == "travel.rail.highspeed":  # the SPC list reaches legal representatives
                assert any(reason["reached"] for reason in found.reasons)
            assert sum(found.effects.values()) == found.subjects >= len(keys)
            assert found.effects.get("allow", 0) >= found.subjects - len(batch)
    assert found.subjects > 500


def _link_a_listed_business(services: bootstrap.Services, at: datetime) -> None:
    """Make a person the legal representative of a business on the SPC list."""
    listed = {
        ledger.subject.key
        for ledger in services.uow.ledger.scheme_ledgers("spc-defaulters")
        if ledger.subject.kind == "business" and ledger.records
    }
    people = [
        ledger.subject
        for ledger in services.uow.ledger.scheme_ledgers("rongcheng-personal")
        if ledger.subject.kind == "person"
    ]
    assert listed, "the demo town has no business on the SPC list: the fixture needs another seed"
    business = services.uow.ledger.subject(sorted(listed)[0])
    since = at - timedelta(days=400)
    services.subjects.link(business, people[0], since=since, reporter="test")


def _rounded(factor: float | None) -> float | None:
    return None if factor is None else round(factor, 9)


def _all_ledgers(services: bootstrap.Services) -> list[Any]:
    return [
        ledger
        for scheme in services.definitions.registry.schemes
        for ledger in services.uow.ledger.scheme_ledgers(scheme)
    ]


def test_a_snapshot_in_parts_answers_as_the_ledger_and_forgets_an_erasure(
    town: Path, tmp_path: Path
) -> None:
    db = tmp_path / "town.db"
    shutil.copy(town, db)
    folder = tmp_path / "snapshot"
    with _open(db) as services:
        services.population.snapshot(folder)
        ledgers = [ledger for ledger in services.uow.ledger.scheme_ledgers("rongcheng-personal")]
        counted = [r for ledger in ledgers for r in ledger.records if r.points < 0]
        erased, contested = counted[0], counted[1]
        now = services.clock()
        services.uow.due_process.erase_record(erased, RecordEvent(erased.id, "erased", now, "test"))
        event = RecordEvent(contested.id, "contested", now, "test")
        services.uow.ledger.append_event(contested.subject, event)
        second = services.population.snapshot(folder)
        assert second.part == 2 and second.rows["rec"] == 0
        at = now + timedelta(seconds=1)
        services.population.evaluate(
            at, tmp_path / "out", snapshot=folder, schemes={"rongcheng-personal"}, explain=True
        )
        want = {
            (subject.key, "rongcheng-personal"): expected(evaluation)
            for subject, evaluation in services.checks.evaluate_scheme("rongcheng-personal", at)
        }
    got = batch_evaluations(_results(tmp_path / "out"))
    assert got == want
    # The erased record's contents are gone from the part that first held them.
    first = pq.read_table(folder / "parts" / "00001" / "rec.parquet").to_pylist()
    [row] = [row for row in first if row["record"] == erased.id]
    assert (row["category"], row["points"]) == ("", 0)


def test_a_snapshot_does_not_go_back_in_time(town: Path, tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    with _open(town) as services:
        now = services.clock()
        services.population.snapshot(folder, at=now - timedelta(days=30))
        with pytest.raises(UsageError, match="would take it back"):
            services.population.snapshot(folder, at=now - timedelta(days=60))
        assert services.population.snapshot(folder, at=now).part == 2


def test_a_simulation_is_the_per_subject_engine_under_the_proposal(
    town: Path, tmp_path: Path
) -> None:
    shipped = Path(__file__).resolve().parents[2] / "schemes" / "rongcheng-personal.yaml"
    text = shipped.read_text(encoding="utf-8").replace("points: -50", "points: -150")
    assert text != shipped.read_text(encoding="utf-8")
    at = datetime.now(UTC).replace(microsecond=0)
    scheme = "rongcheng-personal"
    with _open(town) as services:
        found = services.population.simulate(text, "proposal.yaml", at)
        registry = services.definitions.registry
        proposal = parse_definition(text, "proposal.yaml", registry.current_schemes).definition
        assert isinstance(proposal, Scheme)
        after = with_proposal(registry, proposal)
        want: Counter[tuple[str, str]] = Counter()
        for ledger in services.uow.ledger.scheme_ledgers(scheme):
            grades = [
                evaluate(
                    r.history(scheme),
                    ledger.records,
                    ledger.events,
                    at,
                    ledger.enrolments.get(scheme),
                ).explanation.grade
                or "-"
                for r in (registry, after)
            ]
            want[(grades[0], grades[1])] += 1
    assert Counter({(b, a): n for b, a, n in found.transitions}) == want
    assert any(b != a for (b, a) in want)  # the proposal moves some grades
    # Over time: the grades in force at each instant, as the per-subject engine gives them.
    instants = [at - timedelta(days=180), at - timedelta(days=90), at]
    with _open(town) as services:
        _, now, proposed = services.population.grades_over_time(text, "proposal.yaml", instants)
        for instant, counted in zip(instants, now, strict=True):
            grades = Counter(
                e.explanation.grade or "-"
                for _, e in services.checks.evaluate_scheme(scheme, instant)
            )
            assert counted == dict(grades)
    assert proposed[-1] == dict(Counter(after_grade for (_, after_grade) in want.elements()))
    assert found.categories[0][1] > 0 and found.grades[:2] == ["AAA", "AA"]
    # The command line: a table, and a report that needs nothing but a browser.
    proposal_file = tmp_path / "proposal.yaml"
    proposal_file.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["SOCIALCREDIT_KEY"] = KEY
    command = [str(BIN), "--db", str(town), "simulate", "--proposal", str(proposal_file)]
    command += ["--at", at.isoformat(), "--html", str(tmp_path / "report.html"), "--json"]
    done = json.loads(
        subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    )
    assert sum(t["subjects"] for t in done["transitions"]) == sum(want.values())
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<svg" in report and "<script" not in report  # charts drawn on the server
    assert 'src="http' not in report and 'href="http' not in report  # nothing fetched
