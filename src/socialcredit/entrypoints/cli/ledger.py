"""``socialcredit records import``, ``enrol`` and ``link``: what goes into the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from socialcredit.adapters.files.readers import count_lines
from socialcredit.entrypoints.cli.common import (
    CLI_ACTOR,
    DEFAULT_DB,
    At,
    Db,
    Json,
    Kind,
    handled,
    moment,
    opened,
    out,
    print_json,
    progress_bar,
    write_rejects,
)
from socialcredit.entrypoints.views import import_summary
from socialcredit.errors import UsageError

records_app = typer.Typer(help="Import reported records.", no_args_is_help=True)

Identifier = Annotated[str, typer.Argument(help="Identifier, e.g. cn-ric:…")]


@records_app.command("import")
@handled
def records_import(
    file: Annotated[Path, typer.Argument(help="CSV or JSON Lines with the record fields.")],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Import records: good lines are kept, each bad one goes to FILE.rejects.jsonl."""
    if not file.is_file():
        raise UsageError(f"no such file: {file}")
    rejects_path = Path(f"{file}.rejects.jsonl")
    total = count_lines(file)
    with opened(db) as services, progress_bar(not as_json and total > 5000) as progress:
        task = progress.add_task("importing", total=total)
        report = services.imports.import_file(file, progress=lambda n: progress.advance(task, n))
    write_rejects(rejects_path, report.rejected)
    summary = import_summary(report, str(rejects_path) if report.rejected else None)
    if as_json:
        print_json(summary)
        return
    out.print(
        f"accepted {report.accepted}, duplicates {report.duplicates}, rejected {len(report.rejected)}"
    )
    if report.rejected:
        out.print(f"rejected lines and their reasons: {rejects_path}")


@handled
def enrol(
    subject: Identifier,
    scheme: Annotated[str, typer.Argument(help="Scheme id.")],
    kind: Kind = None,
    at: At = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Enrol a subject in a scheme (records also enrol by themselves)."""
    with opened(db) as services:
        row, created = services.subjects.enrol(
            subject, scheme, kind=kind, at=moment(at), actor=CLI_ACTOR
        )
    out.print(f"{row.masked} {'enrolled in' if created else 'was already enrolled in'} {scheme}")


@handled
def link(
    business: Annotated[str, typer.Argument(help="The business's cn-uscc: identifier.")],
    person: Annotated[str, typer.Argument(help="The person's identifier.")],
    since: Annotated[str, typer.Option(help="From when the link holds (ISO-8601).")],
    until: Annotated[str | None, typer.Option(help="Until when (exclusive).")] = None,
    role: Annotated[str, typer.Option(help="The link's role.")] = "legal_representative",
    db: Db = DEFAULT_DB,
) -> None:
    """Record that PERSON is the legal representative of BUSINESS."""
    start = moment(since, "--since")
    assert start is not None
    with opened(db) as services:
        services.subjects.link(
            business,
            person,
            role=role,
            since=start,
            until=moment(until, "--until"),
            reporter=CLI_ACTOR,
        )
    out.print(f"linked: {role}")


def register(app: typer.Typer) -> None:
    app.add_typer(records_app, name="records")
    app.command()(enrol)
    app.command()(link)
