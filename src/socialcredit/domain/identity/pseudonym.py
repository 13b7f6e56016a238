"""Keyed pseudonyms for subjects, and the key they are made with.

Identifiers are stored only as an HMAC under a secret key (DESIGN §4): without
the key the stored hash cannot be brute-forced back to an ID, even though
resident IDs have little entropy (region, birth date, 3 digits). The key
itself is read and kept by ``socialcredit.adapters.keyfile``.
"""

from __future__ import annotations

import hashlib
import hmac

from socialcredit.domain.identity.identifiers import Identifier

__all__ = ["MIN_KEY_BYTES", "Pseudonymiser"]

MIN_KEY_BYTES = 16
DEFAULT_CACHE_LIMIT = 500_000


class Pseudonymiser:
    """Turns identifiers into stable hex HMAC-SHA256 subject keys."""

    __slots__ = ("_cache", "_cache_limit", "_key")

    def __init__(self, key: bytes, *, cache_limit: int = DEFAULT_CACHE_LIMIT) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(
                f"pseudonymisation key must be at least {MIN_KEY_BYTES} bytes, got {len(key)}"
            )
        self._key = bytes(key)
        self._cache_limit = cache_limit
        # Imports report the same subject many times; hashing once per subject is enough.
        self._cache: dict[str, str] = {}

    def subject_key(self, identifier: Identifier) -> str:
        """Return the HMAC-SHA256 of ``identifier.text``, truncated to 128 bits, in hex;
        this, not the ID, is stored. 128 bits keep collisions out of reach for any
        population while halving the size of every per-subject key and index."""
        text = identifier.text
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        digest = hmac.digest(self._key, text.encode("utf-8"), hashlib.sha256)[:16].hex()
        if len(self._cache) >= self._cache_limit:
            # Clearing wholesale is cheaper than LRU bookkeeping and bounds memory just as well.
            self._cache.clear()
        self._cache[text] = digest
        return digest

    def key_check(self) -> str:
        """A value derived from the key that reveals nothing about it; stored in
        the database so that opening it with another key fails loudly."""
        return hmac.digest(self._key, b"socialcredit key check", hashlib.sha256)[:16].hex()

    def __repr__(self) -> str:
        return "Pseudonymiser(<key hidden>)"  # never let the key reach a log
