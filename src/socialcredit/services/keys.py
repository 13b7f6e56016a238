"""API keys: created with a role (and the authority or subject it acts for),
shown once, kept only as a hash, revoked at once; and the bearer token of a
request turned back into the principal it stands for."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from socialcredit.domain.access import AUTHORITY_ROLES, ROLES, Principal
from socialcredit.domain.compliance import Platform
from socialcredit.domain.ledger.values import StoredKey
from socialcredit.domain.times import iso
from socialcredit.errors import NotFound, Unauthenticated, UsageError
from socialcredit.services.definitions import Definitions
from socialcredit.services.subjects import Subjects
from socialcredit.services.unit_of_work import UnitOfWork

TOKEN_PREFIX = "sck_"


class AuthenticationFailed(Unauthenticated):
    """No valid key (HTTP 401)."""


class Keys:
    def __init__(self, uow: UnitOfWork, subjects: Subjects, definitions: Definitions) -> None:
        self._uow = uow
        self._subjects = subjects
        self._definitions = definitions

    def create(
        self,
        role: str,
        *,
        authority: str | None = None,
        subject: str | None = None,
        kind: str | None = None,
        expires_in: timedelta | None = None,
        actor: str,
    ) -> tuple[StoredKey, str]:
        """A new API key; the token is returned once and only its hash is kept.
        With ``expires_in``, it stops working that long after it is made."""
        if expires_in is not None and expires_in <= timedelta(0):
            raise UsageError("expires: a key must live for some time (a positive duration)")
        if role not in ROLES:
            raise UsageError(f"role: {role!r} is not one of {', '.join(ROLES)}")
        if role in AUTHORITY_ROLES and authority is None:
            raise UsageError(f"a {role} key acts for an authority: give --authority")
        if role not in AUTHORITY_ROLES and authority is not None:
            raise UsageError(f"a {role} key acts for no authority: leave out --authority")
        if (role == "subject") != (subject is not None):
            raise UsageError("a subject key, and only a subject key, names its --subject")
        authorities = self._definitions.authorities()
        if authority is not None and authority not in authorities:
            known = ", ".join(sorted(authorities)) or "none yet: add schemes first"
            raise UsageError(f"authority: unknown authority {authority!r} (known: {known})")
        row = self._subjects.identify(subject, kind) if subject is not None else None
        made = StoredKey(
            "",
            role,
            authority,
            row.key if row else None,
            row.masked if row else None,
            self._uow.clock(),
            actor,
        )
        return self._add(made, expires_in, made.created_at)

    def _add(
        self, like: StoredKey, expires_in: timedelta | None, now: datetime
    ) -> tuple[StoredKey, str]:
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        expires_at = now + expires_in if expires_in is not None else None
        stored = replace(like, id=key_id, created_at=now, revoked_at=None, expires_at=expires_at)
        keys = self._uow.keys
        with self._uow.transaction():
            keys.add_key(stored, _secret_hash(secret))
            if expires_at is not None:
                keys.add_term(
                    key_id, expires_at, "expiry set when it was made", now, like.created_by
                )
        return stored, f"{TOKEN_PREFIX}{key_id}_{secret}"

    def rotate(
        self, key_id: str, *, grace: timedelta, expires_in: timedelta | None = None, actor: str
    ) -> tuple[StoredKey, str]:
        """A new key for the same role, authority or subject; the old one keeps
        working for ``grace`` (so that its holder can switch), then stops."""
        if grace < timedelta(0):
            raise UsageError("grace: the grace period cannot be negative")
        old = self._usable(key_id)
        now = self._uow.clock()
        ends = now + grace
        with self._uow.transaction():
            made = self._add(replace(old, created_by=actor), expires_in, now)
            if old.expires_at is None or ends < old.expires_at:
                self._uow.keys.add_term(
                    key_id, ends, f"rotated: replaced by {made[0].id}", now, actor
                )
        return made

    def _usable(self, key_id: str) -> StoredKey:
        found = self._uow.keys.key_secret(key_id)
        if found is None:
            raise NotFound(f"no key with id {key_id!r}")
        key = found[0]
        if key.revoked_at is not None:
            raise UsageError(f"key {key_id!r} was revoked: make a new one")
        if key.expires_at is not None and key.expires_at <= self._uow.clock():
            raise UsageError(f"key {key_id!r} has expired: make a new one")
        return key

    def revoke(self, key_id: str, *, actor: str) -> None:
        """Revoke a key: it stops working at once."""
        keys = self._uow.keys
        if keys.key_secret(key_id) is None:
            raise NotFound(f"no key with id {key_id!r}")
        if not keys.revoke_key(key_id, self._uow.clock(), actor):
            raise UsageError(f"key {key_id!r} was already revoked")

    def list(self) -> list[StoredKey]:
        """Every key, without its secret."""
        return self._uow.keys.keys()

    def reviewing_authorities(self) -> frozenset[str]:
        """The authorities with an active reviewer key: who can answer
        referrals and contests over HTTP (the linter's art. 22 check)."""
        stored = self._uow.keys.keys()  # the key repository's keys, not a mapping's
        return frozenset(
            k.authority
            for k in stored
            if k.role == "reviewer" and k.revoked_at is None and k.authority is not None
        )

    def platform(self) -> Platform:
        """What the platform guarantees as it is served over HTTP, with the
        reviewers the keys name (what the linter checks a scheme against)."""
        return Platform(reviewers=self.reviewing_authorities())

    def authenticate(self, token: str) -> Principal:
        """The principal a bearer token stands for, or :class:`AuthenticationFailed`."""
        prefix, _, rest = token.partition(TOKEN_PREFIX)
        key_id, _, secret = rest.partition("_")
        if prefix or not key_id or not secret:
            raise AuthenticationFailed("the key is not a socialcredit API key")
        found = self._uow.keys.key_secret(key_id)
        # Compare even when the id is unknown, so timing does not tell ids apart.
        expected = found[1] if found else _secret_hash("")
        if not hmac.compare_digest(_secret_hash(secret), expected) or found is None:
            raise AuthenticationFailed("the key is not valid")
        return self._principal(found[0])

    def _principal(self, key: StoredKey) -> Principal:
        if key.revoked_at is not None:
            raise AuthenticationFailed(f"the key {key.id} was revoked")
        if key.expires_at is not None and key.expires_at <= self._uow.clock():
            raise AuthenticationFailed(f"the key {key.id} expired at {iso(key.expires_at)}")
        return Principal(key.id, key.role, key.authority, key.subject)  # type: ignore[arg-type]

    def still_valid(self, key_id: str) -> Principal:
        """The principal of a key already authenticated (a web session holds
        its id): refused once the key is revoked, so that revoking a key ends
        its sessions too."""
        found = self._uow.keys.key_secret(key_id)
        if found is None:
            raise AuthenticationFailed("the session's key is not known")
        return self._principal(found[0])


def _secret_hash(secret: str) -> str:
    # The secret is 256 random bits, so a plain hash suffices (no key stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


__all__ = ["TOKEN_PREFIX", "AuthenticationFailed", "Keys"]
