"""docs/compliance.md states each shipped definition's findings; this keeps it honest."""

from __future__ import annotations

import re
from pathlib import Path

from socialcredit.adapters.files.definitions import validate_files
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.schemes.linter import lint

DOC = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"


def test_the_table_in_the_compliance_doc_matches_the_linter() -> None:
    rows = {
        name: (int(errors), int(warnings), int(cn))
        for name, errors, warnings, cn in re.findall(
            r"^\| `([\w.-]+\.yaml)` \| (\d+) \| (\d+) \| (\d+) \|$", DOC.read_text(), re.M
        )
    }
    loaded = validate_files(shipped_scheme_files())
    schemes = {i.definition.id: i.definition for i in loaded if i.definition.type == "scheme"}
    assert set(rows) == {Path(i.source).name for i in loaded}
    for item in loaded:
        eu = lint(item.definition, "eu", schemes)
        cn = lint(item.definition, "cn", schemes)
        counted = (
            sum(f.severity == "error" for f in eu),
            sum(f.severity == "warning" for f in eu),
            len(cn),
        )
        assert rows[Path(item.source).name] == counted, item.source


def test_the_court_memorandum_fails_the_eu_profile_as_the_doc_says() -> None:
    loaded = validate_files(shipped_scheme_files())
    schemes = {i.definition.id: i.definition for i in loaded if i.definition.type == "scheme"}
    [memo] = [i.definition for i in loaded if i.definition.id == "ndrc-2016-141"]
    assert any(
        f.severity == "error" and f.rule == "AI Act art. 5(1)(c)(i)"
        for f in lint(memo, "eu", schemes)
    )
