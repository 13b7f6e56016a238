"""``socialcredit mobility``: zones, trips, rider reports and background
positions of a bike-share operator (docs/mobility.md), with the conventions of
the whole command line (``socialcredit.plugins.cli``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.errors import UsageError
from socialcredit.pilots.mobility.service import mobility_of
from socialcredit.plugins.cli import (
    CLI_ACTOR,
    DEFAULT_DB,
    Db,
    Json,
    count_lines,
    handled,
    opened,
    out,
    print_json,
    progress_bar,
    write_rejects,
)

REPORT_STATUSES = ("pending", "verified", "rejected", "all")

mobility_app = typer.Typer(
    help="Bike sharing: parking zones, trips and their verdicts, rider reports, positions.",
    no_args_is_help=True,
)
zones_app = typer.Typer(help="Parking and no-parking zones (GeoJSON).", no_args_is_help=True)
trips_app = typer.Typer(
    help="Trips: each trip end gets a verdict and a record.", no_args_is_help=True
)
reports_app = typer.Typer(
    help="Riders' reports of bad parking, and their review.", no_args_is_help=True
)
positions_app = typer.Typer(
    help="Positions outside a trip (only with consent).", no_args_is_help=True
)
mobility_app.add_typer(zones_app, name="zones")
mobility_app.add_typer(trips_app, name="trips")
mobility_app.add_typer(reports_app, name="reports")
mobility_app.add_typer(positions_app, name="positions")
Scheme = Annotated[str, typer.Option("--scheme", help="The operator's scheme id.")]


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
    with opened(db) as services:
        added = mobility_of(services).add_zones(
            scheme, text, kind_property=kind_property, actor=CLI_ACTOR
        )
    summary = {
        "scheme": added.scheme,
        "zone_set": added.version,
        "zones": added.zones,
        "by_kind": added.by_kind,
    }
    if as_json:
        print_json(summary)
        return
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(added.by_kind.items()))
    out.print(f"{scheme}: zone set {added.version} with {added.zones} zones ({kinds})")


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
    with opened(db) as services, progress_bar(not as_json and total > 5000) as bar:
        task = bar.add_task("importing trips", total=total)
        report = mobility_of(services).import_file(
            file, scheme=scheme, progress=lambda n: bar.advance(task, n)
        )
    write_rejects(rejects_path, report.rejected)
    verdicts = dict(sorted(report.verdicts.items()))
    summary = {
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": len(report.rejected),
        "verdicts": verdicts,
        "precise_positions_kept": report.precise_kept,
        "rejects_file": str(rejects_path) if report.rejected else None,
    }
    if as_json:
        print_json(summary)
        return
    shown = ", ".join(f"{n} {v}" for v, n in verdicts.items()) or "none"
    out.print(
        f"accepted {report.accepted}, duplicates {report.duplicates}, "
        f"rejected {len(report.rejected)}; verdicts: {shown}; "
        f"precise positions kept (with consent): {report.precise_kept}"
    )
    if report.rejected:
        out.print(f"rejected lines and their reasons: {rejects_path}")


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
    from socialcredit.pilots.mobility.reports import report_view

    with opened(db) as services:
        filed = mobility_of(services).reports.file(
            trip, by, statement, photo=photo, actor=CLI_ACTOR
        )
    if as_json:
        print_json(report_view(filed))
        return
    out.print(
        f"report {filed.id} on trip {filed.trip} is pending review by {filed.scheme}'s operator"
    )


@reports_app.command("list")
@handled
def reports_list(
    status: Annotated[str, typer.Option(help="pending, verified, rejected or all.")] = "pending",
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Rider reports, oldest first."""
    from socialcredit.pilots.mobility.reports import report_view

    if status not in REPORT_STATUSES:
        raise UsageError(f"--status: {status!r} is not one of {', '.join(REPORT_STATUSES)}")
    with opened(db) as services:
        found = mobility_of(services).reports.find(
            actor=CLI_ACTOR, status=None if status == "all" else status
        )
    views = [report_view(r) for r in found]
    if as_json:
        print_json(views)
        return
    table = Table("report", "trip", "scheme", "reporter", "offender", "status", "filed")
    for v in views:
        table.add_row(
            v["id"],
            v["trip"],
            v["scheme"],
            v["reporter"],
            v["offender"],
            v["status"],
            v["filed_at"],
        )
    empty = f"no {status if status != 'all' else ''} reports".replace("  ", " ")
    out.print(table if views else empty)


def _answer(db: str, report_id: str, reason: str, as_json: bool, *, verified: bool) -> None:
    from socialcredit.pilots.mobility.reports import report_view

    with opened(db) as services:
        mobility = mobility_of(services)
        act = mobility.reports.verify if verified else mobility.reports.reject
        done = act(report_id, reason, actor=CLI_ACTOR)
    if as_json:
        print_json(report_view(done))
    elif verified:
        out.print(f"report {done.id} verified; records {', '.join(done.records)}")
    else:
        out.print(f"report {done.id} rejected")


@reports_app.command("verify")
@handled
def reports_verify(
    report_id: Annotated[str, typer.Argument(metavar="REPORT")],
    reason: Annotated[str, typer.Option("--reason", help="Why the report holds.")],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Verify a report: the offender gets an improper-parking record, the reporter a reward."""
    _answer(db, report_id, reason, as_json, verified=True)


@reports_app.command("reject")
@handled
def reports_reject(
    report_id: Annotated[str, typer.Argument(metavar="REPORT")],
    reason: Annotated[str, typer.Option("--reason", help="Why the report does not hold.")],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Reject a report; nothing is recorded against anyone."""
    _answer(db, report_id, reason, as_json, verified=False)


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
    with opened(db) as services:
        moment = at if at is not None else services.clock().isoformat()
        kept = mobility_of(services).add_position(rider, scheme, lon, lat, moment, actor=CLI_ACTOR)
    out.print(f"position kept until {kept.kept_until.isoformat()} (consent to {kept.purpose!r})")


def add_commands(app: typer.Typer) -> None:
    app.add_typer(mobility_app, name="mobility")
