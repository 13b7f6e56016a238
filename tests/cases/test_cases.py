"""Published judgments and decisions (and, marked as such, an authority's
statements and rules applied to a test scheme), each encoded as a scheme file
with the findings the decision reached (tests/cases/*/case.yaml). The linter must
report exactly those findings under the profiles the decision speaks to:
each of them, and nothing the decision does not support.

Where a case turns on facts a scheme file cannot express, its case.yaml says
so under ``beyond_the_file``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from socialcredit.adapters.files.definitions import validate_files
from socialcredit.domain.compliance import PROFILES, RULES, lint
from socialcredit.domain.schemes.models import Scheme

CASES = Path(__file__).parent
CASE_DIRS = sorted(p.parent for p in CASES.glob("*/case.yaml"))
REQUIRED = ("kind", "title", "decided_by", "reference", "date", "source", "held", "findings")
# What a case rests on: a court's judgment or an authority's decision; an
# authority's published statements; or rules (a judicial interpretation, a
# ministry's order) applied to a scheme written to test them.
KINDS = ("judgment", "decision", "statements", "rules")


def case(directory: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((directory / "case.yaml").read_text("utf-8"))
    return loaded


def test_the_corpus_holds_at_least_eight_decisions_and_judgments() -> None:
    kinds = [case(d)["kind"] for d in CASE_DIRS]
    assert set(kinds) <= set(KINDS)
    assert sum(kind in ("judgment", "decision") for kind in kinds) >= 8


@pytest.mark.parametrize("directory", CASE_DIRS, ids=[d.name for d in CASE_DIRS])
def test_the_linter_reaches_the_decisions_findings(directory: Path) -> None:
    about = case(directory)
    assert all(about.get(field) for field in REQUIRED if field != "findings"), directory
    assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", str(about["date"])), about["date"]
    assert str(about["source"]).startswith(("http://", "https://"))
    expected: dict[str, list[dict[str, str]]] = about["findings"]
    assert expected and set(expected) <= set(PROFILES)
    assert about["kind"] in KINDS
    loaded = validate_files(sorted(directory.glob("scheme*.yaml")))
    schemes = {i.definition.id: i.definition for i in loaded if isinstance(i.definition, Scheme)}
    for profile, wanted in expected.items():
        assert all(w["rule"] in RULES and RULES[w["rule"]].profile == profile for w in wanted)
        reached = sorted(
            (f.rule, f.severity, f.path)
            for item in loaded
            for f in lint(item.definition, profile, schemes)  # type: ignore[arg-type]
        )
        assert reached == sorted((w["rule"], w["severity"], w["path"]) for w in wanted), profile
