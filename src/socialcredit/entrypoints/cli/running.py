"""``socialcredit serve`` and ``socialcredit demo``: the HTTP service, and the
demo town."""

from __future__ import annotations

from typing import Annotated

import typer

from socialcredit.config import DEFAULT_DEMO_DB, DEMO_DB_ENV
from socialcredit.entrypoints.cli.common import DEFAULT_DB, Db, Json, handled, opened, out


@handled
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Db = DEFAULT_DB,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, interactive docs at /docs)."""
    import uvicorn

    from socialcredit.entrypoints.api import create_app

    with opened(db) as services:
        out.print(f"serving {db} on http://{host}:{port} (docs at /docs)")
        uvicorn.run(create_app(services), host=host, port=port, log_level="warning")


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
    as_json: Json = False,
) -> None:
    """Build a synthetic Rongcheng-like town with the shipped schemes and show what happens."""
    from socialcredit.entrypoints.demo import run_demo

    run_demo(
        db,
        people=people,
        businesses=businesses,
        institutions=institutions,
        seed=seed,
        console=out,
        as_json=as_json,
    )


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
