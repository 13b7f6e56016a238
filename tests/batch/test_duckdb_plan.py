"""The DuckDB engine answers as the per-subject engine does, on generated
ledgers: several schemes and versions, limits, caps, lists with and without a
duration, a grade-held list, backdated reports, contests and other events in
any order, consents, enrolments, rescorings and monthly recomputation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from batch_support import (
    GeneratedLedger,
    batch_evaluations,
    ledgers,
    parse_scheme,
    scheme_text,
)
from hypothesis import HealthCheck, given, settings

from socialcredit.adapters.analytics.duckdb_engine import DuckDBEngine
from socialcredit.adapters.analytics.engine import Ledger
from socialcredit.adapters.analytics.tables import DefinitionTables, definition_tables
from socialcredit.domain.schemes.compiled import SchemeHistory, compile_scheme


def _batch(ledger: GeneratedLedger, tables: DefinitionTables, at: datetime) -> dict[Any, Any]:
    engine = DuckDBEngine(threads=1)
    try:
        engine.evaluate(Ledger(tables=ledger.arrow()), tables, at)
        return batch_evaluations(engine.results())
    finally:
        engine.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledger=ledgers())
def test_duckdb_equals_the_per_subject_engine(ledger: GeneratedLedger) -> None:
    at = ledger.at
    tables = definition_tables(ledger.histories)
    want = ledger.expected(tables.schemes)
    got = _batch(ledger, tables, at)
    assert set(got) == set(want)
    for pair in sorted(want):
        assert got[pair] == want[pair], pair


def test_a_scheme_the_plan_cannot_follow_exactly_is_left_out_with_the_reason() -> None:
    first = scheme_text(
        "s1",
        base=100,
        bounds=(None, None),
        monthly=False,
        consent=False,
        list_duration=None,
        categories=[{"code": "a", "points": -5, "validity": "P1Y", "limit": (1, "month")}],
    )
    # Another count, or another period (in the per-subject engine a day's slot and
    # a week's can be the same one: a Monday's date keys both).
    for second in (first.replace("count: 1", "count: 2"), first.replace("month", "week")):
        history = SchemeHistory(
            {1: compile_scheme(parse_scheme(first), 1), 2: compile_scheme(parse_scheme(second), 2)}
        )
        tables = definition_tables({"s1": history})
        assert tables.schemes == []
        assert tables.skipped == {"s1": "its versions give category 'a' different limits"}
