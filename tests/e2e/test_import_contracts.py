"""The layering is kept by import-linter's contracts (pyproject.toml), which
``./dev test`` runs. These show that the contracts would catch what they are
for: each plants one forbidden import in a copy of the package and runs
``lint-imports`` on the copy."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(tmp_path: Path, module: str, line: str) -> subprocess.CompletedProcess[str]:
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "socialcredit",
        copy / "socialcredit",
        ignore=shutil.ignore_patterns("__pycache__", "*.so"),
    )
    planted = copy / "socialcredit" / module
    planted.write_text(planted.read_text() + f"\n{line}\n")
    env = {**os.environ, "PYTHONPATH": str(copy)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        (
            "domain/ledger/records.py",
            "import socialcredit.adapters.db.ledger",
            ["Layers: each imports only the layers below it BROKEN", "The domain is pure"],
        ),
        (
            "entrypoints/cli/reading.py",
            "from socialcredit.adapters.db.ledger import LedgerRows",
            ["Entry points call use cases, never a store BROKEN"],
        ),
        (
            "pilots/mobility/store.py",
            "from socialcredit.services.subjects import Subjects",
            ["Pilots reach the core only through its public API and hooks BROKEN"],
        ),
        (
            "domain/schemes/models.py",
            "import socialcredit.domain.scoring.engine",
            ["No import cycles, at any depth BROKEN"],
        ),
        (
            "domain/scoring/engine.py",
            "from socialcredit.domain.fairness import AuditAttributes",
            ["Nothing that scores or decides reads the fairness audit's attributes BROKEN"],
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, broken: list[str]
) -> None:
    done = _lint(tmp_path, module, line)
    report = " ".join(done.stdout.split())  # the report wraps long contract names
    assert done.returncode != 0, done.stdout
    for contract in broken:
        assert contract in report, done.stdout


def test_the_package_as_it_is_keeps_every_contract(tmp_path: Path) -> None:
    done = _lint(tmp_path, "domain/__init__.py", "# nothing planted")
    assert done.returncode == 0, done.stdout
    assert "Contracts: 6 kept, 0 broken." in done.stdout


# What a plugin may take from the unit of work: its own tables' database, the
# transaction that spans them and the core's writes, and the shared clock. The
# core's repositories (ledger, audit, due process, registry, keys) are reached
# through the use cases, which log and check; an import contract cannot see an
# attribute, so this does.
PLUGIN_UOW_PARTS = {"database", "transaction", "clock"}


def test_plugins_reach_the_core_store_only_through_use_cases() -> None:
    sources = [
        *(ROOT / "src" / "socialcredit" / "pilots").rglob("*.py"),
        *(ROOT / "examples").rglob("*.py"),
    ]
    reached = {
        (str(path.relative_to(ROOT)), part)
        for path in sources
        for part in re.findall(r"\buow\.(\w+)", path.read_text("utf-8"))
    }
    assert reached, "the pilots use the unit of work for their own tables"
    assert {(path, part) for path, part in reached if part not in PLUGIN_UOW_PARTS} == set()
