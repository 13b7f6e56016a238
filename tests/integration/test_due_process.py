"""Due process on a real ledger: contests with deadlines, credit repair, human
review of decisions, rectification, restriction and erasure, consent, notices
and retention (issue 4; DESIGN.md §4)."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from ledger_support import at, line, numbered, people, shipped_system, sql

from socialcredit.adapters.delivery import FileChannel
from socialcredit.bootstrap import Services
from socialcredit.domain.ledger.chain import link_hash
from socialcredit.errors import RepairRefused, UsageError


def moved(system: Services, moment: datetime) -> Services:
    system.clock.read = lambda: moment
    return system


def score(system: Services, who: str, scheme: str = "rongcheng-personal") -> dict[str, object]:
    _, [evaluation] = system.checks.scores(who, scheme=scheme, actor="cli")
    e = evaluation.explanation
    return {
        "score": e.score,
        "grade": e.grade,
        "excluded": {x.record: x.reason for x in e.excluded},
    }


def test_a_contest_freezes_the_record_at_once_and_a_reviewer_decides_with_reasons(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=401)
    system.imports.import_records(numbered([line("r1", who, "traffic-violation", at(2025, 5, 20))]))
    assert score(system, who)["score"] == 995
    work = system.casework

    case = work.contest(
        "r1", "I was abroad that day; see my passport stamps.", evidence="doc-7", actor="cli"
    )

    assert score(system, who) == {"score": 1000, "grade": "A", "excluded": {"r1": "contested"}}
    assert case.open and case.due_at == at(2025, 7, 1) and case.authorities == ("rongcheng-gov",)
    with pytest.raises(UsageError, match="written reason"):
        work.decide(case.id, "upheld", "  ", actor="cli")
    with pytest.raises(UsageError, match="not an outcome of a contest case"):
        work.decide(case.id, "approved", "why not", actor="cli")
    decided = work.decide(
        case.id, "upheld", "The camera record shows the plate and the driver.", actor="cli"
    )
    assert decided.outcome == "upheld" and not decided.open
    assert score(system, who)["score"] == 995  # counts again
    kinds = [s.notice.kind for s in system.notices.of(who, actor="cli")]
    assert kinds == ["case_opened", "case_decided"]
    with pytest.raises(UsageError, match="already decided"):
        work.decide(case.id, "overturned", "changed my mind", actor="cli")


def test_deadlines_extend_once_by_two_months_and_overdue_cases_are_listed(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 1, 31, 9))
    [who] = people(1, seed=402)
    system.imports.import_records(
        numbered(
            [
                line("a", who, "traffic-violation", at(2025, 1, 2)),
                line("b", who, "illegal-dumping", at(2025, 1, 3)),
            ]
        )
    )
    work = system.casework
    first = work.contest("a", "Not me.", actor="cli")
    second = work.contest("b", "Not me either.", actor="cli")
    assert first.due_at == at(2025, 2, 28, 9)  # one calendar month, clamped to February's end

    with pytest.raises(UsageError, match="reason"):
        work.extend(first.id, "", actor="cli")
    extended = work.extend(
        first.id, "We are waiting for the traffic police's footage.", actor="cli"
    )
    assert extended.due_at == at(2025, 4, 28, 9) and extended.extended is not None
    with pytest.raises(UsageError, match="already extended once"):
        work.extend(first.id, "Still waiting.", actor="cli")

    moved(system, at(2025, 3, 1))
    assert [c.id for c in work.cases_of(actor="cli", overdue_only=True)] == [second.id]
    moved(system, at(2025, 4, 29))
    # The longest overdue first.
    assert [c.id for c in work.cases_of(actor="cli", overdue_only=True)] == [second.id, first.id]
    work.decide(second.id, "overturned", "No evidence was kept.", actor="cli")
    assert [c.id for c in work.cases_of(actor="cli", overdue_only=True)] == [first.id]
    [told] = [
        s.notice for s in system.notices.of(who, actor="cli") if s.notice.kind == "case_extended"
    ]
    assert "traffic police's footage" in told.text and "2025-04-28" in told.text


def test_repair_waits_for_the_minimum_period_of_the_severity_and_says_from_when(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=403)
    system.imports.import_records(
        numbered(
            [
                line("serious", who, "utility-theft", at(2025, 5, 1), reported_at=at(2025, 5, 10)),
                line(
                    "general", who, "contract-breach", at(2025, 5, 1), reported_at=at(2025, 5, 10)
                ),
                line("minor", who, "illegal-dumping", at(2025, 5, 1), reported_at=at(2025, 5, 10)),
            ]
        )
    )
    work = system.casework

    with pytest.raises(RepairRefused, match="possible from 2026-05-10") as refused:
        work.apply_for_repair(
            "serious", "I paid for the power and the meter is fixed.", actor="cli"
        )
    assert refused.value.opens_at == at(2026, 5, 10)
    with pytest.raises(RepairRefused, match="possible from 2025-08-10"):
        work.apply_for_repair("general", "The contract was settled.", actor="cli")
    minor = work.apply_for_repair("minor", "I cleaned it up the same day.", actor="cli")  # at once
    assert minor.kind == "repair" and minor.open

    lists = {
        e.list
        for e in system.checks.scores(who, scheme="rongcheng-personal", actor="cli")[1][0].entries
    }
    assert "serious-dishonesty" in lists
    moved(system, at(2026, 5, 10))
    case = work.apply_for_repair(
        "serious", "I paid for the power and the meter is fixed.", actor="cli"
    )
    work.decide(case.id, "approved", "Payment receipt and meter inspection on file.", actor="cli")
    evaluation = system.checks.scores(who, scheme="rongcheng-personal", actor="cli")[1][0]
    assert evaluation.explanation.excluded[-1].reason == "repaired"
    assert "serious-dishonesty" not in {e.list for e in evaluation.entries}
    with pytest.raises(UsageError, match="already repaired"):
        work.apply_for_repair("serious", "again", actor="cli")


def test_the_spc_list_allows_early_removal_and_the_flight_ban_lifts_by_itself(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [debtor, flyer] = people(2, seed=404)
    system.imports.import_records(
        numbered(
            [
                line("spc-1", debtor, "able-but-refusing", at(2025, 5, 1), scheme="spc-defaulters"),
                line("caac-1", flyer, "cabin-disorder", at(2025, 5, 1), scheme="caac-flight-ban"),
            ]
        )
    )
    assert system.checks.check(debtor, "travel.air.ticket", actor="cli").decision.effect == "deny"
    work = system.casework

    case = work.apply_for_repair(
        "spc-1", "The judgment debt was paid in full on 30 May.", actor="cli"
    )
    assert (
        system.checks.check(debtor, "travel.air.ticket", actor="cli").decision.effect == "deny"
    )  # until approved
    work.decide(
        case.id, "approved", "The creditor confirmed payment (SPC-LIST art. 10).", actor="cli"
    )
    assert system.checks.check(debtor, "travel.air.ticket", actor="cli").decision.effect == "allow"

    assert (
        system.checks.check(
            flyer, "travel.air.ticket", at=at(2026, 4, 30), actor="cli"
        ).decision.effect
        == "deny"
    )
    assert (
        system.checks.check(
            flyer, "travel.air.ticket", at=at(2026, 5, 1), actor="cli"
        ).decision.effect
        == "allow"
    )


def test_an_adverse_decision_is_referred_and_a_reviewer_overrides_it_for_a_period(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=405)
    system.imports.import_records(
        numbered(
            [
                line(
                    "s1",
                    who,
                    "obstructing-enforcement",
                    at(2025, 5, 1),
                    scheme="spc-defaulters",
                    reported_at=at(2025, 5, 2),
                ),
            ]
        )
    )
    denied = system.checks.check(who, "travel.rail.highspeed", actor="cli")
    allowed = system.checks.check(who, "fee.heating", actor="cli")
    work = system.casework
    with pytest.raises(UsageError, match="only a denial or a raised price"):
        work.refer_decision(allowed.decision_id, "please", actor="cli")

    case = work.refer_decision(
        denied.decision_id, "I must travel to my mother's surgery.", actor="cli"
    )
    # The court's list and the railway's memorandum measure both deny: either may answer.
    assert case.authorities == ("china-railway", "spc")
    assert case.details["action"] == "travel.rail.highspeed"
    with pytest.raises(UsageError, match="until"):
        work.decide(case.id, "overridden", "Medical need.", actor="key:r1@spc", effect="allow")
    work.decide(
        case.id,
        "overridden",
        "Medical need shown by the hospital's letter.",
        actor="key:r1@spc",
        effect="allow",
        until=at(2025, 6, 15),
    )

    later = system.checks.check(
        who, "travel.rail.highspeed", at=at(2025, 6, 10), actor="cli"
    ).decision
    assert later.effect == "allow"
    assert (
        later.reasons[0].source == "override" and "hospital's letter" in later.reasons[0].rationale
    )
    assert later.reasons[1].effect == "deny"  # what the schemes said is still shown
    assert (
        system.checks.check(
            who, "travel.rail.highspeed", at=at(2025, 6, 15), actor="cli"
        ).decision.effect
        == "deny"
    )
    assert (
        system.checks.check(
            who, "travel.air.ticket", at=at(2025, 6, 10), actor="cli"
        ).decision.effect
        == "deny"
    )
    # A check as at a time before the override was made reproduces the old answer.
    assert (
        system.checks.check(
            who, "travel.rail.highspeed", at=at(2025, 5, 30), actor="cli"
        ).decision.effect
        == "deny"
    )


def test_rectification_sets_the_record_aside_and_appends_the_corrected_one(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=406)
    system.imports.import_records(numbered([line("w1", who, "drunk-driving", at(2025, 5, 1))]))
    work = system.casework
    case = work.request_rectification(
        "w1", "It was a parking ticket, not drunk driving.", actor="cli"
    )
    with pytest.raises(UsageError, match="already has an open rectification case"):
        work.request_rectification("w1", "again", actor="cli")
    decided = work.decide(
        case.id,
        "rectified",
        "The police report says parking.",
        category="traffic-violation",
        actor="cli",
    )
    replacement = decided.details["replacement"]
    found = score(system, who)
    assert found["score"] == 995 and found["grade"] == "A"  # the cap at C is gone
    assert found["excluded"] == {"w1": "overturned"}
    assert system.uow.ledger.record(replacement).evidence == f"rectification {case.id}"  # type: ignore[union-attr]
    assert system.integrity.verify() == []


CONSENT_SCHEME = (Path(__file__).parents[1] / "data" / "deposit-club.yaml").read_text()


def consent_system(tmp_path: Path) -> tuple[Services, str]:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    path = tmp_path / "club.yaml"
    path.write_text(textwrap.dedent(CONSENT_SCHEME), encoding="utf-8")
    system.definitions.add_files([path])
    [who] = people(1, seed=407)
    return system, who


def consenting_system(tmp_path: Path) -> tuple[Services, str]:
    """:func:`consent_system` whose subject consented to scoring on 2 May 2025; now is 1 June."""
    system, who = consent_system(tmp_path)
    moved(system, at(2025, 5, 2))
    system.consents.set(who, "deposit-club", "scoring", True, actor="cli")
    moved(system, at(2025, 6, 1))
    return system, who


def club(id: str, who: str, category: str, when: datetime) -> dict[str, str]:
    return line(id, who, category, when, scheme="deposit-club", reporter="club-co")


def test_consent_schemes_take_records_only_with_consent_and_stop_counting_at_withdrawal(
    tmp_path: Path,
) -> None:
    system, who = consent_system(tmp_path)
    report = system.imports.import_records(numbered([club("c0", who, "on-time", at(2025, 5, 1))]))
    assert report.accepted == 0
    assert "has no active consent to 'deposit-club' for 'scoring'" in report.rejected[0].reason

    moved(system, at(2025, 5, 2))
    system.consents.set(who, "deposit-club", "scoring", True, actor="cli")
    with pytest.raises(UsageError, match="already active"):
        system.consents.set(who, "deposit-club", "scoring", True, actor="cli")
    with pytest.raises(UsageError, match="asks consent for scoring, marketing"):
        system.consents.set(who, "deposit-club", "profiling", True, actor="cli")
    moved(system, at(2025, 6, 1))
    report = system.imports.import_records(
        numbered(
            [
                club("c1", who, "on-time", at(2025, 5, 3)),
                club("c2", who, "on-time", at(2025, 5, 1)),  # occurred before consent was given
            ]
        )
    )
    assert report.accepted == 1 and report.rejected[0].record == "c2"
    assert score(system, who, "deposit-club")["score"] == 610

    moved(system, at(2025, 6, 2))
    system.consents.set(who, "deposit-club", "scoring", False, actor="cli")  # one call
    after = score(system, who, "deposit-club")
    assert after == {"score": None, "grade": None, "excluded": {"c1": "no_consent"}}
    assert (
        system.checks.check(who, "deposit.waiver", actor="cli").decision.effect == "allow"
    )  # no grade, no measure
    before = system.checks.scores(who, scheme="deposit-club", at=at(2025, 6, 1, 12), actor="cli")[
        1
    ][0]
    assert before.explanation.score == 610  # as it was known while consent was active
    [view] = system.consents.of(who, actor="cli")
    assert view.active is False and view.periods[0][1] == at(2025, 6, 2)


def test_erasure_on_a_consent_scheme_leaves_a_verifiable_tombstone(tmp_path: Path) -> None:
    system, who = consenting_system(tmp_path)
    work = system.casework
    system.imports.import_records(
        numbered(
            [
                club("e1", who, "late", at(2025, 5, 3)),
                club("e2", who, "on-time", at(2025, 5, 4)),
            ]
        )
    )
    system.notices.sweep()
    outcome = work.request_erasure("e1", "Erase what you hold about my payments.", actor="cli")

    assert outcome.erased and outcome.case is None
    record = system.uow.ledger.record("e1")
    assert record is not None and record.category == "" and record.evidence is None
    assert record.points == 0 and record.occurred_at == record.reported_at
    assert score(system, who, "deposit-club")["excluded"] == {"e1": "erased"}
    assert system.integrity.verify() == []
    kinds = {s.notice.source.split(":")[0] for s in system.notices.of(who, actor="cli")}
    assert "erased" in kinds and not any(
        s.notice.source == "record:e1" for s in system.notices.of(who, actor="cli")
    )
    with pytest.raises(UsageError, match="already erased"):
        work.request_erasure("e1", "again", actor="cli")


def test_verify_still_catches_a_rewrite_before_an_erased_record(tmp_path: Path) -> None:
    system, who = consenting_system(tmp_path)
    system.imports.import_records(
        numbered(
            [
                club("f1", who, "late", at(2025, 5, 3)),
                club("f2", who, "on-time", at(2025, 5, 4)),
            ]
        )
    )
    system.casework.request_erasure("f2", "Erase it.", actor="cli")
    path = tmp_path / "ledger.db"
    # Rewrite the record before the erased one and give it a hash that matches
    # its new contents: only the erased record's seal can notice.
    [(subject, seq)] = sql(path, "SELECT subject, seq FROM records WHERE id = 'f1'")
    sql(path, "DROP TRIGGER records_erase_only")
    fields = (
        subject,
        seq,
        "f1",
        "deposit-club",
        "1",
        "on-time",
        "2025-05-03T00:00:00+00:00",
        "2025-06-01T00:00:00+00:00",
        "2026-05-03T00:00:00+00:00",
        "10",
        "club-co",
        None,
    )
    forged = link_hash("0" * 64, "record", fields)
    sql(
        path,
        "UPDATE records SET category='on-time', points=10, reported_at=?, hash=? WHERE id='f1'",
        ("2025-06-01T00:00:00+00:00", forged),
    )
    problems = [str(p) for p in system.integrity.verify()]
    assert any("record 'f2'" in p and "seal" in p for p in problems), problems


def test_erasure_under_public_task_restricts_instead_until_a_reviewer_answers(
    tmp_path: Path,
) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=408)
    system.imports.import_records(numbered([line("p1", who, "traffic-violation", at(2025, 5, 1))]))
    work = system.casework
    outcome = work.request_erasure("p1", "Please delete this.", actor="cli")
    assert not outcome.erased and outcome.case is not None
    assert "public_task" in outcome.why and "2030-05-01" in outcome.why
    assert score(system, who)["excluded"] == {"p1": "restricted"}
    work.decide(outcome.case.id, "kept", "The city must keep it for its public task.", actor="cli")
    assert score(system, who)["score"] == 995


def test_retention_is_a_dry_run_unless_applied(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=409)
    system.imports.import_records(
        numbered(
            [
                line("old", who, "volunteering-8h", at(2020, 5, 1), reported_at=at(2020, 5, 2)),
                line("new", who, "volunteering-8h", at(2025, 5, 1)),
            ]
        )
    )
    dry = system.retention.run(actor="retention")
    assert [i.record for i in dry.items] == ["old"] and not dry.applied
    assert system.uow.ledger.record("old").category == "volunteering-8h"  # type: ignore[union-attr]
    applied = system.retention.run(apply=True, actor="retention")
    assert applied.by_scheme() == {"rongcheng-personal": 1}
    assert system.uow.ledger.record("old").category == ""  # type: ignore[union-attr]
    assert system.retention.run(actor="retention").items == [] and system.integrity.verify() == []


def test_notices_are_built_by_a_sweep_and_drained_by_a_channel(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=410)
    system.imports.import_records(
        numbered(
            [
                line("n1", who, "able-but-refusing", at(2025, 5, 1), scheme="spc-defaulters"),
            ]
        )
    )
    system.checks.check(who, "travel.air.ticket", actor="cli")

    built = system.notices.sweep().built
    assert built == {"record_reported": 1, "decision_adverse": 1, "list_entered": 1}
    assert system.notices.sweep().built == {}  # idempotent

    outbox = tmp_path / "notices.jsonl"
    assert system.notices.deliver(FileChannel(outbox)) == 3
    assert system.notices.deliver(FileChannel(outbox)) == 0
    sent = [orjson.loads(text) for text in outbox.read_text().splitlines()]
    reported = next(n for n in sent if n["kind"] == "record_reported")
    assert "contest n1" in reported["how_to_contest"] and who.split(":")[1] not in str(sent)
    denied = next(n for n in sent if n["kind"] == "decision_adverse")
    assert denied["reasons"][0]["effect"] == "deny" and "refer" in denied["how_to_contest"]

    moved(system, at(2027, 5, 2))  # the two-year entry has ended
    assert system.notices.sweep().built == {"list_left": 1}
    stored = system.notices.of(who, actor="cli")
    assert [s.delivered_at is not None for s in stored] == [True, True, True, False]


def test_a_discount_is_not_adverse_no_notice_and_no_referral(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=411)
    system.imports.import_records(
        numbered([line(f"h{n}", who, "heroic-act", at(2025, 5, n)) for n in (1, 2)])
    )
    discount = system.checks.check(
        who, "fee.heating", actor="cli"
    )  # AAA: the heating fee is reduced
    assert (discount.decision.effect, discount.decision.factor) == ("adjust", 0.9)
    assert system.notices.sweep().built.get("decision_adverse") is None
    with pytest.raises(UsageError, match="only a denial or a raised price"):
        system.casework.refer_decision(discount.decision_id, "why not", actor="cli")


def test_a_sweep_works_through_the_records_a_chunk_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("socialcredit.services.notices.SWEEP_CHUNK", 3)
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    residents = people(4, seed=412)
    system.imports.import_records(
        numbered(
            [
                line(f"k{n:02d}", residents[n % 4], "volunteering-8h", at(2025, 5, 1 + n))
                for n in range(10)
            ]
        )
    )
    assert system.notices.sweep().built == {"record_reported": 10}
    assert system.notices.sweep().built == {}
    told = {s.notice.source for r in residents for s in system.notices.of(r, actor="cli")}
    assert told == {f"record:k{n:02d}" for n in range(10)}


def test_a_subject_is_told_each_time_a_frozen_entry_comes_back_and_ends(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=413)
    system.imports.import_records(
        numbered(
            [
                line("l1", who, "able-but-refusing", at(2025, 5, 1), scheme="spc-defaulters"),
            ]
        )
    )
    work = system.casework

    def told() -> list[str]:
        return [
            s.notice.kind
            for s in system.notices.of(who, actor="cli")
            if s.notice.kind.startswith("list_")
        ]

    system.notices.sweep()
    case = work.contest("l1", "I paid in April.", actor="cli")
    system.notices.sweep()
    assert told() == ["list_entered", "list_left"]  # frozen: off the list at once
    work.decide(case.id, "upheld", "The court has no record of payment.", actor="cli")
    system.notices.sweep()
    assert told() == ["list_entered", "list_left", "list_entered"]  # back on it
    moved(system, at(2027, 5, 2))
    system.notices.sweep()
    assert told() == ["list_entered", "list_left", "list_entered", "list_left"]
    assert system.notices.sweep().built == {}


def test_terms_an_outcome_would_ignore_are_refused(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=414)
    system.imports.import_records(numbered([line("q1", who, "traffic-violation", at(2025, 5, 1))]))
    case = system.casework.contest("q1", "Not my car.", actor="cli")
    with pytest.raises(UsageError, match="belong to an overridden decision review"):
        system.casework.decide(case.id, "upheld", "seen", effect="allow", actor="cli")
    with pytest.raises(UsageError, match="belong to a rectified record"):
        system.casework.decide(case.id, "upheld", "seen", category="illegal-dumping", actor="cli")
    assert system.casework.case(case.id, actor="cli").open  # nothing was decided


def test_a_case_on_a_record_erased_meanwhile_can_still_be_closed(tmp_path: Path) -> None:
    system, who = consenting_system(tmp_path)
    work = system.casework
    system.imports.import_records(numbered([club("z1", who, "late", at(2025, 5, 3))]))
    case = work.contest("z1", "I paid on time.", actor="cli")
    work.request_erasure("z1", "Erase it all.", actor="cli")
    closed = work.decide(case.id, "overturned", "Nothing is left to review.", actor="cli")
    assert not closed.open and closed.details == {"record": "erased before the decision"}
    assert work.cases_of(actor="cli", overdue_only=True) == []


def test_an_override_never_makes_an_answer_worse_than_the_schemes_give(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    [who] = people(1, seed=415)
    system.imports.import_records(
        numbered(
            [
                line(
                    "o1",
                    who,
                    "obstructing-enforcement",
                    at(2025, 5, 1),
                    scheme="spc-defaulters",
                    reported_at=at(2025, 5, 2),
                ),
            ]
        )
    )
    denied = system.checks.check(who, "hotel.star", actor="cli")
    work = system.casework
    case = work.refer_decision(denied.decision_id, "A work trip.", actor="cli")
    work.decide(
        case.id,
        "overridden",
        "Work trip approved by the court.",
        actor="key:r@spc",
        effect="adjust",
        factor=1.5,
        until=at(2026, 1, 1),
    )
    assert system.checks.check(who, "hotel.star", actor="cli").decision.factor == 1.5
    repair = work.apply_for_repair("o1", "The judgment was performed.", actor="cli")
    work.decide(repair.id, "approved", "The creditor confirmed payment.", actor="cli")
    after = system.checks.check(who, "hotel.star", actor="cli").decision
    assert (after.effect, after.reasons) == ("allow", ())  # off the list: no surcharge left


def test_a_rectified_replacement_needs_consent_like_any_record(tmp_path: Path) -> None:
    system, who = consenting_system(tmp_path)
    work = system.casework
    system.imports.import_records(numbered([club("r1", who, "late", at(2025, 5, 3))]))
    case = work.request_rectification("r1", "It was paid on time.", actor="cli")
    moved(system, at(2025, 6, 2))
    system.consents.set(who, "deposit-club", "scoring", False, actor="cli")
    with pytest.raises(UsageError, match="no active consent"):
        work.decide(
            case.id, "rectified", "Paid on time after all.", category="on-time", actor="cli"
        )
    assert work.case(case.id, actor="cli").open  # nothing was half-done: the record still stands
    assert system.uow.ledger.record("r1") is not None and system.integrity.verify() == []


RIDERS = """\
type: scheme
id: rider-rating
title: Rider excellence score
authority: {id: courier, name: Courier Co, kind: commercial}
context: delivery-work
lawful_basis: contract
subjects: [person]
retention: P1Y
referral: false
repair: {after: {general: P6M}}
score: {base: 100}
grades: [{name: ok, min: 90}, {name: low}]
lists: [{id: no-shows, kind: black, duration: P6M}]
categories:
  - {code: no-show, title: Booked a shift and did not come, points: -20, severity: general,
     validity: P1Y, lists: [no-shows]}
