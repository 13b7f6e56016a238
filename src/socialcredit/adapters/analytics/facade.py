"""What the population use case is handed: snapshots and engines, with the
heavy libraries (pyarrow, DuckDB, PySpark) imported only when used, so that
a ledger without the ``analytics`` extra works as before."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialcredit.domain.fairness import GroupCounts
from socialcredit.domain.registry import Registry
from socialcredit.domain.schemes.compiled import MeasureSource
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

    def snapshot(
        self, folder: Path, purpose: str, known_at: datetime | None = None
    ) -> SnapshotWriter:
        snapshot = _needs("analytics", "socialcredit.adapters.analytics.snapshot")
        try:
            writer: SnapshotWriter = snapshot.SnapshotWriter(folder, purpose, known_at)
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

    def check(
        self,
        engine: str,
        folder: Path,
        registry: Registry,
        action: str,
        at: datetime,
        memory_limit: str | None = None,
        master: str | None = None,
    ) -> CheckOutcome:
        """The decision on ``action`` for the whole population at ``at``."""
        import pyarrow as pa

        tables_module = _needs("analytics", "socialcredit.adapters.analytics.tables")
        engine_module = _needs("analytics", "socialcredit.adapters.analytics.engine")
        sources = registry.index.sources(action)
        relevant = {source.scheme for source in sources}
        definitions = tables_module.definition_tables(registry.schemes, relevant)
        left_out = {s: why for s, why in definitions.skipped.items() if s in relevant}
        if left_out:
            scheme, why = sorted(left_out.items())[0]
            raise UsageError(
                f"{action}: it depends on {scheme}, which the batch plan leaves out ({why}); "
                "use `socialcredit check` subject by subject"
            )
        source_rows, reach_rows = _source_rows(sources, registry)
        running = self._engine(engine, memory_limit, master)
        try:
            running.evaluate(engine_module.Ledger(folder=folder), definitions, at)
            found = running.check(
                action,
                pa.Table.from_pylist(source_rows, schema=_source_schema(pa)),
                pa.Table.from_pylist(reach_rows, schema=_reach_schema(pa)),
                at,
            )
            everyone = (
                running.fetch(
                    "SELECT COUNT(*) AS n FROM (SELECT subject FROM rec UNION SELECT subject FROM enr "
                    "UNION SELECT person AS subject FROM links) x"
                )
                .column("n")[0]
                .as_py()
            )
        finally:
            running.close()
        effects = {row["effect"]: row["subjects"] for row in found["effects"].to_pylist()}
        effects["allow"] = effects.get("allow", 0) + everyone - sum(effects.values())
        overridden = sum(1 for row in found["decisions"].to_pylist() if row["overridden"])
        reasons = [
            {
                **_describe(sources[row["n"]]),
                "reached": row["reached"],
                "decided": row["decided"],
                "subjects": row["subjects"],
            }
            for row in found["reasons"].to_pylist()
        ]
        reasons.sort(key=lambda r: (-r["subjects"], r["scheme"], str(r["memorandum"])))
        return CheckOutcome(action, at, everyone, effects, reasons, overridden, found["decisions"])

    def simulate(
        self,
        engine: str,
        folder: Path,
        before: Registry,
        after: Registry,
        scheme: str,
        at: datetime,
        memory_limit: str | None = None,
    ) -> Simulation:
        """The population of ``scheme`` at ``at`` under ``before`` and ``after``."""
        tables_module = _needs("analytics", "socialcredit.adapters.analytics.tables")
        engine_module = _needs("analytics", "socialcredit.adapters.analytics.engine")
        plans = [tables_module.definition_tables(r.schemes, {scheme}) for r in (before, after)]
        for plan in plans:
            if scheme in plan.skipped:
                raise UsageError(
                    f"--proposal: the batch plan leaves {scheme} out ({plan.skipped[scheme]})"
                )
        actions = sorted(
            action
            for action in after.index.actions + before.index.actions
            if any(
                s.scheme == scheme
                for s in (*before.index.sources(action), *after.index.sources(action))
            )
        )
        actions = sorted(set(actions))
        running = self._engine(engine, memory_limit, None)
        consequences: dict[str, dict[str, dict[str, int]]] = {}
        try:
            for prefix, registry, plan in (("a_", before, plans[0]), ("b_", after, plans[1])):
                running.evaluate(engine_module.Ledger(folder=folder), plan, at)
                running.keep_as(prefix)
                for action in actions:
                    effects = _effects(running, action, registry, scheme, at)
                    consequences.setdefault(action, {})["before" if prefix == "a_" else "after"] = (
                        effects
                    )
            found = running.compare(scheme)
        finally:
            running.close()
        return Simulation(
            scheme,
            at,
            sorted(
                (r["grade_before"], r["grade_after"], r["subjects"])
                for r in found["transitions"].to_pylist()
            ),
            sorted((r["list_id"], r["gained"], r["lost"]) for r in found["lists"].to_pylist()),
            sorted(
                (
                    (r["category"], r["subjects_changed"], r["points_change"])
                    for r in found["categories"].to_pylist()
                ),
                key=lambda row: (-row[1], row[0]),
            ),
            consequences,
            _grades(before, after, scheme),
        )

    def grades_over_time(
        self,
        engine: str,
        folder: Path,
        registries: Sequence[Registry],
        scheme: str,
        instants: Sequence[datetime],
        memory_limit: str | None = None,
    ) -> list[list[dict[str, int]]]:
        """Subjects per grade of ``scheme`` at each instant, under each registry
        (one list of counts per registry, one count per instant)."""
        tables_module = _needs("analytics", "socialcredit.adapters.analytics.tables")
        engine_module = _needs("analytics", "socialcredit.adapters.analytics.engine")
        plans = [tables_module.definition_tables(r.schemes, {scheme}) for r in registries]
        running = self._engine(engine, memory_limit, None)
        series: list[list[dict[str, int]]] = []
        try:
            for plan in plans:
                counts = []
                for instant in instants:
                    running.evaluate(engine_module.Ledger(folder=folder), plan, instant)
                    found = running.fetch(
                        "SELECT COALESCE(grade, '-') AS grade, COUNT(*) AS subjects "
                        "FROM e_evaluation GROUP BY COALESCE(grade, '-')"
                    )
                    counts.append({r["grade"]: r["subjects"] for r in found.to_pylist()})
                series.append(counts)
        finally:
            running.close()
        return series

    def group_counts(
        self,
        engine: str,
        folder: Path,
        registry: Registry,
        scheme: str,
        at: datetime,
        groups: Sequence[tuple[str, str, str]],
        bottom: Sequence[str],
        memory_limit: str | None = None,
    ) -> tuple[int, dict[str, list[GroupCounts]]]:
        """The subjects enrolled in ``scheme`` at ``at`` (how many), and for each
        dimension, the counts of each group: ``groups`` is (dimension, group,
        subject) rows. Only counts leave the engine."""
        import pyarrow as pa

        tables_module = _needs("analytics", "socialcredit.adapters.analytics.tables")
        engine_module = _needs("analytics", "socialcredit.adapters.analytics.engine")
        plan = tables_module.definition_tables(registry.schemes, {scheme})
        if scheme in plan.skipped:
            raise UsageError(f"{scheme}: the batch plan leaves it out ({plan.skipped[scheme]})")
        names = ("dimension", "grp", "subject")
        table = pa.table(
            {name: [row[i] for row in groups] for i, name in enumerate(names)},
            schema=pa.schema([(name, pa.string()) for name in names]),
        )
        running = self._engine(engine, memory_limit, None)
        try:
            running.evaluate(engine_module.Ledger(folder=folder), plan, at)
            running.register("audit_groups", table)
            running.keep("audit_flags", _flags_query(scheme, bottom))
            population = running.fetch("SELECT COUNT(*) AS n FROM audit_flags").column("n")[0]
            totals = running.fetch(_GROUP_TOTALS).to_pylist()
            grades = running.fetch(_GROUP_GRADES).to_pylist()
            lists = running.fetch(_GROUP_LISTS.format(scheme=_quoted(scheme))).to_pylist()
        finally:
            running.close()
        return int(population.as_py()), _group_counts(totals, grades, lists)

    def _engine(self, name: str, memory_limit: str | None, master: str | None) -> SqlEngine:
        if name not in ENGINES:
            raise UsageError(f"--engine: {name!r} is not one of {', '.join(ENGINES)}")
        if name == "duckdb":
            module = _needs("analytics", "socialcredit.adapters.analytics.duckdb_engine")
            # DuckDB's progress bar writes to standard output: only for a terminal.
            progress = sys.stdout.isatty()
            engine: SqlEngine = module.DuckDBEngine(memory_limit=memory_limit, progress=progress)
            return engine
        module = _needs("spark", "socialcredit.adapters.analytics.spark_engine")
        spark: SqlEngine = module.SparkEngine(memory_limit=memory_limit, master=master)
        return spark


@dataclass
class CheckOutcome:
    action: str
    at: datetime
    subjects: int
    effects: dict[str, int]  # effect -> subjects, "allow" included
    reasons: list[dict[str, Any]]  # each measure: who it applied to, and what was decided
    overridden: int  # adverse answers a reviewer's override replaced
    decisions: (
        Any  # an Arrow table: subject, effect, factor, overridden (the subjects with a measure)
    )


@dataclass
class Simulation:
    """A scheme's population under the version in force and a proposal."""

    scheme: str
    at: datetime
    # (grade in force, grade proposed, subjects); "-" for no grade
    transitions: list[tuple[str, str, int]]
    # (list, entries gained, entries lost)
    lists: list[tuple[str, int, int]]
    # (category, subjects whose points in it changed, change in points over all subjects)
    categories: list[tuple[str, int, int]]
    # action -> "before"/"after" -> effect -> subjects a measure applies to
    consequences: dict[str, dict[str, dict[str, int]]]
    # the grades in force, then any the proposal adds, best first
    grades: list[str]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _flags_query(scheme: str, bottom: Sequence[str]) -> str:
    """A row per subject enrolled in ``scheme``: score, grade, whether in a
    bottom grade, and whether on any black list of the scheme."""
    in_bottom = (
        f"COALESCE(p.grade IN ({', '.join(_quoted(g) for g in bottom)}), FALSE)"
        if bottom
        else "FALSE"
    )
    return f"""WITH black AS (
          SELECT subject FROM e_record_entry WHERE scheme = {_quoted(scheme)} AND kind = 'black'
          UNION SELECT subject FROM e_grade_entry WHERE scheme = {_quoted(scheme)} AND kind = 'black'
        )
        SELECT p.subject, p.score, p.grade, {in_bottom} AS bottom,
          ({in_bottom} OR b.subject IS NOT NULL) AS adverse
        FROM e_evaluation p LEFT JOIN black b ON b.subject = p.subject
        WHERE p.scheme = {_quoted(scheme)} AND p.enrolled"""


