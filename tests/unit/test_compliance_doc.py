"""docs/compliance.md states each rule's provision and test, and each shipped
definition's and case's findings; this keeps it honest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from socialcredit.adapters.files.definitions import validate_files
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.compliance import RULES, lint
from socialcredit.domain.schemes.models import Scheme

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "compliance.md"
CASES = ROOT / "tests" / "cases"


def _sections() -> dict[str, str]:
    """Each ``### heading`` of the doc and the text under it."""
    parts = re.split(r"^### (.+)$", DOC.read_text("utf-8"), flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _section_of(rule: str) -> str:
    found = [
        text
        for heading, text in _sections().items()
        if re.search(rf"(?<![\w.-]){re.escape(rule)}(?![\w.-])", heading)
    ]
    assert len(found) == 1, f"{rule}: {len(found)} sections name it"
    return found[0]


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_quotes_its_provision_and_names_a_test_that_exists(rule: str) -> None:
    section = _section_of(rule)
    quote = [line for line in section.splitlines() if line.startswith("> ")]
    assert len(quote) >= 2, f"{rule}: no quoted provision"
    assert "**Fires when:**" in section and "**Severity:**" in section, rule
    [(path, name)] = re.findall(r"^Test: `([\w/.]+\.py)::(\w+)`$", section, re.M)
    source = (ROOT / path).read_text("utf-8")
    body = re.search(rf"^def {name}\(.*?(?=^def |^@|\Z)", source, re.M | re.S)
    assert body, (rule, name)
    assert f'"{rule}"' in body.group(0), f"{name} does not exercise {rule}"


def _table() -> dict[str, tuple[int, int, int, int]]:
    return {
        name: (int(a), int(b), int(c), int(d))
        for name, a, b, c, d in re.findall(
            r"^\| `([\w.-]+)` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", DOC.read_text("utf-8"), re.M
        )
    }


def _counts(loaded: list) -> list[tuple[object, tuple[int, int, int, int]]]:
    schemes = {i.definition.id: i.definition for i in loaded if isinstance(i.definition, Scheme)}
    rows = []
    for item in loaded:
        eu = lint(item.definition, "eu", schemes)
        cn = lint(item.definition, "cn", schemes)
        rows.append(
            (
                item,
                (
                    sum(f.severity == "error" for f in eu),
                    sum(f.severity == "warning" for f in eu),
                    sum(f.severity == "error" for f in cn),
                    sum(f.severity == "warning" for f in cn),
                ),
            )
        )
    return rows


def test_the_table_of_shipped_schemes_matches_the_linter() -> None:
    table = _table()
    loaded = validate_files(shipped_scheme_files())
    for item, counted in _counts(loaded):
        assert table[Path(item.source).name] == counted, item.source


def test_the_table_of_cases_matches_the_linter() -> None:
    table = _table()
    directories = sorted(p.parent for p in CASES.glob("*/case.yaml"))
    assert directories and {d.name for d in directories} <= set(table)
    for directory in directories:
        [(_, counted)] = _counts(validate_files(sorted(directory.glob("scheme*.yaml"))))
        assert table[directory.name] == counted, directory.name


def test_the_court_memorandum_fails_the_eu_profile_as_the_doc_says() -> None:
    loaded = validate_files(shipped_scheme_files())
    schemes = {i.definition.id: i.definition for i in loaded if i.definition.type == "scheme"}
    [memo] = [i.definition for i in loaded if i.definition.id == "ndrc-2016-141"]
    assert any(
        f.severity == "error" and f.rule == "eu.unrelated-context"
        for f in lint(memo, "eu", schemes)
    )


def test_the_table_of_real_cases_matches_the_case_files() -> None:
    rows = re.findall(
        r"^\| `([\w-]+)` \| (judgment|decision|statements|rules) \| .*\| (.*) \|$",
        DOC.read_text("utf-8"),
        re.M,
    )
    table = {
        name: (kind, set(re.findall(r"`((?:eu|cn)\.[\w-]+)`", found))) for name, kind, found in rows
    }
    directories = sorted(p.parent for p in CASES.glob("*/case.yaml"))
    assert set(table) == {d.name for d in directories}
    for directory in directories:
        about = yaml.safe_load((directory / "case.yaml").read_text("utf-8"))
        rules = {f["rule"] for findings in about["findings"].values() for f in findings}
        assert table[directory.name] == (about["kind"], rules), directory.name
