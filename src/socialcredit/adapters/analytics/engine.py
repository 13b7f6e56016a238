"""Running the plan: what every engine does the same way (the ledger's views
over a snapshot, the definition tables, the asks, the plan's steps, the
results), over what each does its own way (``SqlEngine``'s abstract methods:
run a statement, register an Arrow table, read Parquet, fetch, write)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from socialcredit.adapters.analytics.plan import (
    CHECK_RESULTS,
    Dialect,
    Step,
    check_steps,
    evaluation_steps,
    held_asks_steps,
    held_entries_step,
)
from socialcredit.adapters.analytics.snapshot import SCHEMAS, naive, part_paths
from socialcredit.adapters.analytics.tables import DEFINITION_COLUMNS, DefinitionTables
from socialcredit.domain.schemes.models import EFFECTS_STRONGEST_FIRST

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
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
          COALESCE(c.records, {empty}) AS records, g.grade
        FROM e_grade_entry g LEFT JOIN e_grade_records c
          ON c.subject = g.subject AND c.scheme = g.scheme""",
    "category_points": """SELECT subject, scheme, category, COUNT(*) AS records,
        CAST(SUM(points) AS BIGINT) AS points FROM e_counted GROUP BY subject, scheme, category""",
}


# The results with a row per record: the whole ledger again, so written only when asked.
EXPLAINING = frozenset({"counted", "excluded"})


@dataclass(frozen=True)
class Ledger:
    """Where the ledger's tables come from: a snapshot directory, or Arrow
    tables already in memory (``rec``, ``st``, ``enr``, ``con``)."""

    folder: Path | None = None
    tables: dict[str, pa.Table] | None = None


