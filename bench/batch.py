"""Batch benchmark: the whole population evaluated on DuckDB and on Spark
(local mode), against the least any correct plan must do, measured in the
same run.

Generates a snapshot directly as Parquet: ``--records`` records for
``--subjects`` subjects over the shipped schemes that the batch plan
evaluates, reported over three years, one in a hundred contested. Then:
- ``batch_duckdb_s``: the plan on DuckDB, results written as Parquet;
- ``baseline_duckdb_groupby_s``: DuckDB's ``sum(points) GROUP BY subject,
  scheme`` over the same Parquet, written as Parquet too;
- ``batch_spark_local_s``: the plan on Spark in local mode (``--no-spark``
  leaves it out);
- ``per_subject_engine_subjects_per_s``: the per-subject engine on a sample of
  ``--samples`` subjects, in this process;
- ``peak_rss_mb``: this process's peak resident memory, and Spark's JVM's;
- ``snapshot_bytes_per_record``: the snapshot's size on disk over its records.

A month's validity is taken as 30.44 days when generating, which changes no
timing. Prints one JSON line.

Usage: python bench/batch.py [--records N] [--subjects N] [--samples N] [--no-spark]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from socialcredit.adapters.analytics.duckdb_engine import DuckDBEngine
from socialcredit.adapters.analytics.engine import Ledger
from socialcredit.adapters.analytics.snapshot import SCHEMAS, aware
from socialcredit.adapters.analytics.tables import definition_tables
from socialcredit.adapters.files.definitions import validate_files
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.ledger.records import Record, RecordEvent
from socialcredit.domain.registry import build_registry
from socialcredit.domain.schemes.loader import StoredDefinition
from socialcredit.domain.scoring.engine import evaluate

AT = datetime(2026, 12, 1, tzinfo=UTC)
SPAN_S = 3 * 365 * 86400
CHUNK = 2_000_000  # records generated and written at a time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2_000)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--memory-limit", default="6GB")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sc-bench-batch-"))
    try:
        registry = _snapshot(folder / "snap", args.records, args.subjects)
        figures = _measure(folder, registry, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures))


def _snapshot(folder: Path, records: int, subjects: int) -> Any:
    """A snapshot of generated records, written straight as Parquet."""
    part = folder / "parts" / "00001"
    part.mkdir(parents=True)
    stored = [
        StoredDefinition(item.definition.id, 1, item.definition.type, AT, item.digest, item.text)
        for item in validate_files(shipped_scheme_files())
    ]
    registry = build_registry(stored)
    plan = definition_tables(registry.schemes)
    # Consent schemes are left out: every record of theirs would need a consent to count.
    schemes = [s for s in plan.schemes if not registry.schemes[s].current.needs_consent]
    categories = [
        (
            scheme,
            code,
            c.points,
            c.validity.months * 30.44 * 86400 + c.validity.span.total_seconds(),
        )
        for scheme in schemes
        for code, c in sorted(registry.schemes[scheme].current.categories.items())
    ]
    rng = np.random.default_rng(14)
    keys = np.array([f"{n:032x}" for n in rng.permutation(subjects)], dtype=object)
    writer = pq.ParquetWriter(part / "rec.parquet", SCHEMAS["rec"])
    contested: list[tuple[str, int]] = []
    for start in range(0, records, CHUNK):
        size = min(CHUNK, records - start)
        table, sample = _records(rng, start, size, keys, categories)
        writer.write_table(table)
        contested.extend(sample)
    writer.close()
    _statuses(part, contested)
    for name in ("enr", "con", "rescorings"):
        pq.write_table(SCHEMAS[name].empty_table(), part / f"{name}.parquet")
    defs = {
        "id": [s.id for s in stored],
        "version": [1] * len(stored),
        "type": [s.type for s in stored],
        "added_at": [AT.replace(tzinfo=None)] * len(stored),
        "digest": [s.digest for s in stored],
        "body": [s.text for s in stored],
    }
    pq.write_table(pa.table(defs, schema=SCHEMAS["defs"]), part / "defs.parquet")
    manifest = {"format": 1, "ledger_root": None, "parts": [{"part": 1, "rows": {"rec": records}}]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return registry


def _records(
    rng: np.random.Generator,
    start: int,
    size: int,
    keys: np.ndarray,
    categories: list[tuple[str, str, int, float]],
) -> tuple[pa.Table, list[tuple[str, int]]]:
    chosen = rng.integers(0, len(categories), size)
    scheme = np.array([c[0] for c in categories], dtype=object)[chosen]
    code = np.array([c[1] for c in categories], dtype=object)[chosen]
    points = np.array([c[2] for c in categories])[chosen]
    validity = np.array([c[3] for c in categories])[chosen].astype("timedelta64[s]")
    now = np.datetime64(AT.replace(tzinfo=None), "s")
    occurred = now - rng.integers(0, SPAN_S, size).astype("timedelta64[s]")
    reported = occurred + rng.integers(0, 30 * 86400, size).astype("timedelta64[s]")
    ids = np.array([f"b{n:09d}" for n in range(start, start + size)], dtype=object)
    subject = keys[rng.integers(0, len(keys), size)]
    columns = {
        "record": ids,
        "subject": subject,
        "scheme": scheme,
        "version": np.ones(size, dtype=np.int64),
        "category": code,
        "occurred_at": occurred.astype("datetime64[us]"),
        "reported_at": reported.astype("datetime64[us]"),
        "expires_at": (occurred + validity).astype("datetime64[us]"),
        "points": points.astype(np.int64),
    }
    table = pa.table(columns, schema=SCHEMAS["rec"])
    picked = rng.random(size) < 0.01
    return table, [(str(ids[i]), int(reported[i].astype("int64"))) for i in np.flatnonzero(picked)]


def _statuses(part: Path, contested: list[tuple[str, int]]) -> None:
    """One in a hundred records contested a day after it was reported."""
    rows: dict[str, list[Any]] = {name: [] for name in SCHEMAS["st"].names}
    for record, reported in contested:
        rows["record"].append(record)
        rows["status"].append("contested")
        rows["since"].append(datetime.fromtimestamp(reported + 86400, UTC).replace(tzinfo=None))
        rows["until"].append(None)
        rows["events"].append(1)
        rows["part"].append(1)
    pq.write_table(pa.table(rows, schema=SCHEMAS["st"]), part / "st.parquet")


def _measure(folder: Path, registry: Any, args: argparse.Namespace) -> dict[str, Any]:
    snap = folder / "snap"
    plan = definition_tables(registry.schemes)
    figures: dict[str, Any] = {"records": args.records, "subjects": args.subjects}
    stored = sum(path.stat().st_size for path in (snap / "parts" / "00001").glob("*.parquet"))
    figures["snapshot_bytes_per_record"] = round(stored / max(args.records, 1), 1)
    engine = DuckDBEngine(memory_limit=args.memory_limit, temp_directory=folder / "spill")
    began = time.perf_counter()
    engine.evaluate(Ledger(folder=snap), plan, AT)
    rows = engine.write_results(folder / "duckdb", explain=False)
    figures["batch_duckdb_s"] = round(time.perf_counter() - began, 2)
    figures["evaluations"] = rows["evaluations"]
    slowest = sorted(engine.timings.items(), key=lambda item: -item[1])[:8]
    figures["duckdb_slowest_steps_s"] = {name: round(took, 2) for name, took in slowest}
    records = engine.parquet([str(snap / "parts" / "00001" / "rec.parquet")])
    began = time.perf_counter()
    engine.write(
        f"SELECT subject, scheme, SUM(points) AS points FROM {records} GROUP BY subject, scheme",
        folder / "groupby.parquet",
    )
    figures["baseline_duckdb_groupby_s"] = round(time.perf_counter() - began, 2)
    engine.close()
    figures["batch_to_baseline"] = round(
        figures["batch_duckdb_s"] / max(figures["baseline_duckdb_groupby_s"], 1e-9), 2
    )
    figures["per_subject_engine_subjects_per_s"] = _per_subject(snap, registry, args.samples)
    spark_s, jvm_mb = (None, None) if args.no_spark else _spark(snap, plan, folder)
    figures["batch_spark_local_s"] = spark_s
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["peak_rss_spark_jvm_mb"] = jvm_mb
    return figures


def _per_subject(snap: Path, registry: Any, samples: int) -> float:
    """Subjects a second through ``evaluate``, on a sample, every scheme each
    is in (the work a batch does per subject, in this process)."""
    table = pq.read_table(snap / "parts" / "00001" / "rec.parquet")
    keys = sorted(set(table.column("subject").to_pylist()))[:samples]
    wanted = pa.array(keys)
    import pyarrow.compute as pc

    mine = table.filter(pc.is_in(table.column("subject"), value_set=wanted)).to_pylist()
    statuses = pq.read_table(snap / "parts" / "00001" / "st.parquet").to_pylist()
    events = {
        row["record"]: [RecordEvent(row["record"], "contested", aware(row["since"]), "bench")]
        for row in statuses
    }
    by_pair: dict[tuple[str, str], list[Record]] = {}
    for row in mine:
        by_pair.setdefault((row["subject"], row["scheme"]), []).append(_record(row))
    began = time.perf_counter()
    for (_, scheme), found in by_pair.items():
        history = registry.schemes[scheme]
        evaluate(history, found, {r.id: events[r.id] for r in found if r.id in events}, AT)
    elapsed = time.perf_counter() - began
    return round(len(keys) / elapsed, 1) if elapsed else 0.0


def _record(row: dict[str, Any]) -> Record:
    times = {name: aware(row[name]) for name in ("occurred_at", "reported_at", "expires_at")}
    return Record(
        id=row["record"],
        subject=row["subject"],
        scheme=row["scheme"],
        scheme_version=row["version"],
        category=row["category"],
        points=row["points"],
        reporter="bench",
        **times,
    )


def _spark(snap: Path, plan: Any, folder: Path) -> tuple[float, int | None]:
    """Seconds on Spark in local mode, and the JVM's peak resident memory."""
    from socialcredit.adapters.analytics.spark_engine import SparkEngine

    engine = SparkEngine(cores=2, memory_limit="6g")
    try:
        began = time.perf_counter()
        engine.evaluate(Ledger(folder=snap), plan, AT)
        engine.write_results(folder / "spark", explain=False)
        took = round(time.perf_counter() - began, 2)
        return took, _jvm_peak_mb(engine)
    finally:
        engine.close()


def _jvm_peak_mb(engine: Any) -> int | None:
    """The JVM's high-water mark of resident memory, from /proc (Linux)."""
    process = getattr(engine.session.sparkContext._gateway, "proc", None)
    status = Path(f"/proc/{process.pid}/status") if process is not None else None
    if status is None or not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return None


if __name__ == "__main__":
    main()
