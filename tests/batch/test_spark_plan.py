"""The same plan on Apache Spark (local mode) answers as the per-subject
engine does. Spark pays seconds per run, so each example evaluates a dozen
generated ledgers at once, named apart."""

from __future__ import annotations

from typing import Any

from batch_support import GeneratedLedger, batch_evaluations, merged, several
from hypothesis import HealthCheck, given, settings

from socialcredit.adapters.analytics.engine import Ledger
from socialcredit.adapters.analytics.tables import definition_tables


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(parts=several(12))
def test_spark_equals_the_per_subject_engine(spark: Any, parts: list[GeneratedLedger]) -> None:
    from socialcredit.adapters.analytics.spark_engine import SparkEngine

    ledger = merged(parts)
    at = ledger.at
    tables = definition_tables(ledger.histories)
    want = ledger.expected(tables.schemes)
    engine = SparkEngine(spark)
    try:
        engine.evaluate(Ledger(tables=ledger.arrow()), tables, at)
        got = batch_evaluations(engine.results())
    finally:
        engine.close()
    assert set(got) == set(want)
    assert [pair for pair in sorted(want) if got[pair] != want[pair]] == []
