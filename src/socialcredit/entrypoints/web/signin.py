"""Signing in with a key, signing out, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from socialcredit.entrypoints.web import i18n
from socialcredit.entrypoints.web.kit import visit
from socialcredit.services.keys import AuthenticationFailed

router = APIRouter(include_in_schema=False)
LANDING = {
    "subject": "/me",
    "reporter": "/console/import",
    "reviewer": "/console",
    "admin": "/console",
}


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: a sign-in link must not send anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@router.get("/signin")
async def signin_form(request: Request, next: str | None = None) -> Response:
    seen = visit(request)
    return seen.page("signin.html", next=safe_next(next) or "", error=None)


@router.post("/signin")
async def signin(
    request: Request,
    key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    seen = visit(request)
    seen.check_form({"csrf": csrf})
    client = request.client.host if request.client else "unknown"
    if not seen.web.limit.allowed(client):
        error = seen.gettext("Too many failed attempts from here. Wait a few minutes.")
        return seen.page("signin.html", status=429, next=safe_next(next) or "", error=error)
    try:
        who = seen.services.keys.authenticate(key.strip())
    except AuthenticationFailed:
        seen.web.limit.failed(client)
        error = seen.gettext("That key is not valid. Check it and try again.")
        return seen.page("signin.html", status=401, next=safe_next(next) or "", error=error)
    if who.role not in LANDING:
        error = seen.gettext("The web is for subject, reporter, reviewer and admin keys.")
        return seen.page("signin.html", status=403, next=safe_next(next) or "", error=error)
    seen.session = seen.web.sessions.signed_in(who.key_id)
    return seen.redirect(safe_next(next) or LANDING[who.role])


@router.post("/signout")
async def signout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    seen = visit(request)
    seen.check_form({"csrf": csrf})
    seen.session = seen.web.sessions.signed_out()
    return seen.redirect("/")


@router.get("/lang/{locale}")
async def language(locale: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next) or "/", status_code=303)
    if locale in i18n.LOCALES:
        response.set_cookie(
            i18n.LANGUAGE_COOKIE, locale, max_age=365 * 86400, samesite="lax", httponly=True
        )
    return response