_GROUP_TOTALS = """SELECT g.dimension, g.grp, COUNT(*) AS subjects,
      SUM(CASE WHEN f.bottom THEN 1 ELSE 0 END) AS bottom,
      SUM(CASE WHEN f.adverse THEN 1 ELSE 0 END) AS adverse,
      COUNT(f.score) AS scored, CAST(SUM(f.score) AS DOUBLE) AS score_sum,
      SUM(CAST(f.score AS DOUBLE) * CAST(f.score AS DOUBLE)) AS score_squares
    FROM audit_flags f JOIN audit_groups g ON g.subject = f.subject
    GROUP BY g.dimension, g.grp"""
_GROUP_GRADES = """SELECT g.dimension, g.grp, f.grade, COUNT(*) AS subjects
    FROM audit_flags f JOIN audit_groups g ON g.subject = f.subject
    WHERE f.grade IS NOT NULL GROUP BY g.dimension, g.grp, f.grade"""
_GROUP_LISTS = """SELECT g.dimension, g.grp, b.list_id, COUNT(DISTINCT b.subject) AS subjects
    FROM (SELECT subject, scheme, list_id, kind FROM e_record_entry
          UNION ALL SELECT subject, scheme, list_id, kind FROM e_grade_entry) b
    JOIN audit_flags f ON f.subject = b.subject
    JOIN audit_groups g ON g.subject = b.subject
    WHERE b.kind = 'black' AND b.scheme = {scheme} GROUP BY g.dimension, g.grp, b.list_id"""


