"""What plugins add to the use cases: services of their own, and their part
in erasure, retention and the access export (``socialcredit.plugins`` holds
the hooks). The use cases call these and never name a plugin."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from socialcredit.domain.ledger.values import SubjectRow
from socialcredit.errors import NotFound


@dataclass(frozen=True, slots=True)
class RetentionSection:
    """What a plugin removed (or would remove) past retention: counts by kind."""

    name: str  # the plugin's name, the key of its section in a retention report
    label: str  # how a person reads it, e.g. "bike sharing"
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ExportTable:
    title: str
    rows: list[dict[str, Any]]
    columns: list[str]


@dataclass(frozen=True, slots=True)
class ExportSection:
    """A plugin's part of a subject's access export (GDPR art. 15): ``data``
    goes into the JSON under ``name``, ``tables`` onto the page."""

    name: str
    data: Mapping[str, Any]
    tables: list[ExportTable] = field(default_factory=list)


class Extensions:
    """The plugins' hooks, as the use cases call them.

    Hooks receive the ledger's services (``socialcredit.Services``); since the
    use cases are built before those are gathered, the composition root hands
    them over once built (:meth:`attach`)."""

    def __init__(self, hook: Any = None) -> None:
        self._hook = hook  # pluggy's hook relay, or None: no plugins
        self._services: Any = None
        self._built: dict[str, object] = {}
        self._factories: dict[str, Callable[[], object]] | None = None

    def attach(self, services: Any) -> None:
        self._services = services

    def service(self, name: str) -> object:
        """A plugin's service, built on first use and kept (e.g. ``"mobility"``)."""
        if name not in self._built:
            factory = self._service_factories().get(name)
            if factory is None:
                known = ", ".join(sorted(self._service_factories())) or "none"
                raise NotFound(f"no plugin provides a service {name!r} (installed: {known})")
            self._built[name] = factory()
        return self._built[name]

    def _service_factories(self) -> dict[str, Callable[[], object]]:
        if self._factories is None:
            self._factories = {}
            for provided in self._results("register_services", services=self._services):
                self._factories.update(provided)
        return self._factories

    def record_erased(self, record_id: str) -> None:
        """Inside the erasure's transaction: plugins drop what they derived."""
        self._results("record_erased", services=self._services, record_id=record_id)

    def retention(self, now: datetime, apply: bool) -> list[RetentionSection]:
        found = self._results("retention_sweep", services=self._services, now=now, apply=apply)
        return sorted(found, key=lambda section: section.name)

    def export(self, subject: SubjectRow) -> list[ExportSection]:
        found = self._results("export_section", services=self._services, subject=subject)
        return sorted(found, key=lambda section: section.name)

    def _results(self, name: str, **arguments: Any) -> list[Any]:
        if self._hook is None:
            return []
        return [found for found in getattr(self._hook, name)(**arguments) if found is not None]


__all__ = ["ExportSection", "ExportTable", "Extensions", "RetentionSection"]
