"""What keeps the web safe to use: the security headers on every page, a
session that is a signed cookie naming the signed-in key, a CSRF token on
every form, and a limit on sign-in attempts per client.

The session holds only the key's id and the form token, signed with the
server's session key (``SOCIALCREDIT_WEB_SECRET``, or a fresh random one at
each start). Each request looks the key up again, so revoking a key ends its
sessions at once.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "sc_session"
SESSION_MAX_AGE_S = 8 * 3600  # a working day; then sign in again
CSRF_FIELD = "csrf"

# Scripts only from the site itself: no inline script, no eval, no other
# origin; the page may not be framed. Styles likewise (no inline style).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Adds the headers above to every response of the web's paths."""

    def __init__(self, app: ASGIApp, is_web_path: Callable[[str], bool]) -> None:
        self.app = app
        self.is_web_path = is_web_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.is_web_path(scope["path"]):
            # The API's /docs page runs Swagger UI's inline script: not the web's.
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] not in _OURS]
                message["headers"] = [*headers, *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


_OURS = {name for name, _ in SECURITY_HEADERS}


@dataclass(frozen=True, slots=True)
class Session:
    key_id: str | None  # the signed-in key, if any
    csrf: str  # the token every form of this session carries
    fresh: bool = False  # made on this request: its cookie is still to be sent

    @property
    def signed_in(self) -> bool:
        return self.key_id is not None


class Sessions:
    """Signed session cookies: read, made and checked."""

    def __init__(self, secret: bytes, *, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="socialcredit web session")
        self.secure = secure

    def read(self, cookie: str | None) -> Session:
        """The session a cookie carries; a fresh anonymous one if it carries
        none, or a tampered or expired one."""
        if cookie:
            try:
                data = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE_S)
                return Session(data.get("k"), str(data["c"]))
            except (BadSignature, KeyError, TypeError, AttributeError):
                pass
        return Session(None, secrets.token_urlsafe(24), fresh=True)

    def cookie(self, session: Session) -> str:
        return self._serializer.dumps({"k": session.key_id, "c": session.csrf})

    def signed_out(self) -> Session:
        return Session(None, secrets.token_urlsafe(24), fresh=True)

    def signed_in(self, key_id: str) -> Session:
        """A new session for a key: a new form token too, so that one fixed
        before sign-in cannot be used after it."""
        return Session(key_id, secrets.token_urlsafe(24), fresh=True)


def csrf_ok(session: Session, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(session.csrf, sent or "")


class SignInLimit:
    """At most ``attempts`` failed sign-ins per client in ``window_s`` seconds:
    a subject key cannot be guessed, but a flood of guesses costs the server."""

    def __init__(self, attempts: int = 10, window_s: float = 300.0) -> None:
        self.attempts, self.window_s = attempts, window_s
        self._failures: dict[str, deque[float]] = {}

    def allowed(self, client: str) -> bool:
        failures = self._recent(client)
        return len(failures) < self.attempts

    def failed(self, client: str) -> None:
        self._recent(client).append(time.monotonic())

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        cutoff = time.monotonic() - self.window_s
        while failures and failures[0] < cutoff:
            failures.popleft()
        if len(self._failures) > 10_000:  # bounded memory: forget the quiet clients
            self._failures = {c: f for c, f in self._failures.items() if f}
        return failures


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "SecurityHeaders",
    "Session",
    "Sessions",
    "SignInLimit",
    "csrf_ok",
]