def _group_counts(
    totals: list[dict[str, Any]], grades: list[dict[str, Any]], lists: list[dict[str, Any]]
) -> dict[str, list[GroupCounts]]:
    by_grade: dict[tuple[str, str], dict[str, int]] = {}
    for row in grades:
        by_grade.setdefault((row["dimension"], row["grp"]), {})[row["grade"]] = row["subjects"]
    by_list: dict[tuple[str, str], dict[str, int]] = {}
    for row in lists:
        by_list.setdefault((row["dimension"], row["grp"]), {})[row["list_id"]] = row["subjects"]
    found: dict[str, list[GroupCounts]] = {}
    for row in totals:
        key = (row["dimension"], row["grp"])
        found.setdefault(row["dimension"], []).append(
            GroupCounts(
                row["grp"],
                int(row["subjects"]),
                by_grade.get(key, {}),
                by_list.get(key, {}),
                int(row["bottom"] or 0),
                int(row["adverse"] or 0),
                int(row["scored"] or 0),
                float(row["score_sum"] or 0.0),
                float(row["score_squares"] or 0.0),
            )
        )
    return found


def _grades(before: Registry, after: Registry, scheme: str) -> list[str]:
    found = [name for name, _ in before.history(scheme).current.bands]
    return found + [name for name, _ in after.history(scheme).current.bands if name not in found]


