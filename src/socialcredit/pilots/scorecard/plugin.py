"""The scorecard pilot as a plugin: ``socialcredit scorecard`` (fit a
scorecard scheme from labelled data, with scikit-learn from the ``scorecard``
extra) and the demo's Sesame-style step. Scoring a scorecard scheme is the
core engine's work; fitting one is this plugin's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from socialcredit.plugins import DemoStep, hookimpl

if TYPE_CHECKING:
    import typer


@hookimpl
def register_commands(app: typer.Typer) -> None:
    from socialcredit.pilots.scorecard.cli import add_commands

    add_commands(app)


@hookimpl
def demo_steps() -> Sequence[DemoStep]:
    from socialcredit.pilots.scorecard.demo import sesame_step

    return [sesame_step]
