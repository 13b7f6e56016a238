"""What the population use case is handed: snapshots and engines, with the
heavy libraries (pyarrow, DuckDB, PySpark) imported only when used, so that
a ledger without the ``analytics`` extra works as before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialcredit.domain.registry import Registry
from socialcredit.domain.schemes.loader import StoredDefinition
from socialcredit.errors import UsageError

if TYPE_CHECKING:
    from socialcredit.adapters.analytics.engine import SqlEngine
    from socialcredit.adapters.analytics.snapshot import SnapshotWriter

ENGINES = ("duckdb", "spark")
_EXTRAS = {"duckdb": "analytics", "spark": "spark"}


@dataclass
class Outcome:
    rows: dict[str, int]
    schemes: list[str]
    skipped: dict[str, str]


class AnalyticsFiles:
    engines: tuple[str, ...] = ENGINES

    def snapshot(self, folder: Path, purpose: str) -> SnapshotWriter:
        snapshot = _needs("analytics", "socialcredit.adapters.analytics.snapshot")
        try:
            writer: SnapshotWriter = snapshot.SnapshotWriter(folder, purpose)
        except ValueError as refused:
            raise UsageError(f"--out: {refused}") from None
        return writer

    def definitions(
        self, folder: Path
    ) -> tuple[list[StoredDefinition], list[tuple[str, int, datetime]]]:
        """The definitions and rescorings a snapshot holds: it is evaluated under
        its own definitions, not the ledger's of today."""
        snapshot = _needs("analytics", "socialcredit.adapters.analytics.snapshot")
        import pyarrow.parquet as pq

        try:
            defs = [pq.read_table(p) for p in snapshot.part_paths(folder, "defs")]
            rescorings = [pq.read_table(p) for p in snapshot.part_paths(folder, "rescorings")]
        except ValueError as refused:
            raise UsageError(f"--snapshot: {refused}") from None
        stored = [
            StoredDefinition(
                row["id"],
                row["version"],
                row["type"],
                snapshot.aware(row["added_at"]),
                row["digest"],
                row["body"],
            )
            for table in defs
            for row in table.to_pylist()
        ]
        stored.sort(key=lambda row: (row.id, row.version))
        found = sorted(
            (row["scheme"], row["version"], snapshot.aware(row["at"]))
            for table in rescorings
            for row in table.to_pylist()
        )
        return stored, [(scheme, version, at) for scheme, version, at in found]

    def evaluate(
        self,
        engine: str,
        folder: Path,
        registry: Registry,
        at: datetime,
        out: Path,
        only: set[str] | None = None,
        memory_limit: str | None = None,
        master: str | None = None,
        explain: bool = False,
    ) -> Outcome:
        tables_module = _needs("analytics", "socialcredit.adapters.analytics.tables")
        engine_module = _needs("analytics", "socialcredit.adapters.analytics.engine")
        definitions = tables_module.definition_tables(registry.schemes, only)
        running = self._engine(engine, memory_limit, master)
        try:
            running.evaluate(engine_module.Ledger(folder=folder), definitions, at)
            rows = running.write_results(out, explain=explain)
        finally:
            running.close()
        return Outcome(rows, definitions.schemes, definitions.skipped)

    def _engine(self, name: str, memory_limit: str | None, master: str | None) -> SqlEngine:
        if name not in ENGINES:
            raise UsageError(f"--engine: {name!r} is not one of {', '.join(ENGINES)}")
        if name == "duckdb":
            module = _needs("analytics", "socialcredit.adapters.analytics.duckdb_engine")
            engine: SqlEngine = module.DuckDBEngine(memory_limit=memory_limit, progress=True)
            return engine
        module = _needs("spark", "socialcredit.adapters.analytics.spark_engine")
        spark: SqlEngine = module.SparkEngine(memory_limit=memory_limit, master=master)
        return spark


def _needs(extra: str, module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as missing:
        raise UsageError(
            f"this needs the {extra!r} extra ({missing.name} is not installed): "
            f"pip install 'socialcredit[{extra}]'"
        ) from None


__all__ = ["ENGINES", "AnalyticsFiles", "Outcome"]
