"""The hooks plugins add to socialcredit by, and the manager that finds the
plugins installed (pluggy, as datasette uses it).

A plugin is a module with functions marked ``@hookimpl``, named after the
hooks below, and registered under the ``socialcredit`` entry-point group of
its package. Plugins import what they need from ``socialcredit.plugins``, the
plugin API; the core calls the hooks through :func:`plugin_manager`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer
    from fastapi import FastAPI

    from socialcredit.adapters.db.schema import Track
    from socialcredit.domain.ledger.values import SubjectRow
    from socialcredit.services.extensions import ExportSection, RetentionSection

# What the hooks below call ``services`` is the ledger's ``socialcredit.Services``
# (named, not imported: the composition root imports this module).
Services = Any

PROJECT = "socialcredit"  # the entry-point group, and pluggy's project name
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True, slots=True)
class DemoStep:
    """A part of ``socialcredit demo``: ``run(context)`` returns what the demo's
    JSON shows under ``name``; steps run by ``order``."""

    name: str
    order: int
    run: Callable[[DemoContext], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class DemoContext:
    services: Services
    people: list[str]  # the town's residents, as identifiers
    rng: Any  # random.Random, seeded: the demo is the same every run
    now: datetime
    say: Callable[..., None]  # prints to the demo's console (or nothing, with --json)


class Hooks:
    """The hook specifications. Every hook is optional; each is called with
    the arguments named here (a plugin may take fewer)."""

    @hookspec
    def register_migrations(self) -> Track | None:
        """The plugin's own tables: its migration track, applied by
        ``socialcredit init`` after the core's and recorded apart."""

    @hookspec
    def register_services(self, services: Services) -> Mapping[str, Callable[[], object]] | None:
        """Services the plugin adds, by name, each built on first use from the
        ledger's services (``services.plugin(name)``)."""

    @hookspec
    def register_commands(self, app: typer.Typer) -> None:
        """Add commands or command groups to the ``socialcredit`` command line."""

    @hookspec
    def register_routes(self, app: FastAPI) -> None:
        """Add HTTP routes (``app.include_router``); ``socialcredit.plugins.api``
        has the API's key check and field types."""

    @hookspec
    def record_erased(self, services: Services, record_id: str) -> None:
        """A record was erased: drop what the plugin derived from it. Runs inside
        the erasure's transaction, so both land or neither does."""

    @hookspec
    def retention_sweep(
        self, services: Services, now: datetime, apply: bool
    ) -> RetentionSection | None:
        """What the plugin keeps past its retention: counted, and removed with ``apply``."""

    @hookspec
    def export_section(self, services: Services, subject: SubjectRow) -> ExportSection | None:
        """What the plugin holds about a subject, for its access export (GDPR art. 15)."""

    @hookspec
    def demo_steps(self) -> Sequence[DemoStep] | None:
        """Parts of ``socialcredit demo`` the plugin adds."""


@functools.cache
def plugin_manager() -> pluggy.PluginManager:
    """The plugins installed: every entry point of the ``socialcredit`` group,
    loaded once per process."""
    manager = new_plugin_manager()
    manager.load_setuptools_entrypoints(PROJECT)
    return manager


def new_plugin_manager(*plugins: object) -> pluggy.PluginManager:
    """A manager with the hook specifications and only ``plugins`` (for tests,
    and for embedding socialcredit with a chosen set)."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(Hooks)
    for plugin in plugins:
        manager.register(plugin)
    return manager


def migration_tracks(manager: pluggy.PluginManager) -> list[Track]:
    return [track for track in manager.hook.register_migrations() if track is not None]


__all__ = [
    "PROJECT",
    "DemoContext",
    "DemoStep",
    "Hooks",
    "hookimpl",
    "hookspec",
    "migration_tracks",
    "new_plugin_manager",
    "plugin_manager",
]
