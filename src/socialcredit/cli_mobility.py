"""``socialcredit mobility``: zones, trips, rider reports and background
positions of a bike-share operator (docs/mobility.md).

A thin adapter over :class:`socialcredit.mobility.service.Mobility`, with the
conventions of the main command line: tables for people, ``--json`` for
machines, one ``error:`` line on stderr and exit status 1 for every refusal.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from socialcredit.app import DEFAULT_DB, SocialCredit, StoreError, UnknownName, UsageError
from socialcredit.domain.identity import IdentifierError
from socialcredit.errors import KeyProblem
from socialcredit.intake import RecordError
from socialcredit.readers import count_lines

if TYPE_CHECKING:
    from socialcredit.mobility.service import Mobility

mobility_app = typer.Typer(
    help="Bike sharing: parking zones, trips and their verdicts, rider reports, positions.",
    no_args_is_help=True,
)
zones_app = typer.Typer(help="Parking and no-parking zones (GeoJSON).", no_args_is_help=True)
trips_app = typer.Typer(help="Trips: each trip end gets a verdict and a record.",
                        no_args_is_help=True)  # fmt: skip
reports_app = typer.Typer(help="Riders' reports of bad parking, and their review.",
                          no_args_is_help=True)  # fmt: skip
positions_app = typer.Typer(help="Positions outside a trip (only with consent).",
                            no_args_is_help=True)  # fmt: skip
mobility_app.add_typer(zones_app, name="zones")
mobility_app.add_typer(trips_app, name="trips")
mobility_app.add_typer(reports_app, name="reports")
mobility_app.add_typer(positions_app, name="positions")

out = Console()
err = Console(stderr=True)

Db = Annotated[
    str,
    typer.Option("--db", envvar="SOCIALCREDIT_DB", help="SQLite database file.", show_default=True),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
Scheme = Annotated[str, typer.Option("--scheme", help="The operator's scheme id.")]

F = TypeVar("F", bound=Callable[..., Any])


def handled(command: F) -> F:
    """Every expected error as one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (UsageError, StoreError, UnknownName, RecordError, IdentifierError, KeyProblem,
                ValueError) as error:  # fmt: skip
            from socialcredit.mobility.zones import ZoneError  # shapely loads only when needed

            expected = (UsageError, StoreError, UnknownName, RecordError, IdentifierError,
                        KeyProblem, ZoneError)  # fmt: skip
            if not isinstance(error, expected):
                raise
            message = str(error.args[0]) if isinstance(error, UnknownName) else str(error)
            for line in message.splitlines() or ["failed"]:
                sys.stderr.write(f"error: {line}\n")
            raise typer.Exit(1) from None
        except OSError as error:
            sys.stderr.write(f"error: {error.strerror}: {error.filename}\n")
            raise typer.Exit(1) from None
        except sqlite3.Error as error:
            sys.stderr.write(f"error: database: {error}\n")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def _mobility(db: str) -> Iterator[Mobility]:
    from socialcredit.mobility.service import Mobility  # numpy and shapely load only when needed

    system = SocialCredit.open(db)
    try:
        yield Mobility(system)
    finally:
        system.close()


def report_view(found: Any) -> dict[str, Any]:
    from socialcredit.mobility.service import report_view as view

    return view(found)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


# -- zones ---------------------------------------------------------------------------


@zones_app.command("import")
@handled
def zones_import(
    file: Annotated[Path, typer.Argument(help="A GeoJSON FeatureCollection of polygons.")],
    scheme: Scheme,
    kind_property: Annotated[
        str, typer.Option(help="The property that says parking or no-parking.")
    ] = "kind",
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Add a new zone set for a scheme; trips from now on are judged against it."""
    text = file.read_bytes()
    with _mobility(db) as mobility:
        added = mobility.add_zones(scheme, text, kind_property=kind_property)
    summary = {"scheme": added.scheme, "zone_set": added.version, "zones": added.zones,
               "by_kind": added.by_kind}  # fmt: skip
    if as_json:
        _print_json(summary)
        return
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(added.by_kind.items()))
    out.print(f"{scheme}: zone set {added.version} with {added.zones} zones ({kinds})")


# -- trips ---------------------------------------------------------------------------


@trips_app.command("import")
@handled
def trips_import(
    file: Annotated[Path, typer.Argument(help="CSV or JSON Lines of trips.")],
    scheme: Annotated[
        str | None, typer.Option("--scheme", help="Scheme of lines that name none.")
    ] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Import trips: each end is judged against the zones and becomes a record.
    Precise positions are dropped unless the rider consented; bad lines go to
    FILE.rejects.jsonl."""
    if not file.is_file():
        raise UsageError(f"no such file: {file}")
    rejects_path = Path(f"{file}.rejects.jsonl")
    total = count_lines(file)
    with _mobility(db) as mobility, _progress(not as_json and total > 5000) as progress:
        task = progress.add_task("importing trips", total=total)
        report = mobility.import_file(file, scheme=scheme,
                                      progress=lambda n: progress.advance(task, n))  # fmt: skip
    if report.rejected:
        with rejects_path.open("w", encoding="utf-8") as handle:
            for rejection in report.rejected:
                handle.write(json.dumps({"line": rejection.line, "id": rejection.record,
                                         "reason": rejection.reason}, ensure_ascii=False) + "\n")  # fmt: skip
    elif rejects_path.exists():
        rejects_path.unlink()  # a stale file from an earlier run would mislead
    summary = {"accepted": report.accepted, "duplicates": report.duplicates,
               "rejected": len(report.rejected), "verdicts": dict(sorted(report.verdicts.items())),
               "precise_positions_kept": report.precise_kept,
               "rejects_file": str(rejects_path) if report.rejected else None}  # fmt: skip
    if as_json:
        _print_json(summary)
        return
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(report.verdicts.items())) or "none"
    out.print(f"accepted {report.accepted}, duplicates {report.duplicates}, "
              f"rejected {len(report.rejected)}; verdicts: {verdicts}; "
              f"precise positions kept (with consent): {report.precise_kept}")  # fmt: skip
    if report.rejected:
        out.print(f"rejected lines and their reasons: {rejects_path}")


