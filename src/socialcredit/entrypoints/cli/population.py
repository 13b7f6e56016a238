"""``socialcredit snapshot`` and ``socialcredit batch evaluate``: the whole
population at once, on DuckDB (embedded, the default) or Apache Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.entrypoints.cli.common import (
    DEFAULT_DB,
    Db,
    Json,
    handled,
    moment,
    opened,
    out,
    print_json,
    progress_bar,
)

batch_app = typer.Typer(
    help="The whole population at once, on an analytics engine.", no_args_is_help=True
)
OutDir = Annotated[Path, typer.Option("--out", help="Directory to write to.")]
Engine = Annotated[str, typer.Option(help="duckdb (embedded) or spark.")]
SnapshotDir = Annotated[
    Path | None,
    typer.Option("--snapshot", help="A snapshot to read; default a fresh one of --db."),
]
MemoryLimit = Annotated[
    str | None,
    typer.Option(help="The engine's memory limit, e.g. 2GB: beyond it DuckDB spills to disk."),
]


@handled
def snapshot(
    out_dir: OutDir,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Only what was known at this UTC time (records reported, events, enrolments, "
            "consents and definitions by then); default everything.",
        ),
    ] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Write the ledger as Parquet, for analytics engines. Subjects appear only
    as their pseudonymous keys. Into a directory that already holds a snapshot,
    only what is new is added, as a new part."""
    with opened(db) as services, progress_bar(not as_json) as progress:
        task = progress.add_task("snapshot", total=None)

        def tick(scheme: str, done: int, total: int) -> None:
            progress.update(task, description=f"snapshot {scheme}", completed=done)

        report = services.population.snapshot(out_dir, moment(at), tick)
    if as_json:
        print_json(
            {
                "folder": str(report.folder),
                "part": report.part,
                "root": report.root,
                "rows": report.rows,
            }
        )
        return
    added = ", ".join(f"{count} {name}" for name, count in report.rows.items())
    out.print(f"snapshot part {report.part} in {report.folder}: {added}", highlight=False)
    out.print(
        f"ledger root {report.root} (check it with `socialcredit verify --root`)", highlight=False
    )


@batch_app.command("evaluate")
@handled
def evaluate(
    out_dir: OutDir,
    at: Annotated[str, typer.Option("--at", help="Evaluate at this UTC time (ISO-8601).")],
    engine: Engine = "duckdb",
    snapshot_dir: SnapshotDir = None,
    scheme: Annotated[
        list[str] | None, typer.Option("--scheme", help="Only these schemes (repeatable).")
    ] = None,
    memory_limit: MemoryLimit = None,
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="A Spark cluster's master URL (spark://host:7077, yarn); default local mode, "
            "or the master spark-submit set.",
            envvar="SPARK_MASTER",
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain", help="Also write every counted record and every exclusion with its reason."
        ),
    ] = False,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Score, grade, list entries and points per category of every enrolled
    subject in every scheme at --at, as the per-subject engine gives them,
    written as Parquet under --out (evaluations, list_entries, category_points;
    with --explain, counted and excluded too)."""
    when = moment(at)
    assert when is not None
    with opened(db) as services:
        outcome = services.population.evaluate(
            when,
            out_dir,
            engine=engine,
            snapshot=snapshot_dir,
            schemes=set(scheme) if scheme else None,
            memory_limit=memory_limit,
            master=spark_master,
            explain=explain,
        )
    if as_json:
        print_json(
            {
                "out": str(out_dir),
                "rows": outcome.rows,
                "schemes": outcome.schemes,
                "skipped": outcome.skipped,
            }
        )
        return
    written = ", ".join(f"{count} {name}" for name, count in outcome.rows.items())
    out.print(
        f"evaluated {', '.join(outcome.schemes) or 'no scheme'} on {engine}: {written}",
        highlight=False,
    )
    for skipped, why in outcome.skipped.items():
        out.print(f"left out {skipped}: {why} (use `socialcredit score`)", highlight=False)


@batch_app.command("check")
@handled
def check(
    action: Annotated[str, typer.Argument(help="The action, e.g. travel.rail.g-train.")],
    at: Annotated[str, typer.Option("--at", help="Decide at this UTC time (ISO-8601).")],
    engine: Engine = "duckdb",
    snapshot_dir: SnapshotDir = None,
    memory_limit: MemoryLimit = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """How many subjects get each effect on ACTION at --at, and under which
    measures: the whole population's check, as `socialcredit check` decides
    one subject (overrides included). Nothing is logged as a decision."""
    when = moment(at)
    assert when is not None
    with opened(db) as services:
        found = services.population.check(
            action, when, engine=engine, snapshot=snapshot_dir, memory_limit=memory_limit
        )
    if as_json:
        print_json(
            {
                "action": found.action,
                "at": found.at.isoformat(),
                "subjects": found.subjects,
                "effects": found.effects,
                "overridden": found.overridden,
                "reasons": found.reasons,
            }
        )
        return
    out.print(
        f"{found.action} at {found.at.isoformat()}: {found.subjects} subjects", highlight=False
    )
    for effect, count in sorted(found.effects.items(), key=lambda item: -item[1]):
        out.print(f"  {effect}: {count}", highlight=False)
    if found.overridden:
        out.print(f"  ({found.overridden} adverse answers replaced by a reviewer's override)")
    table = Table("subjects", "measure", "source", "decided")
    for reason in found.reasons:
        where = reason["memorandum"] or reason["scheme"]
        held = (
            f"list {reason['list']}" if reason["list"] else f"grades {', '.join(reason['grades'])}"
        )
        via = " (reaching linked people)" if reason["reached"] else ""
        measure = f"{reason['effect']}" + (f" ×{reason['factor']}" if reason["factor"] else "")
        table.add_row(str(reason["subjects"]), measure, f"{where}: {held}{via}", reason["decided"])
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command()(snapshot)
    app.add_typer(batch_app, name="batch")


__all__ = ["register"]
