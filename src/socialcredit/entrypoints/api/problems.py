"""RFC 9457 problem details: every error the API answers with is a problem
document that names the field and the rule broken, mapped here and nowhere
else from the package's error classes (``socialcredit.errors``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from socialcredit.domain.times import iso
from socialcredit.entrypoints.api.limits import RateLimited
from socialcredit.errors import (
    Conflict,
    DefinitionErrors,
    Forbidden,
    InvalidInput,
    NotFound,
    RepairRefused,
    StoreError,
    Unauthenticated,
    UsageError,
)

PROBLEM = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Request body too large",
    422: "Invalid input",
    429: "Too many requests",
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


def _field_and_rule(message: str) -> list[dict[str, str]] | None:
    """``field: rule`` as an error entry, where the message starts with a field name."""
    field, _sep, rule = message.partition(": ")
    return [{"field": field, "rule": rule}] if rule and " " not in field else None


def error_problem(error: Exception) -> JSONResponse:
    """The problem document for one of the package's errors: the one mapping
    from error class to status. The most specific class decides."""
    if isinstance(error, RateLimited):
        found = problem(429, str(error), extra={"retry_after": error.retry_after})
        found.headers["Retry-After"] = str(error.retry_after)
        return found
    if isinstance(error, RepairRefused):
        # Too early under the PRC credit-repair rules: say from when it is possible.
        extra = {"available_from": iso(error.opens_at)}
        return problem(422, str(error), [{"field": "record", "rule": str(error)}], extra)
    if isinstance(error, DefinitionErrors):
        errors = [
            {"field": found.path or "definition", "rule": found.message}
            for failed in error.errors
            for found in failed.problems
        ]
        return problem(422, "the definition is invalid", errors)
    if isinstance(error, InvalidInput):
        return problem(422, str(error), [{"field": error.field, "rule": error.rule}])
    if isinstance(error, NotFound):
        return problem(404, str(error))
    if isinstance(error, Conflict):
        return problem(409, str(error), _field_and_rule(str(error)))
    if isinstance(error, UsageError):
        return problem(400, str(error), _field_and_rule(str(error)))
    if isinstance(error, Forbidden):
        return problem(403, str(error), _field_and_rule(str(error)))
    if isinstance(error, Unauthenticated):
        return problem(401, str(error))
    if isinstance(error, StoreError):
        return problem(500, "the database cannot be used now")
    return problem(500, "internal error")


def install(app: FastAPI) -> None:
    """Answer every expected error with its problem document."""

    async def _known(request: Request, error: Exception) -> Response:
        found = error_problem(error)
        return _as_page(request, error, found.status_code) or found

    for kind in (UsageError, Forbidden, Unauthenticated, StoreError, RateLimited):
        app.add_exception_handler(kind, _known)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        page = _as_page(request, UsageError(_validation_text(error)), 422)
        if page is not None:
            return page
        errors = [
            {
                "field": ".".join(str(part) for part in e["loc"] if part != "body") or "body",
                "rule": e["msg"],
            }
            for e in error.errors()
        ]
        return problem(422, "the request is invalid", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        page = _as_page(request, error, error.status_code)
        return page or problem(error.status_code, str(error.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        # Never a stack trace: the web shows a page, the API a problem document.
        return _as_page(request, error, 500) or problem(500, "internal error")


def _as_page(request: Request, error: Exception, status: int) -> Response | None:
    """The web's page for an error on one of its paths (the web installs the
    renderer); ``None`` leaves the API's problem document."""
    render = getattr(request.app.state, "html_errors", None)
    return render(request, error, status) if render is not None else None


def _validation_text(error: RequestValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'query', 'form'))}: {e['msg']}"
        for e in error.errors()
    )


__all__ = ["PROBLEM", "error_problem", "install", "problem"]