def _progress(visible: bool) -> Progress:
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(), console=err,
                    disable=not visible, transient=True)  # fmt: skip


# -- rider reports -----------------------------------------------------------------------


@mobility_app.command("report")
@handled
def report(
    trip: Annotated[str, typer.Argument(help="The trip whose parking is reported.")],
    by: Annotated[str, typer.Option("--by", help="The reporting rider's identifier.")],
    statement: Annotated[str, typer.Option("--statement", help="What was wrong.")],
    photo: Annotated[str | None, typer.Option("--photo", help="A reference to a photo.")] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Report another rider's bad parking; it counts once a reviewer verifies it."""
    with _mobility(db) as mobility:
        filed = mobility.report(trip, by, statement, photo=photo)
    if as_json:
        _print_json(report_view(filed))
        return
    out.print(f"report {filed.id} on trip {filed.trip} is pending review by {filed.scheme}'s "
              "operator")  # fmt: skip


@reports_app.command("list")
@handled
def reports_list(
    status: Annotated[str, typer.Option(help="pending, verified, rejected or all.")] = "pending",
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Rider reports, oldest first."""
    if status not in ("pending", "verified", "rejected", "all"):
        raise UsageError(f"--status: {status!r} is not one of pending, verified, rejected, all")
    with _mobility(db) as mobility:
        found = mobility.reports(status=None if status == "all" else status)
        subjects = sorted({k for r in found for k in (r.subject, r.offender_key)})
        if subjects:  # the reports name riders: reading them is logged like any read
            store, clock = mobility.system.store, mobility.system.clock
            store.log_accesses(subjects, clock(), "cli", "report review", f"reports ({status})")
    views = [report_view(r) for r in found]
    if as_json:
        _print_json(views)
        return
    table = Table("report", "trip", "scheme", "reporter", "offender", "status", "filed")
    for v in views:
        table.add_row(v["id"], v["trip"], v["scheme"], v["reporter"], v["offender"], v["status"],
                      v["filed_at"])  # fmt: skip
    out.print(
        table if views else f"no {status if status != 'all' else ''} reports".replace("  ", " ")
    )


@reports_app.command("verify")
@handled
def reports_verify(
    report_id: Annotated[str, typer.Argument(metavar="REPORT")],
    reason: Annotated[str, typer.Option("--reason", help="Why the report holds.")],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Verify a report: the offender gets an improper-parking record, the reporter a reward."""
    _answer_report(db, report_id, reason, as_json, verified=True)


@reports_app.command("reject")
@handled
def reports_reject(
    report_id: Annotated[str, typer.Argument(metavar="REPORT")],
    reason: Annotated[str, typer.Option("--reason", help="Why the report does not hold.")],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Reject a report; nothing is recorded against anyone."""
    _answer_report(db, report_id, reason, as_json, verified=False)


def _answer_report(db: str, report_id: str, reason: str, as_json: bool, *, verified: bool) -> None:
    with _mobility(db) as mobility:
        done = (mobility.verify if verified else mobility.reject)(report_id, reason)
    if as_json:
        _print_json(report_view(done))
    elif verified:
        out.print(f"report {done.id} verified; records {', '.join(done.records)}")
    else:
        out.print(f"report {done.id} rejected")


# -- background positions ------------------------------------------------------------------


@positions_app.command("add")
@handled
def positions_add(
    rider: Annotated[str, typer.Argument(help="The rider's identifier.")],
    scheme: Scheme,
    lon: Annotated[float, typer.Option("--lon", help="Longitude, degrees.")],
    lat: Annotated[float, typer.Option("--lat", help="Latitude, degrees.")],
    at: Annotated[
        str | None, typer.Option("--at", help="UTC time (ISO-8601); default now.")
    ] = None,
    db: Db = DEFAULT_DB,
) -> None:
    """A position outside a trip: refused unless the rider consented to
    'background-location' for the scheme."""
    with _mobility(db) as mobility:
        moment = at if at is not None else mobility.system.clock().isoformat()
        kept = mobility.add_position(rider, scheme, lon, lat, moment)
    out.print(f"position kept until {kept.kept_until.isoformat()} (consent to {kept.purpose!r})")


__all__ = ["mobility_app"]
