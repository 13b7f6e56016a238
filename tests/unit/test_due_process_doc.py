"""docs/due-process.md stays honest: every CLI command and every HTTP path its
table names exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from socialcredit.entrypoints.cli.main import app as cli_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "due-process.md"


def _table_rows() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8").split("## CLI and HTTP", 1)[1]
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) == 3 and cells[1].startswith("`"):
            rows.append((cells[1], cells[2]))
    return rows


def _commands(cell: str) -> list[list[str]]:
    """Command words of each backticked command, alternatives (a|b) expanded."""
    found = []
    for code in re.findall(r"`([^`]+)`", cell):
        words = []
        for word in code.split():
            if not re.fullmatch(r"[a-z|]+", word.replace("\\", "")):
                break
            words.append(word.replace("\\", ""))
        alternatives = [w.split("|") for w in words]
        combos: list[list[str]] = [[]]
        for options in alternatives:
            combos = [[*combo, option] for combo in combos for option in options]
        found.extend(combos)
    return found


def test_every_cli_command_in_the_table_exists() -> None:
    root = typer.main.get_command(cli_app)
    checked = 0
    for cli_cell, _ in _table_rows():
        for words in _commands(cli_cell):
            command: Any = root
            for word in words:
                assert hasattr(command, "get_command"), f"`{' '.join(words)}`: not a group"
                found = command.get_command(None, word)
                assert found is not None, f"docs name `{' '.join(words)}`, which the CLI lacks"
                command = found
            checked += 1
    assert checked >= 15


def test_every_http_path_in_the_table_exists() -> None:
    from socialcredit.entrypoints.api import create_app

    class _NoSystem:  # building the routes needs no store
        pass

    paths = create_app(_NoSystem()).openapi()["paths"]  # type: ignore[arg-type]
    shape = {re.sub(r"\{[^}]+\}", "{}", path): set(ops) for path, ops in paths.items()}
    checked = 0
    for _, http_cell in _table_rows():
        for methods, path in re.findall(r"((?:`?(?:GET|POST|DELETE)`?/?)+) ?(/[^` ?]+)", http_cell):
            wanted = {m.lower() for m in re.findall(r"GET|POST|DELETE", methods)}
            prefix = re.sub(r"\{[^}]+\}", "{}", path)
            matching = {
                p: ops for p, ops in shape.items() if p == prefix or p.startswith(prefix + "/")
            }
            assert matching, f"docs name {path}, which the API lacks"
            offered = set().union(*matching.values())
            assert wanted <= offered, f"{path}: docs say {wanted}, the API offers {offered}"
            checked += 1
    assert checked >= 14