class SqlEngine(ABC):
    dialect: Dialect
    timings: dict[str, float]

    # -- what each engine does its own way -------------------------------------------

    @abstractmethod
    def execute(self, sql: str) -> None: ...

    @abstractmethod
    def keep(self, name: str, query: str) -> None:
        """Compute a step once, and keep its rows under ``name`` for later steps."""

    @abstractmethod
    def view(self, name: str, query: str) -> None:
        """Name a step's query, to be inlined where later steps read it."""

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
        """Set up every step of the plan for every subject with a record or an
        enrolment in each scheme in ``definitions``, at ``at``; then read
        ``RESULTS`` (a subject not enrolled at ``at`` has a row, unscored)."""
        self.timings = {}
        self._ledger(ledger)
        for name, rows in definitions.tables.items():
            columns = DEFINITION_COLUMNS[name]
            schema = pa.schema([(column, _ARROW_TYPES[kind]) for column, kind in columns.items()])
            self.register(name, pa.table(rows, schema=schema))
        moment = naive(at)
        assert moment is not None
        stamp = f"TIMESTAMP '{moment.isoformat(sep=' ')}'"
        # Every subject of a scheme is asked at the scheme's one instant.
        self._keep(
            "instants",
            f"""SELECT scheme,
              CASE WHEN monthly THEN date_trunc('month', {stamp}) ELSE {stamp} END AS t,
              {stamp} AS asked
            FROM d_scheme""",
        )
        g = definitions.tables["d_grade"]
        grades = list(zip(g["scheme"], g["grade_rank"], g["grade_min"], strict=True))
        steps = evaluation_steps(self.dialect, None, "e_", grades, instants="instants")
        steps += held_asks_steps(self.dialect, "e_evaluation", "h_")
        steps += evaluation_steps(self.dialect, "h_asks", "g_", grades)
        steps.append(held_entries_step("e_evaluation", "h_asks", "g_evaluation", "e_grade_entry"))
        steps.append(
            Step(
                # The records behind a grade-held entry: every counted record.
                "e_grade_records",
                f"""SELECT c.subject, c.scheme, {self.dialect.sorted_list("c.record")} AS records
                FROM e_counted c JOIN (SELECT DISTINCT subject, scheme FROM e_grade_entry) g
                  ON g.subject = c.subject AND g.scheme = c.scheme
                GROUP BY c.subject, c.scheme""",
                False,
            )
        )
        for step in steps:
            if step.kept:
                self._keep(step.name, step.query)
            else:
                self.view(step.name, step.query)

    def check(
        self, action: str, sources: pa.Table, reach: pa.Table, at: datetime
    ) -> dict[str, pa.Table]:
        """After :meth:`evaluate` at ``at``: the decision on ``action`` for every
        subject, counted by effect, and by the measure behind it (``sources``:
        the action's measures; ``reach``: the link roles a list's measures reach)."""
        self.register("d_source", sources)
        self.register("d_reach", reach)
        strengths = {"effect": list(EFFECTS_STRONGEST_FIRST), "strength": list(range(5))}
        self.register("d_strength", pa.table(strengths))
        moment = naive(at)
        assert moment is not None
        stamp = f"TIMESTAMP '{moment.isoformat(sep=' ')}'"
        for step in check_steps(self.dialect, stamp, action):
            (self._keep if step.kept else self.view)(step.name, step.query)
        return {name: self.fetch(query) for name, query in CHECK_RESULTS.items()}

    def keep_as(self, prefix: str) -> None:
        """Keep what a comparison reads of the evaluation just made, under ``prefix``."""
        self._keep(f"{prefix}evaluation", "SELECT subject, scheme, grade, score FROM e_evaluation")
        self._keep(
            f"{prefix}entry",
            "SELECT DISTINCT subject, scheme, list_id FROM e_record_entry "
            "UNION SELECT subject, scheme, list_id FROM e_grade_entry",
        )
        self._keep(
            f"{prefix}points",
            "SELECT subject, scheme, category, SUM(points) AS points FROM e_counted "
            "GROUP BY subject, scheme, category",
        )

    def compare(self, scheme: str) -> dict[str, pa.Table]:
        """The differences in ``scheme`` between the evaluations kept as ``a_``
        (in force) and ``b_`` (proposed): grade transitions, list entries gained
        and lost, and the categories whose counted points changed."""
        name = "'" + scheme.replace("'", "''") + "'"
        return {
            "transitions": self.fetch(
                f"""SELECT COALESCE(a.grade, '-') AS grade_before, COALESCE(b.grade, '-') AS grade_after,
                  COUNT(*) AS subjects
                FROM (SELECT * FROM a_evaluation WHERE scheme = {name}) a
                FULL OUTER JOIN (SELECT * FROM b_evaluation WHERE scheme = {name}) b
                  ON a.subject = b.subject
                GROUP BY COALESCE(a.grade, '-'), COALESCE(b.grade, '-')"""
            ),
            "lists": self.fetch(
                f"""SELECT COALESCE(a.list_id, b.list_id) AS list_id,
                  COUNT(CASE WHEN a.subject IS NULL THEN 1 END) AS gained,
                  COUNT(CASE WHEN b.subject IS NULL THEN 1 END) AS lost
                FROM (SELECT * FROM a_entry WHERE scheme = {name}) a
                FULL OUTER JOIN (SELECT * FROM b_entry WHERE scheme = {name}) b
                  ON a.subject = b.subject AND a.list_id = b.list_id
                GROUP BY COALESCE(a.list_id, b.list_id)"""
            ),
            "categories": self.fetch(
                f"""SELECT COALESCE(a.category, b.category) AS category,
                  COUNT(CASE WHEN COALESCE(a.points, 0) <> COALESCE(b.points, 0) THEN 1 END)
                    AS subjects_changed,
                  CAST(SUM(COALESCE(b.points, 0) - COALESCE(a.points, 0)) AS BIGINT) AS points_change
                FROM (SELECT * FROM a_points WHERE scheme = {name}) a
                FULL OUTER JOIN (SELECT * FROM b_points WHERE scheme = {name}) b
                  ON a.subject = b.subject AND a.category = b.category
                GROUP BY COALESCE(a.category, b.category)"""
            ),
        }

    def results(self) -> dict[str, pa.Table]:
        return {name: self.fetch(self._result(query)) for name, query in RESULTS.items()}

    def _result(self, query: str) -> str:
        # A grade-held entry with no counted record lists none, as the engine's () does.
        return query.replace("{empty}", self.dialect.empty_list)

    def write_results(self, folder: Path, *, explain: bool = True) -> dict[str, int]:
        """Write the results as Parquet; ``counted`` and ``excluded`` (a row per
        record) only if ``explain``."""
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for name, query in RESULTS.items():
            if name in EXPLAINING and not explain:
                continue
            began = time.perf_counter()
            written[name] = self.write(self._result(query), folder / f"{name}.parquet")
            self.timings[f"write {name}"] = time.perf_counter() - began
        return written

    def _keep(self, name: str, query: str) -> None:
        began = time.perf_counter()
        self.keep(name, query)
        # How long each step took, for the benchmark and docs/performance.md.
        self.timings[name] = time.perf_counter() - began

    def _ledger(self, ledger: Ledger) -> None:
        if ledger.tables is not None:
            for name, table in ledger.tables.items():
                self.register(name, table)
            for name in ("links", "ovr"):
                if name not in ledger.tables:
                    self.register(name, SCHEMAS[name].empty_table())
            return
        assert ledger.folder is not None
        for name in ("links", "ovr"):  # tables a snapshot's older parts may lack
            paths = [p for p in part_paths(ledger.folder, name) if Path(p).exists()]
            if paths:
                self.view(name, f"SELECT * FROM {self.parquet(paths)}")
            else:
                self.register(name, SCHEMAS[name].empty_table())
        source = {
            name: self.parquet(part_paths(ledger.folder, name))
            for name in ("rec", "st", "enr", "con")
        }
        self.view("rec", f"SELECT * FROM {source['rec']}")
        self.view("enr", f"SELECT * FROM {source['enr']}")
        # A record's events, and a subject's consents to a scheme, as the newest part has them.
        self._keep(
            "st",
            f"""SELECT record, status, since, until FROM (
              SELECT *, MAX(part) OVER (PARTITION BY record) AS newest FROM {source["st"]}) x
            WHERE part = newest""",
        )
        self._keep(
            "con",
            f"""SELECT subject, scheme, start_at, end_at FROM (
              SELECT *, MAX(part) OVER (PARTITION BY subject, scheme) AS newest
              FROM {source["con"]}) x
            WHERE part = newest""",
        )


__all__ = ["EXPLAINING", "RESULTS", "Ledger", "SqlEngine"]
