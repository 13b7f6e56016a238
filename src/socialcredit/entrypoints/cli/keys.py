"""``socialcredit keys``: API keys, created, listed and revoked."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.domain.ledger.values import StoredKey
from socialcredit.domain.schemes.durations import Duration, DurationError
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
from socialcredit.errors import UsageError

keys_app = typer.Typer(help="Create, rotate, list and revoke API keys.", no_args_is_help=True)
ExpiresIn = Annotated[
    str | None,
    typer.Option(help="The key stops working this long after it is made (ISO-8601, e.g. P90D)."),
]


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
    expires_in: ExpiresIn = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Create an API key and print it once: only its hash is kept."""
    lifetime = _duration(expires_in, "--expires-in")
    with opened(db) as services:
        key, token = services.keys.create(
            role,
            authority=authority,
            subject=subject,
            kind=kind,
            expires_in=lifetime,
            actor=CLI_ACTOR,
        )
    _show_new(key, token, as_json)


def _show_new(key: StoredKey, token: str, as_json: bool) -> None:
    if as_json:
        print_json({**key_view(key), "key": token})
        return
    acts_for = (f" for {key.authority}" if key.authority else "") + (
        f" for {key.subject_masked}" if key.subject_masked else ""
    )
    until = f", valid until {iso(key.expires_at)}" if key.expires_at else ""
    out.print(f"created {key.role} key {key.id}{acts_for}{until}")
    out.print("the key, shown this once (send it as 'Authorization: Bearer <key>'):")
    sys.stdout.write(token + "\n")


def _duration(text: str | None, option: str) -> timedelta | None:
    """An ISO-8601 duration in weeks, days, hours, minutes or seconds (P90D, PT12H)."""
    if text is None:
        return None
    try:
        found = Duration.parse(text)
    except DurationError as wrong:
        raise UsageError(f"{option}: {wrong}") from None
    if found.months:
        raise UsageError(f"{option}: give days, not months or years (e.g. P90D), got {text!r}")
    return found.span


@keys_app.command("rotate")
@handled
def keys_rotate(
    key_id: Annotated[str, typer.Argument(metavar="ID")],
    grace: Annotated[
        str,
        typer.Option(
            help="How long the old key keeps working (ISO-8601, e.g. P7D; P0D: not at all)."
        ),
    ] = "P7D",
    expires_in: ExpiresIn = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """A new key for the same role and authority or subject; the old one keeps
    working for the grace period, then stops."""
    overlap = _duration(grace, "--grace")
    assert overlap is not None
    lifetime = _duration(expires_in, "--expires-in")
    with opened(db) as services:
        key, token = services.keys.rotate(
            key_id, grace=overlap, expires_in=lifetime, actor=CLI_ACTOR
        )
    if not as_json:
        out.print(f"key {key_id} stops working in {grace}")
    _show_new(key, token, as_json)


@keys_app.command("list")
@handled
def keys_list(db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """Every key, without its secret."""
    with opened(db) as services:
        keys = services.keys.list()
    if as_json:
        print_json([key_view(key) for key in keys])
        return
    table = Table(
        "id", "role", "authority", "subject", "created", "expires", "revoked", title="API keys"
    )
    for key in keys:
        table.add_row(
            key.id,
            key.role,
            key.authority or "",
            key.subject_masked or "",
            iso(key.created_at),
            iso(key.expires_at) or "",
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
