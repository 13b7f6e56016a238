"""``socialcredit keys``: API keys, created, listed and revoked."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.domain.times import iso
from socialcredit.entrypoints.cli.common import (
    CLI_ACTOR,
    DEFAULT_DB,
    Db,
    Json,
    Kind,
    handled,
    opened,
    out,
    print_json,
)
from socialcredit.entrypoints.views import key_view

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@keys_app.command("create")
@handled
def keys_create(
    role: Annotated[str, typer.Option(help="admin, reporter, checker, reviewer or subject.")],
    authority: Annotated[
        str | None, typer.Option(help="The authority a reporter, checker or reviewer acts for.")
    ] = None,
    subject: Annotated[
        str | None, typer.Option(help="The identifier a subject key belongs to.")
    ] = None,
    kind: Kind = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Create an API key and print it once: only its hash is kept."""
    with opened(db) as services:
        key, token = services.keys.create(
            role, authority=authority, subject=subject, kind=kind, actor=CLI_ACTOR
        )
    if as_json:
        print_json({**key_view(key), "key": token})
        return
    acts_for = (f" for {key.authority}" if key.authority else "") + (
        f" for {key.subject_masked}" if key.subject_masked else ""
    )
    out.print(f"created {key.role} key {key.id}{acts_for}")
    out.print("the key, shown this once (send it as 'Authorization: Bearer <key>'):")
    sys.stdout.write(token + "\n")


@keys_app.command("list")
@handled
def keys_list(db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """Every key, without its secret."""
    with opened(db) as services:
        keys = services.keys.list()
    if as_json:
        print_json([key_view(key) for key in keys])
        return
    table = Table("id", "role", "authority", "subject", "created", "revoked", title="API keys")
    for key in keys:
        table.add_row(
            key.id,
            key.role,
            key.authority or "",
            key.subject_masked or "",
            iso(key.created_at),
            iso(key.revoked_at) or "",
        )
    out.print(table)


@keys_app.command("revoke")
@handled
def keys_revoke(key_id: Annotated[str, typer.Argument(metavar="ID")], db: Db = DEFAULT_DB) -> None:
    """Revoke a key: it stops working at once."""
    with opened(db) as services:
        services.keys.revoke(key_id, actor=CLI_ACTOR)
    out.print(f"revoked key {key_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
