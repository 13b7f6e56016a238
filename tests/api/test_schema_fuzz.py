"""Schemathesis drives every operation in /openapi.json over real HTTP: no
input it generates may produce a 5xx or a response that breaks the schema.

The cases come from schemathesis' Hypothesis strategies directly (its pytest
plugin does not support this pytest yet)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from conftest import Service

# The key that may call each operation, so generated requests get past
# authentication and reach the code that parses them.
CALLER = {
    ("POST", "/schemes"): "admin",
    ("POST", "/records"): "city",
    ("GET", "/records/{record_id}"): "city",
    ("POST", "/records/{record_id}/contest"): "resident",
    ("POST", "/records/{record_id}/review"): "city-reviewer",
    ("POST", "/subjects/{identifier}/enrol"): "city",
    ("GET", "/subjects/{identifier}/check"): "rail",
    ("POST", "/cases/{case_id}/extend"): "city-reviewer",
    ("POST", "/cases/{case_id}/decision"): "city-reviewer",
    ("GET", "/cases"): "city-reviewer",
    ("POST", "/notices/sweep"): "admin",
    ("POST", "/retention/run"): "admin",
}
CHECKS = [not_a_server_error, response_schema_conformance]


def _fuzz(operation: schemathesis.APIOperation, headers: dict[str, str], calls: list[str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)
        calls.append(operation.label)

    run()


def test_no_input_causes_a_server_error_or_breaks_the_schema(service: Service) -> None:
    schema = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    calls: list[str] = []
    for operation in operations:
        who = CALLER.get((operation.method.upper(), operation.path), "resident")
        _fuzz(operation, {"Authorization": f"Bearer {service.keys[who]}"}, calls)
    assert {op.label for op in operations} == set(calls)
    assert len(calls) >= 5 * len(operations)
