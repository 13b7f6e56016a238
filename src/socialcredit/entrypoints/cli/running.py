"""``socialcredit serve`` and ``socialcredit demo``: the HTTP service, and the
demo town."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from socialcredit.config import DEFAULT_DEMO_DB, DEMO_DB_ENV
from socialcredit.entrypoints.cli.common import DEFAULT_DB, Db, Json, handled, opened, out

if TYPE_CHECKING:
    from socialcredit.bootstrap import Services
    from socialcredit.entrypoints.api.limits import RateLimit

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


RateLimitOption = Annotated[
    str,
    typer.Option(
        envvar="SOCIALCREDIT_RATE_LIMIT",
        help="Requests a second each API key may make: RATE/s or RATE/s,BURST, or off.",
    ),
]


Workers = Annotated[
    int,
    typer.Option(
        min=1,
        help="Processes serving requests, each with its own database connection and its own "
        "rate-limit buckets.",
    ),
]


@handled
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    rate_limit: RateLimitOption = "1000/s,2000",
    workers: Workers = 1,
    db: Db = DEFAULT_DB,
) -> None:
    """Serve the web (the portal at /) and the HTTP API (OpenAPI at
    /openapi.json, interactive docs at /docs)."""
    from socialcredit.entrypoints.api.limits import RateLimit

    limit = RateLimit.parse(rate_limit)  # refused before the database is opened
    with opened(db) as services:  # opened here too: a missing or old database is said at once
        out.print(
            f"serving {db} on http://{host}:{port} with {workers} "
            f"worker{'s' if workers > 1 else ''} (the web at /, API docs at /docs)"
        )
        if workers == 1:
            _run(services, host, port, limit)
            return
    _run_workers(db, host, port, rate_limit, workers)


def _run_workers(db: str, host: str, port: int, rate_limit: str, workers: int) -> None:
    """Several processes, each opening the ledger for itself (the app factory).
    Web sessions must outlive a worker: each process must sign them alike."""
    import os
    import secrets

    import uvicorn

    from socialcredit.config import DB_ENV, WEB_SECRET_ENV
    from socialcredit.entrypoints.api.limits import RATE_LIMIT_ENV

    os.environ[DB_ENV] = db
    os.environ[RATE_LIMIT_ENV] = rate_limit
    os.environ.setdefault(WEB_SECRET_ENV, secrets.token_hex(32))
    uvicorn.run(
        "socialcredit.entrypoints.api.app:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def _run(services: Services, host: str, port: int, limit: RateLimit | str | None = "env") -> None:
    import uvicorn

    from socialcredit.entrypoints.api import create_app

    app = create_app(services, rate_limit=limit)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@handled
def demo(
    db: Annotated[
        str,
        typer.Option("--db", envvar=DEMO_DB_ENV, help="Where to build the demo town."),
    ] = DEFAULT_DEMO_DB,
    people: Annotated[int, typer.Option(help="Residents.")] = 20_000,
    businesses: Annotated[
        int, typer.Option(help="Businesses (each with a legal representative).")
    ] = 1_000,
    institutions: Annotated[int, typer.Option(help="Government institutions.")] = 50,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve", help="Then serve the web on the demo town, with keys to sign in with."
        ),
    ] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    as_json: Json = False,
) -> None:
    """Build a synthetic Rongcheng-like town with the shipped schemes and show what happens."""
    from socialcredit.entrypoints.demo import demo_keys, run_demo

    summary = run_demo(
        db,
        people=people,
        businesses=businesses,
        institutions=institutions,
        seed=seed,
        console=out,
        as_json=as_json,
    )
    if not as_json:
        out.print(
            f"  {_command()} demo --serve   (the web, with keys to sign in with)",
            highlight=False,
            markup=False,
        )
    if serve:
        with opened(db) as services:
            keys = demo_keys(services, summary)
            url = f"http://{host}:{port}"
            out.print(f"\nserving the demo town on {url}", highlight=False)
            out.print(f"  the public portal:  {url}/", highlight=False)
            for role, (token, where) in keys.items():
                out.print(f"  {role} key: {token}   then open {url}{where}", highlight=False)
            _run(services, host, port)


def _command() -> str:
    from socialcredit.entrypoints.demo import command_name

    return command_name()


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
