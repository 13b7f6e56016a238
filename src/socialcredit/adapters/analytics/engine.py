"""Running the plan: what every engine does the same way (the ledger's views
over a snapshot, the definition tables, the asks, the plan's steps, the
results), over what each does its own way (``SqlEngine``'s abstract methods:
run a statement, register an Arrow table, read Parquet, fetch, write)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from socialcredit.adapters.analytics.plan import (
    Dialect,
    evaluation_steps,
    held_asks_steps,
    held_entries_step,
)
from socialcredit.adapters.analytics.snapshot import naive, part_paths
from socialcredit.adapters.analytics.tables import DEFINITION_COLUMNS, DefinitionTables

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
}

# The results, as the queries that read them from the plan's views.
RESULTS = {
    "evaluations": """SELECT subject, scheme, version, t AS at, enrolled, score, grade, band,
        cap_grade, cap_record, cap_category FROM e_evaluation""",
    "counted": """SELECT subject, scheme, record, category, points, occurred_at, expires_at
        FROM e_counted""",
    "excluded": "SELECT subject, scheme, record, category, reason FROM e_excluded",
    "list_entries": """SELECT subject, scheme, list_id, kind, since, until, records,
        CAST(NULL AS STRING) AS grade FROM e_record_entry
        UNION ALL
        SELECT g.subject, g.scheme, g.list_id, g.kind, g.since, CAST(NULL AS TIMESTAMP) AS until,
          c.records, g.grade
        FROM e_grade_entry g LEFT JOIN e_counted_records c
          ON c.subject = g.subject AND c.scheme = g.scheme""",
    "category_points": """SELECT subject, scheme, category, COUNT(*) AS records,
        SUM(points) AS points FROM e_counted GROUP BY subject, scheme, category""",
}


@dataclass(frozen=True)
class Ledger:
    """Where the ledger's tables come from: a snapshot directory, or Arrow
    tables already in memory (``rec``, ``st``, ``enr``, ``con``)."""

    folder: Path | None = None
    tables: dict[str, pa.Table] | None = None


class SqlEngine(ABC):
    dialect: Dialect

    # -- what each engine does its own way -------------------------------------------

    @abstractmethod
    def execute(self, sql: str) -> None: ...

    @abstractmethod
    def keep(self, name: str, query: str) -> None:
        """Compute a step once, and keep its rows under ``name`` for later steps."""

    @abstractmethod
    def register(self, name: str, table: pa.Table) -> None: ...

    @abstractmethod
    def parquet(self, paths: list[str]) -> str:
        """A FROM clause reading these Parquet files."""

    @abstractmethod
    def fetch(self, sql: str) -> pa.Table: ...

    @abstractmethod
    def write(self, sql: str, path: Path) -> int:
        """Write the query's rows to a Parquet file; how many."""

    @abstractmethod
    def close(self) -> None: ...

    # -- the same for every engine --------------------------------------------------

    def evaluate(self, ledger: Ledger, definitions: DefinitionTables, at: datetime) -> None:
        """Set up every view of the plan for every enrolled subject of each
        scheme in ``definitions`` at ``at``; then read ``RESULTS``."""
        self._ledger(ledger)
        for name, rows in definitions.tables.items():
            columns = DEFINITION_COLUMNS[name]
            schema = pa.schema([(column, _ARROW_TYPES[kind]) for column, kind in columns.items()])
            self.register(name, pa.table(rows, schema=schema))
        moment = naive(at)
        assert moment is not None
        stamp = f"TIMESTAMP '{moment.isoformat(sep=' ')}'"
        self._view(
            "asks",
            f"""SELECT p.subject, p.scheme,
              CASE WHEN s.monthly THEN date_trunc('month', {stamp}) ELSE {stamp} END AS t,
              {stamp} AS asked
            FROM (SELECT subject, scheme FROM rec UNION SELECT subject, scheme FROM enr) p
            JOIN d_scheme s ON s.scheme = p.scheme""",
        )
        steps = evaluation_steps(self.dialect, "asks", "e_")
        steps += held_asks_steps(self.dialect, "e_evaluation", "h_")
        steps += evaluation_steps(self.dialect, "h_asks", "g_")
        steps.append(held_entries_step("e_evaluation", "h_asks", "g_evaluation", "e_grade_entry"))
        steps.append(
            (
                "e_counted_records",
                f"""SELECT subject, scheme, {self.dialect.sorted_list("record")} AS records
                FROM e_counted GROUP BY subject, scheme""",
            )
        )
        for name, query in steps:
            self._view(name, query)

    def results(self) -> dict[str, pa.Table]:
        return {name: self.fetch(query) for name, query in RESULTS.items()}

    def write_results(self, folder: Path) -> dict[str, int]:
        folder.mkdir(parents=True, exist_ok=True)
        return {
            name: self.write(query, folder / f"{name}.parquet") for name, query in RESULTS.items()
        }

    def _view(self, name: str, query: str) -> None:
        self.keep(name, query)

    def _ledger(self, ledger: Ledger) -> None:
        if ledger.tables is not None:
            for name, table in ledger.tables.items():
                self.register(name, table)
            return
        assert ledger.folder is not None
        source = {
            name: self.parquet(part_paths(ledger.folder, name))
            for name in ("rec", "st", "enr", "con")
        }
        self._view("rec", f"SELECT * FROM {source['rec']}")
        self._view("enr", f"SELECT * FROM {source['enr']}")
        # A record's events, and a subject's consents to a scheme, as the newest part has them.
        self._view(
            "st",
            f"""SELECT record, status, since, until FROM (
              SELECT *, MAX(part) OVER (PARTITION BY record) AS newest FROM {source["st"]}) x
            WHERE part = newest""",
        )
        self._view(
            "con",
            f"""SELECT subject, scheme, start_at, end_at FROM (
              SELECT *, MAX(part) OVER (PARTITION BY subject, scheme) AS newest
              FROM {source["con"]}) x
            WHERE part = newest""",
        )


__all__ = ["RESULTS", "Ledger", "SqlEngine"]
