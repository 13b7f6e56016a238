"""What every page of the web shares: the templates, the visitor's language,
the session and its form token, the signed-in key, and error pages.

Pages call the same use cases as the CLI and the API, with the actor
``web:key:<id>[@<authority>]`` (or ``web`` for the public), so the web adds
no rules of its own and every read it makes is logged as the API's are.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from socialcredit import config
from socialcredit.bootstrap import Services
from socialcredit.domain.access import Principal
from socialcredit.entrypoints.web import i18n
from socialcredit.entrypoints.web.security import (
    CSRF_FIELD,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    Session,
    Sessions,
    SignInLimit,
    csrf_ok,
)
from socialcredit.errors import Forbidden, SocialCreditError, Unauthenticated

HERE = Path(__file__).parent
PUBLIC_ACTOR = "web"


@dataclass
class Web:
    """The web's state, made once per app: templates, sessions, sign-in limit."""

    services: Services
    sessions: Sessions
    limit: SignInLimit = field(default_factory=SignInLimit)
    _templates: dict[str, Environment] = field(default_factory=dict)

    def templates(self, locale: str) -> Environment:
        """The templates in one language (an environment per language, so that
        no page can render with another's translations)."""
        if locale not in self._templates:
            env = Environment(
                loader=FileSystemLoader(HERE / "templates"),
                autoescape=select_autoescape(["html", "svg"]),
                undefined=StrictUndefined,
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
            self._templates[locale] = env
        return self._templates[locale]

    @classmethod
    def for_services(cls, services: Services) -> Web:
        secret_hex = config.web_secret()
        secret = bytes.fromhex(secret_hex) if secret_hex else secrets.token_bytes(32)
        return cls(services, Sessions(secret, secure=config.secure_cookies()))


def web_of(request: Request) -> Web:
    found: Web = request.app.state.web
    return found


@dataclass
class Visit:
    """One request as the pages see it."""

    request: Request
    web: Web
    locale: str
    session: Session
    principal: Principal | None

    @property
    def services(self) -> Services:
        return self.web.services

    @property
    def actor(self) -> str:
        """How the audit log names the visitor: the key, through the web."""
        who = self.principal
        if who is None:
            return PUBLIC_ACTOR
        return f"web:key:{who.key_id}" + (f"@{who.authority}" if who.authority else "")

    def gettext(self, message: str) -> str:
        return i18n.translations(self.locale).gettext(message)

    def require(self, *roles: str) -> Principal:
        """The signed-in key, if its role is one of ``roles``."""
        if self.principal is None:
            raise Unauthenticated(self.gettext("Sign in first."))
        if self.principal.role not in roles:
            raise Forbidden(
                self.gettext("A %(role)s key may not open this page.")
                % {"role": self.principal.role}
            )
        return self.principal

    def check_form(self, form: Mapping[str, Any]) -> None:
        """Every form carries the session's token: a form posted from another
        site, or without it, is refused."""
        if not csrf_ok(self.session, form.get(CSRF_FIELD)):
            raise Forbidden(self.gettext("The form has expired or did not come from this site."))

    def page(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.render(template, **context)
        response = HTMLResponse(html, status_code=status)
        self.keep_session(response)
        return response

    def render(self, template: str, **context: Any) -> str:
        return (
            self.web.templates(self.locale)
            .get_template(template)
            .render(
                visit=self,
                locale=self.locale,
                html_lang=i18n.html_lang(self.locale),
                languages=[(code, i18n.language_name(code)) for code in i18n.LOCALES],
                csrf_field=CSRF_FIELD,
                csrf=self.session.csrf,
                when=lambda moment: i18n.when(moment, self.locale),
                number=lambda value: i18n.number(value, self.locale),
                **context,
            )
        )

    def redirect(self, url: str) -> RedirectResponse:
        """After a form: the result shows on the next page (303, so a reload
        does not post again)."""
        response = RedirectResponse(url, status_code=303)
        self.keep_session(response)
        return response

    def keep_session(self, response: Response) -> None:
        if self.session.fresh:
            response.set_cookie(
                SESSION_COOKIE,
                self.web.sessions.cookie(self.session),
                max_age=SESSION_MAX_AGE_S,
                httponly=True,
                samesite="strict",
                secure=self.web.sessions.secure,
                path="/",
            )


def visit(request: Request) -> Visit:
    web = web_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    session = web.sessions.read(cookie)
    locale = i18n.negotiate(
        request.headers.get("accept-language"), request.cookies.get(i18n.LANGUAGE_COOKIE)
    )
    principal = None
    if session.key_id is not None:
        try:
            principal = web.services.keys.still_valid(session.key_id)
        except Unauthenticated:
            session = web.sessions.signed_out()  # the key was revoked
    return Visit(request, web, locale, session, principal)


def error_page(request: Request, error: Exception, status: int) -> Response:
    """An error as a page that says what went wrong and what to do; never a
    stack trace. An anonymous visitor asked to sign in is sent to sign in."""
    seen = visit(request)
    if isinstance(error, Unauthenticated) and seen.principal is None and request.method == "GET":
        return seen.redirect(f"/signin?next={request.url.path}")
    message = str(error) if isinstance(error, SocialCreditError) else ""
    page = seen.page("error.html", status=status, status_code=status, message=message)
    # An error page may answer a path that is not the web's (a browser's 404).
    for name, value in SECURITY_HEADERS:
        page.headers[name.decode()] = value.decode()
    return page


__all__ = ["PUBLIC_ACTOR", "Visit", "Web", "error_page", "visit", "web_of"]
