"""The pure rules of due process: case deadlines, repair periods, consent
periods, overrides and notices (socialcredit.domain.rights)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from socialcredit.domain.consent import ConsentChange, active_at, periods
from socialcredit.domain.ledger.records import Record
from socialcredit.domain.rights import notices
from socialcredit.domain.rights.cases import (
    CaseError,
    CaseEvent,
    check_decision,
    check_extension,
    fold,
)
from socialcredit.domain.rights.overrides import Override, apply_overrides
from socialcredit.domain.rights.repair import check_application, repair_opens_at
from socialcredit.domain.sanctions.check import Decision, Reason
from socialcredit.errors import RepairRefused


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def opened(when: datetime, kind: str = "contest") -> CaseEvent:
    body = {"kind": kind, "statement": "wrong", "record": "r1", "scheme": "s", "authorities": ["a"]}
    return CaseEvent("c1", "subj", 1, "opened", when, "subject", body)


@pytest.mark.parametrize(
    ("opened_at", "due", "extended"),
    [
        (at(2025, 1, 15), at(2025, 2, 15), at(2025, 4, 15)),
        (at(2025, 1, 31), at(2025, 2, 28), at(2025, 4, 28)),  # month ends clamp
        (at(2024, 12, 31, 23, 59), at(2025, 1, 31, 23, 59), at(2025, 3, 31, 23, 59)),
    ],
)
def test_a_case_is_due_in_one_month_and_an_extension_adds_two(
    opened_at: datetime, due: datetime, extended: datetime
) -> None:
    case = fold([opened(opened_at)])
    assert case.due_at == due and case.open
    assert not case.overdue(due) and case.overdue(due.replace(second=1))
    later = fold(
        [
            opened(opened_at),
            CaseEvent(
                "c1", "subj", 2, "extended", opened_at, "rev", {"reason": "waiting for police"}
            ),
        ]
    )
    assert later.due_at == extended and later.extended == "waiting for police"
    with pytest.raises(CaseError, match="already extended once"):
        check_extension(later, "more", opened_at)
    with pytest.raises(CaseError, match="overdue since"):  # an extension comes before the deadline
        check_extension(case, "too late", due.replace(second=1))
    check_extension(case, "in time", due)


def test_a_decision_needs_an_outcome_of_its_kind_and_a_reason() -> None:
    case = fold([opened(at(2025, 1, 1), "repair")])
    with pytest.raises(CaseError, match="approved, denied"):
        check_decision(case, "upheld", "x")
    with pytest.raises(CaseError, match="written reason"):
        check_decision(case, "approved", " ")
    done = fold(
        [
            opened(at(2025, 1, 1), "repair"),
            CaseEvent(
                "c1",
                "subj",
                2,
                "decided",
                at(2025, 1, 9),
                "rev",
                {"outcome": "approved", "reason": "paid"},
            ),
        ]
    )
    assert (done.outcome, done.decided_at, done.open) == ("approved", at(2025, 1, 9), False)
    assert not done.overdue(at(2026, 1, 1))
    with pytest.raises(CaseError, match="already decided"):
        check_decision(done, "denied", "no")


@pytest.mark.parametrize(
    ("severity", "opens"),
    [("minor", at(2025, 3, 10)), ("general", at(2025, 6, 10)), ("serious", at(2026, 3, 10))],
)
def test_repair_opens_after_the_minimum_publication_period(severity: str, opens: datetime) -> None:
    reported = at(2025, 3, 10)
    assert repair_opens_at(severity, reported, early_removal=False) == opens  # type: ignore[arg-type]
    assert repair_opens_at(severity, reported, early_removal=True) == reported  # type: ignore[arg-type]
    check_application("r", severity, reported, False, opens)  # type: ignore[arg-type]
    if opens > reported:
        with pytest.raises(RepairRefused, match=f"possible from {opens.date().isoformat()}"):
            check_application("r", severity, reported, False, opens - timedelta(seconds=1))  # type: ignore[arg-type]


def test_consent_periods_follow_grants_and_withdrawals_per_scheme_and_purpose() -> None:
    def change(granted: bool, when: datetime, purpose: str = "scoring") -> ConsentChange:
        return ConsentChange("s", "club", purpose, granted, when, "subject")

    changes = [
        change(True, at(2025, 1, 1)),
        change(True, at(2025, 1, 2), "marketing"),
        change(False, at(2025, 2, 1)),
        change(True, at(2025, 3, 1)),
    ]
    spans = periods(changes, "club", "scoring")
    assert spans == [(at(2025, 1, 1), at(2025, 2, 1)), (at(2025, 3, 1), None)]
    assert active_at(spans, at(2025, 1, 31)) and not active_at(spans, at(2025, 2, 1))
    assert active_at(spans, at(2030, 1, 1)) and not active_at(spans, at(2024, 12, 31))
    assert periods(changes, "club", "marketing") == [(at(2025, 1, 2), None)]
    assert periods(changes, "other", "scoring") == []


def test_an_override_replaces_the_effect_only_while_in_force_and_once_known() -> None:
    deny = Reason("deny", None, "list", "spc", "spc", "judicial", "listed")
    decision = Decision("travel.air.ticket", at(2025, 6, 5), "deny", None, (deny,))
    override = Override(
        "s",
        "travel.air.ticket",
        "allow",
        None,
        at(2025, 6, 1),
        at(2025, 6, 10),
        "c1",
        "spc",
        "spc",
        "medical need",
        at(2025, 6, 1),
    )
    applied = apply_overrides(decision, [override])
    assert applied.effect == "allow" and applied.reasons[0].source == "override"
    assert applied.reasons[1] == deny
    for moment in (at(2025, 5, 31), at(2025, 6, 10)):
        outside = Decision("travel.air.ticket", moment, "deny", None, (deny,))
        assert apply_overrides(outside, [override]) == outside
    other = Decision("hotel.star", at(2025, 6, 5), "deny", None, (deny,))
    assert apply_overrides(other, [override]) == other


def test_notices_say_why_and_how_to_contest_and_have_stable_ids() -> None:
    record = Record(
        "r9",
        "subj",
        "city",
        1,
        "litter",
        at(2025, 1, 1),
        at(2025, 1, 2),
        at(2025, 4, 1),
        -5,
        "police",
        "photo-3",
    )
    first = notices.record_reported(record, "1101**", "City points", "Littering", at(2025, 1, 3))
    again = notices.record_reported(record, "1101**", "City points", "Littering", at(2025, 2, 3))
    assert first.id == again.id and first.source == "record:r9"
    assert "-5 points" in first.text and "contest r9" in first.contest
    assert first.reasons[0]["evidence"] == "photo-3"
