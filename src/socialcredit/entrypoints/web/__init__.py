"""The web: a public portal, a subject's own portal and an operator console,
server-rendered HTML over the same use cases as the CLI and the API
(``install`` adds it to the HTTP service's app)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from socialcredit.bootstrap import Services
from socialcredit.entrypoints.web import console, imports, me, overview, public, schemes, signin
from socialcredit.entrypoints.web.kit import Web, error_page
from socialcredit.entrypoints.web.security import SecurityHeaders

# The paths the web answers; everything else is the JSON API.
WEB_PREFIXES = (
    "/catalogue/",
    "/published/",
    "/report/",
    "/me",
    "/console",
    "/signin",
    "/signout",
    "/lang/",
    "/static/",
)


# Paths whose bodies may be larger than the API's limit: record files.
LARGER_BODIES = {"/console/import": imports.MAX_UPLOAD_BYTES}


def is_web_path(path: str) -> bool:
    return path == "/" or path.startswith(WEB_PREFIXES)


def install(app: FastAPI, services: Services) -> None:
    app.state.web = Web.for_services(services)
    app.state.html_errors = _html_errors
    app.state.import_jobs = imports.ImportJobs()
    routers = (public, signin, me, console, imports, schemes, overview)
    for router in (module.router for module in routers):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.add_middleware(SecurityHeaders, is_web_path=is_web_path)


def _html_errors(request: Request, error: Exception, status: int) -> Response | None:
    """An error on a web path, or asked for by a browser, as a page."""
    browser = "text/html" in request.headers.get("accept", "")
    if is_web_path(request.url.path) or (browser and status == 404):
        return error_page(request, error, status)
    return None


__all__ = ["LARGER_BODIES", "install", "is_web_path"]
