"""The plugin API: everything a plugin of socialcredit may use besides the
package's top level (``socialcredit.open``, ``socialcredit.Services``, the
errors) and the pure values and rules of ``socialcredit.domain``.

A plugin is a module of functions marked ``@hookimpl`` and named after the
hooks of ``socialcredit.hooks``, registered under the ``socialcredit``
entry-point group of its package::

    [project.entry-points.socialcredit]
    my_plugin = "my_package.plugin"

Its tables come with a migration track (``Track``, ``Migration``, ``Table``,
``Index``, ``guard``) and live on the ledger's own database (``Database``), so
that its writes and the ledger's land in one transaction. Its commands use
``socialcredit.plugins.cli``, its routes ``socialcredit.plugins.api``. The
bike-share and scorecard pilots are plugins of exactly this kind;
``docs/plugins.md`` walks through a small example.
"""

from __future__ import annotations

from socialcredit.adapters.db.rows import chunks, parse
from socialcredit.adapters.db.schema import POSTGRES, SQLITE, Index, Migration, Table, Track, guard
from socialcredit.hooks import DemoContext, DemoStep, hookimpl
from socialcredit.services.extensions import ExportSection, ExportTable, RetentionSection
from socialcredit.services.ids import time_ordered_id
from socialcredit.services.imports import ImportReport, Rejection
from socialcredit.services.ports import DatabasePort as Database

__all__ = [
    "POSTGRES",
    "SQLITE",
    "Database",
    "DemoContext",
    "DemoStep",
    "ExportSection",
    "ExportTable",
    "ImportReport",
    "Index",
    "Migration",
    "Rejection",
    "RetentionSection",
    "Table",
    "Track",
    "chunks",
    "guard",
    "hookimpl",
    "parse",
    "time_ordered_id",
]