def _effects(
    running: Any, action: str, registry: Registry, scheme: str, at: datetime
) -> dict[str, int]:
    """Subjects by effect on ``action`` from ``scheme``'s grades and lists and the
    memoranda on them (only the subjects such a measure applies to)."""
    import pyarrow as pa

    sources = tuple(s for s in registry.index.sources(action) if s.scheme == scheme)
    source_rows, reach_rows = _source_rows(sources, registry)
    found = running.check(
        action,
        pa.Table.from_pylist(source_rows, schema=_source_schema(pa)),
        pa.Table.from_pylist(reach_rows, schema=_reach_schema(pa)),
        at,
    )
    return {row["effect"]: row["subjects"] for row in found["effects"].to_pylist()}


def _source_schema(pa: Any) -> Any:
    return pa.schema(
        [
            ("n", pa.int64()),
            ("kind", pa.string()),
            ("scheme", pa.string()),
            ("grade", pa.string()),
            ("list_id", pa.string()),
            ("effect", pa.string()),
            ("factor", pa.float64()),
        ]
    )


def _reach_schema(pa: Any) -> Any:
    return pa.schema([("scheme", pa.string()), ("list_id", pa.string()), ("role", pa.string())])


def _source_rows(
    sources: Sequence[MeasureSource], registry: Registry
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    for n, source in enumerate(sources):
        base = {"n": n, "scheme": source.scheme, "effect": source.effect, "factor": source.factor}
        if source.grades is not None:
            rows += [
                {**base, "kind": "grade", "grade": g, "list_id": None}
                for g in sorted(source.grades)
            ]
        else:
            rows.append({**base, "kind": "list", "grade": None, "list_id": source.list})
    reach = [
        {"scheme": scheme, "list_id": list_id, "role": role}
        for (scheme, list_id), roles in sorted(registry.list_reach.items())
        for role in sorted(roles)
    ]
    return rows, reach


def _describe(source: MeasureSource) -> dict[str, Any]:
    return {
        "scheme": source.scheme,
        "memorandum": source.memorandum,
        "list": source.list,
        "grades": sorted(source.grades) if source.grades is not None else None,
        "authority": source.authority,
        "effect": source.effect,
        "factor": source.factor,
    }


def _needs(extra: str, module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as missing:
        raise UsageError(
            f"this needs the {extra!r} extra ({missing.name} is not installed): "
            f"pip install 'socialcredit[{extra}]'"
        ) from None


__all__ = ["ENGINES", "AnalyticsFiles", "CheckOutcome", "Outcome", "Simulation"]
