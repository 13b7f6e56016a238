"""The bike-share pilot as a plugin: its tables, its service, its commands and
routes, its part in erasure, retention and the access export, and its demo
step, each through a hook any third-party plugin could use as well.

Registered in ``pyproject.toml`` under the ``socialcredit`` entry points. The
geometry it judges trips with needs the ``mobility`` extra (shapely, numpy);
without it, its commands say so, and everything else still runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from socialcredit.plugins import (
    DemoStep,
    ExportSection,
    ExportTable,
    RetentionSection,
    Track,
    hookimpl,
)

if TYPE_CHECKING:
    import typer
    from fastapi import FastAPI

    from socialcredit import Services
    from socialcredit.domain.ledger.values import SubjectRow
    from socialcredit.pilots.mobility.service import Mobility

NAME = "mobility"


def mobility(services: Services) -> Mobility:
    from socialcredit.pilots.mobility.service import mobility_of

    return mobility_of(services)


@hookimpl
def register_migrations() -> Track:
    from socialcredit.pilots.mobility.store import TRACK

    return TRACK


@hookimpl
def register_services(services: Services) -> Mapping[str, Callable[[], object]]:
    def build() -> object:
        from socialcredit.pilots.mobility.service import Mobility

        return Mobility(services)

    return {NAME: build}


@hookimpl
def record_erased(services: Services, record_id: str) -> None:
    """A bike trip's verdict record was erased: the trip and its positions go too."""
    mobility(services).rows.forget_trip_of(record_id)


@hookimpl
def retention_sweep(services: Services, now: datetime, apply: bool) -> RetentionSection:
    counts = mobility(services).purge(apply=apply, now=now)
    return RetentionSection(NAME, "bike sharing", counts)


@hookimpl
def export_section(services: Services, subject: SubjectRow) -> ExportSection:
    """Trips as kept (coarse cells), precise positions kept with consent, and
    rider reports (docs/mobility.md)."""
    data = mobility(services).export(subject)
    trip_columns = ["id", "scheme", "ended_at", "end_cell", "verdict", "zone", "record"]
    position_columns = ["trip", "kind", "lon", "lat", "at", "purpose", "kept_until"]
    tables = [
        ExportTable("Trips", data["trips"], trip_columns),
        ExportTable(
            "Precise positions (kept with your consent)",
            data["precise_positions"],
            position_columns,
        ),
    ]
    return ExportSection(NAME, data, tables)


@hookimpl
def register_commands(app: typer.Typer) -> None:
    from socialcredit.pilots.mobility.cli import add_commands

    add_commands(app)


@hookimpl
def register_routes(app: FastAPI) -> None:
    from socialcredit.pilots.mobility.api import add_routes

    add_routes(app)


@hookimpl
def demo_steps() -> Sequence[DemoStep]:
    from socialcredit.pilots.mobility.demo import bike_share_step

    return [bike_share_step]
