"""The HTTP service: one FastAPI app over one ledger's services, a router per
resource, the plugins' routes, RFC 9457 problems for every error, a body
limit, and the interactive docs served without internet.

Handlers are ``async`` and call the use cases directly, so they run one at a
time on the event loop: the SQLite connection is one, and its write
transactions must not interleave.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialcredit import __version__
from socialcredit.bootstrap import Services
from socialcredit.entrypoints import web
from socialcredit.entrypoints.api import problems
from socialcredit.entrypoints.api.limits import KeyLimiter, RateLimit
from socialcredit.entrypoints.api.routers import admin, cases, catalogue, log, records, subjects
from socialcredit.hooks import plugin_manager

MAX_BODY_BYTES = 16 * 1024 * 1024  # a batch of 10,000 records is about 3 MiB


def create_app(services: Services, rate_limit: RateLimit | str | None = "env") -> FastAPI:
    """The HTTP API and the web over ``services``. ``rate_limit``: requests a
    second a key may make (``SOCIALCREDIT_RATE_LIMIT`` by default; None: no limit)."""
    app = FastAPI(
        docs_url=None,  # served below from bundled assets, so /docs works without internet
        title="socialcredit",
        version=__version__,
        description="Many schemes, no single score: every score explained, every record "
        "contestable, every decision logged.",
    )
    app.state.services = services
    limit = RateLimit.from_env(os.environ) if rate_limit == "env" else rate_limit
    app.state.limiter = KeyLimiter(limit) if isinstance(limit, RateLimit) else None
    problems.install(app)
    app.add_middleware(BodyLimit, larger=web.LARGER_BODIES)
    _offline_docs(app)
    for router in (
        catalogue.router,
        records.router,
        cases.router,
        subjects.router,
        admin.router,
        log.router,
    ):
        app.include_router(router)
    # Checks are the most frequent call. The documented route above describes them
    # in the OpenAPI schema; requests are served by a plain Starlette route with
    # the same handler, placed first, which skips FastAPI's per-request
    # dependency solving (the handler reads its own parameters anyway).
    app.router.routes.insert(
        0, Route("/subjects/{identifier}/check", subjects.check, methods=["GET"])
    )
    plugin_manager().hook.register_routes(app=app)
    web.install(app, services)
    return app


def from_environment() -> FastAPI:
    """The app over the ledger ``SOCIALCREDIT_DB`` names: what each worker process
    of ``socialcredit serve --workers N`` builds for itself (uvicorn's factory),
    with a database connection of its own."""
    from socialcredit import bootstrap
    from socialcredit.config import DB_ENV, DEFAULT_DB

    return create_app(bootstrap.open(os.environ.get(DB_ENV, DEFAULT_DB)))


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not
    they announce their length, before any handler reads them. ``larger``
    names paths allowed more (a record file uploaded to the console)."""

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY_BYTES, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app, self.default, self.larger = app, limit, dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.default)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._too_large(scope, receive, send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._too_large(scope, receive, send, limit)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await problems.problem(413, f"the body is over {limit} bytes")(scope, receive, send)


class _TooLarge(Exception):
    pass


# Swagger UI (recent enough for OpenAPI 3.1) as the fastapi-offline package ships it.
_DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI from bundled assets instead of a CDN: many deployments of a
    system like this run on networks without internet."""
    app.mount("/docs-assets", StaticFiles(directory=_DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="socialcredit API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )


__all__ = ["MAX_BODY_BYTES", "BodyLimit", "create_app"]