measures:
  - {on: {grades: [low]}, action: work.slot.early-booking, effect: deny, context: delivery-work,
     rationale: Riders who miss shifts book last.}
"""


# Another authority acting on the courier's list: its decisions are its own,
# and open to referral whatever the courier's scheme says.
PERMITS = """\
type: memorandum
id: courier-permits
title: Transport permits for riders on the no-show list
signatories: [{id: city-transport, name: City transport office}]
on: {scheme: rider-rating, list: no-shows}
measures:
  - {authority: city-transport, action: transport.courier-permit, effect: deny,
     context: delivery-work, rationale: Riders who miss shifts wait for a permit.}
"""


def test_a_scheme_that_turns_referral_off_and_sets_its_own_repair_wait(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    system.definitions.add_text(RIDERS)
    system.definitions.add_text(PERMITS)
    [rider] = people(1, seed=409)
    system.imports.import_records(
        numbered(
            [
                line(
                    "n1",
                    rider,
                    "no-show",
                    at(2025, 5, 1),
                    scheme="rider-rating",
                    reported_at=at(2025, 5, 2),
                )
            ]
        )
    )
    denied = system.checks.check(rider, "work.slot.early-booking", actor="cli")
    assert denied.decision.effect == "deny"
    # referral: false -- the platform honours it, and the eu linter reports it.
    with pytest.raises(UsageError, match="takes no referrals"):
        system.casework.refer_decision(denied.decision_id, "I was ill.", actor="cli")
    permit = system.checks.check(rider, "transport.courier-permit", actor="cli")
    assert permit.decision.effect == "deny"
    case = system.casework.refer_decision(permit.decision_id, "I was ill.", actor="cli")
    assert case.authorities == ("city-transport",)
    # repair: {after: {general: P6M}} -- longer than the 3-month minimum.
    with pytest.raises(RepairRefused, match="possible from 2025-11-02"):
        system.casework.apply_for_repair("n1", "I have not missed a shift since.", actor="cli")
    moved(system, at(2025, 11, 2))
    case = system.casework.apply_for_repair("n1", "I have not missed a shift since.", actor="cli")
    assert case.kind == "repair"
