"""``socialcredit notices`` and ``socialcredit retention``: telling subjects
what happened, and erasing what is past retention."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.adapters.delivery import channel_for
from socialcredit.entrypoints.cli.common import (
    CLI_ACTOR,
    DEFAULT_DB,
    Db,
    Json,
    Kind,
    err,
    handled,
    opened,
    out,
    print_json,
)
from socialcredit.entrypoints.views import retention_view, stored_notice_view

notices_app = typer.Typer(help="Build, deliver and list notices to subjects.", no_args_is_help=True)
retention_app = typer.Typer(help="Erase what is past retention.", no_args_is_help=True)

# Who the audit log names for erasures of a retention run from the command line.
RETENTION_ACTOR = "retention"


@notices_app.command("sweep")
@handled
def notices_sweep(db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """Build the notices the ledger calls for: records reported, adverse decisions,
    lists entered and left. Safe to run again; run it before each delivery."""
    with opened(db) as services:
        built = services.notices.sweep().built
    if as_json:
        print_json(dict(built))
    else:
        out.print(", ".join(f"{n} {k}" for k, n in sorted(built.items())) or "no new notices")


@notices_app.command("deliver")
@handled
def notices_deliver(
    to: Annotated[
        str, typer.Option("--to", help="console, or file:PATH (JSON Lines).")
    ] = "console",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 10_000,
    db: Db = DEFAULT_DB,
) -> None:
    """Sweep, then hand undelivered notices to a channel, oldest first."""
    channel = channel_for(to, sys.stdout)
    with opened(db) as services:
        services.notices.sweep()
        count = services.notices.deliver(channel, limit=limit)
    err.print(f"{count} notices delivered to {channel.name}")


@notices_app.command("list")
@handled
def notices_list(
    subject: Annotated[str, typer.Argument(help="Identifier, e.g. cn-ric:…")],
    kind: Kind = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """The notices a subject was sent (or is due to be sent)."""
    with opened(db) as services:
        stored = services.notices.of(subject, kind=kind, actor=CLI_ACTOR, purpose="notice enquiry")
    views = [stored_notice_view(s) for s in stored]
    if as_json:
        print_json(views)
        return
    table = Table("at", "kind", "title", "delivered")
    for v in views:
        table.add_row(v["at"], v["kind"], v["title"], v["delivered_at"] or "not yet")
    out.print(table if views else "no notices")


@retention_app.command("run")
@handled
def retention_run(
    apply: Annotated[
        bool, typer.Option("--apply", help="Erase them (default: a dry run).")
    ] = False,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Erase what is past each scheme's retention period; a dry run unless --apply."""
    with opened(db) as services:
        report = services.retention.run(apply=apply, actor=RETENTION_ACTOR)
    if as_json:
        print_json(retention_view(report))
        return
    verb = "erased" if apply else "would erase (dry run; --apply to erase)"
    out.print(f"{verb}: {len(report.items)} records")
    for scheme, count in sorted(report.by_scheme().items()):
        out.print(f"  {scheme}: {count}")
    for section in report.plugins:
        if any(section.counts.values()):
            counts = ", ".join(
                f"{n} {what.replace('_', ' ')}" for what, n in section.counts.items()
            )
            out.print(f"  {section.label}: {counts}")


def register(app: typer.Typer) -> None:
    app.add_typer(notices_app, name="notices")
    app.add_typer(retention_app, name="retention")
