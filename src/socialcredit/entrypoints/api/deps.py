"""What every route of the HTTP API shares: the ledger's services, the
caller's key, the actor the audit log names, and the request models' field
types. Plugins get it all as a :class:`RouteKit` (``register_routes``).

Every dependency is ``async``: a plain ``def`` one would cost a hop to a worker
thread on every request, and the SQLite connection must stay on one thread.
"""

# No `from __future__ import annotations`: FastAPI reads these annotations.

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, Field

from socialcredit.bootstrap import Services
from socialcredit.domain.access import Principal
from socialcredit.domain.text import (
    ID_PATTERN,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_STATEMENT_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_TIME_LENGTH,
    line_problem,
    statement_problem,
)
from socialcredit.domain.times import parse_time
from socialcredit.entrypoints.api.limits import KeyLimiter
from socialcredit.services.keys import AuthenticationFailed


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _services(request: Request) -> Services:
    return services_of(request)


Svc = Annotated[Services, Depends(_services)]


async def principal(
    services: Services, authorization: str | None, limiter: KeyLimiter | None = None
) -> Principal:
    """The key an ``Authorization: Bearer`` header carries, or 401 saying what is
    wrong; with a ``limiter``, 429 for a key over its limit."""
    if not authorization:
        raise AuthenticationFailed("send an API key as 'Authorization: Bearer <key>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("the Authorization header must be 'Bearer <key>'")
    return _limited(services.keys.authenticate(token.strip()), limiter)


def limiter_of(request: Request) -> KeyLimiter | None:
    found: KeyLimiter | None = getattr(request.app.state, "limiter", None)
    return found


def _limited(who: Principal, limiter: KeyLimiter | None) -> Principal:
    if limiter is not None:
        limiter.take(who.key_id)
    return who


# Declared as HTTP bearer security, so the docs page offers an Authorize button.
_bearer = HTTPBearer(auto_error=False, description="An API key from `socialcredit keys create`.")


async def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    services, limiter = services_of(request), limiter_of(request)
    if credentials is None:
        # names what is wrong with the header
        return await principal(services, authorization, limiter)
    return _limited(services.keys.authenticate(credentials.credentials.strip()), limiter)


Caller = Annotated[Principal, Depends(_caller)]


def actor(who: Principal) -> str:
    """How the audit log names a key's holder: ``key:<id>[@<authority>]``."""
    return f"key:{who.key_id}" + (f"@{who.authority}" if who.authority else "")


def at(value: str | None, field: str = "at") -> datetime | None:
    return parse_time(value, field) if value is not None else None


def _statement(value: str) -> str:
    found = statement_problem(value)
    if found:
        raise ValueError(found)
    return value


def _line(value: str) -> str:
    found = line_problem(value)
    if found:
        raise ValueError(found)
    return value


# Ids in paths: no id holds a control character (and PostgreSQL's text no NUL).
Id = Annotated[str, PathParam(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
# What the subject says, and a reviewer's written reasons (GDPR art. 12(3), 22(3)).
Statement = Annotated[
    str, Field(min_length=1, max_length=MAX_STATEMENT_LENGTH), AfterValidator(_statement)
]
Evidence = Annotated[
    str, Field(min_length=1, max_length=MAX_TEXT_LENGTH), AfterValidator(_statement)
]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(_statement)]
Line = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(_line)]
Reference = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH), AfterValidator(_line)]
Moment = Annotated[str, Field(min_length=1, max_length=MAX_TIME_LENGTH)]
LineMoment = Annotated[str, Field(min_length=1, max_length=MAX_TIME_LENGTH), AfterValidator(_line)]


__all__ = [
    "Caller",
    "Evidence",
    "Id",
    "Line",
    "LineMoment",
    "Moment",
    "Name",
    "Reference",
    "Statement",
    "Svc",
    "actor",
    "at",
    "limiter_of",
    "principal",
    "services_of",
]
