"""The ``socialcredit`` command line: one typer app, a module per group of
commands, and the commands plugins add. Tables for people, ``--json`` for
machines, one clear line on stderr (and a non-zero exit) for every error."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from socialcredit.entrypoints.cli import (
    definitions,
    fairness,
    keys,
    ledger,
    population,
    reading,
    rights,
    running,
    simulation,
    transparency,
    upkeep,
)
from socialcredit.entrypoints.cli.common import set_default_db
from socialcredit.hooks import plugin_manager

app = typer.Typer(
    help="socialcredit: many schemes, no single score. Every score explained, "
    "every record contestable, every decision logged.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global_options(
    db: Annotated[
        str | None,
        typer.Option("--db", help="SQLite database file, for every command (or SOCIALCREDIT_DB)."),
    ] = None,
) -> None:
    # `socialcredit --db x.db score ...` works as well as `socialcredit score ... --db x.db`.
    set_default_db(db)


modules = (
    definitions,
    ledger,
    reading,
    population,
    simulation,
    fairness,
    keys,
    transparency,
    rights,
    upkeep,
    running,
)
for group in modules:
    group.register(app)
plugin_manager().hook.register_commands(app=app)


def main() -> None:
    os.environ.setdefault("COLUMNS", os.environ.get("COLUMNS", "120"))
    app()


__all__ = ["app", "main"]
