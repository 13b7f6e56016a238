"""RFC 9457 problem details: every 4xx names the field and the rule broken."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from socialcredit.app import (
    AuthenticationFailed,
    DefinitionErrors,
    NotFound,
    UnknownName,
    UsageError,
)
from socialcredit.domain.access import AccessDenied
from socialcredit.domain.identity import IdentifierError
from socialcredit.errors import RepairRefused
from socialcredit.intake import RecordError

PROBLEM = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Request body too large",
    422: "Invalid input",
    500: "Internal error",
}


def problem(
    status: int,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem document; ``extra`` adds members of its own (RFC 9457 §3.2)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="socialcredit"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    """Map every expected error to its status and a problem document."""

    @app.exception_handler(AuthenticationFailed)
    async def _unauthenticated(_: Request, error: AuthenticationFailed) -> JSONResponse:
        return problem(401, str(error))

    @app.exception_handler(AccessDenied)
    async def _forbidden(_: Request, error: AccessDenied) -> JSONResponse:
        return problem(403, str(error))

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, error: NotFound) -> JSONResponse:
        return problem(404, str(error))

    @app.exception_handler(UnknownName)
    async def _unknown(_: Request, error: UnknownName) -> JSONResponse:
        return problem(404, str(error.args[0]))

    @app.exception_handler(RecordError)
    async def _bad_record(_: Request, error: RecordError) -> JSONResponse:
        return problem(422, str(error), [{"field": error.field, "rule": error.rule}])

    @app.exception_handler(IdentifierError)
    async def _bad_identifier(_: Request, error: IdentifierError) -> JSONResponse:
        return problem(422, str(error), [{"field": "identifier", "rule": str(error)}])

    @app.exception_handler(DefinitionErrors)
    async def _bad_definition(_: Request, error: DefinitionErrors) -> JSONResponse:
        errors = [
            {"field": problem_.path or "definition", "rule": problem_.message}
            for failed in error.errors
            for problem_ in failed.problems
        ]
        return problem(422, "the definition is invalid", errors)

    @app.exception_handler(RepairRefused)
    async def _too_early(_: Request, error: RepairRefused) -> JSONResponse:
        # Too early under the PRC credit-repair rules: say from when it is possible.
        opens = error.opens_at.isoformat().replace("+00:00", "Z")
        return problem(422, str(error), [{"field": "record", "rule": str(error)}],
                       {"available_from": opens})  # fmt: skip

    @app.exception_handler(UsageError)
    async def _usage(_: Request, error: UsageError) -> JSONResponse:
        field, _sep, rule = str(error).partition(": ")
        errors = [{"field": field, "rule": rule}] if rule and " " not in field else None
        return problem(400, str(error), errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(part) for part in e["loc"] if part != "body") or "body",
             "rule": e["msg"]}
            for e in error.errors()
        ]  # fmt: skip
        return problem(422, "the request is invalid", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail))
