"""Keyed pseudonyms for subjects, and the key they are made with.

Identifiers are stored only as an HMAC under a secret key (DESIGN §4): without
the key the stored hash cannot be brute-forced back to an ID, even though
resident IDs have little entropy (region, birth date, 3 digits).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from socialcredit.domain.identity.identifiers import Identifier

__all__ = ["KEY_ENV", "MIN_KEY_BYTES", "Pseudonymiser", "load_or_create_key"]

KEY_ENV = "SOCIALCREDIT_KEY"
MIN_KEY_BYTES = 16
NEW_KEY_BYTES = 32
DEFAULT_KEY_FILE = "socialcredit.key"
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


class KeyProblem(ValueError):
    """The pseudonymisation key is missing or malformed."""


class KeyMissing(KeyProblem):
    """No key for a database that already exists: refuse rather than invent one,
    since a new key would file every subject under a new pseudonym."""


def load_or_create_key(
    db_location: str, env: Mapping[str, str] = os.environ, *, create: bool = True
) -> bytes:
    """Return the pseudonymisation key for the database at ``db_location``.

    ``SOCIALCREDIT_KEY`` (hex) wins; otherwise the hex key file beside the database
    (``<db path>.key``, or ``./socialcredit.key`` for a server or in-memory database)
    is read, or, when ``create`` is true, created with a fresh random key.
    """
    if KEY_ENV in env:
        return _decode_hex_key(env[KEY_ENV], f"environment variable {KEY_ENV}")
    path = key_path_for(db_location)
    if not path.exists():
        if not create:
            raise KeyMissing(
                f"no identifier key for {db_location}: set {KEY_ENV} or restore {path}"
            )
        _create_key_file(path)
    return _decode_hex_key(path.read_text(encoding="ascii"), f"key file {path}")


def key_path_for(db_location: str) -> Path:
    """Where the key file of ``db_location`` lives."""
    if db_location.startswith("sqlite:///"):
        db_location = db_location.removeprefix("sqlite:///")
    elif db_location.startswith("file:"):
        # SQLite URI filenames may carry ?mode=... options that are not part of the path.
        db_location = db_location.removeprefix("file:").partition("?")[0]
    if not db_location or db_location == ":memory:" or "://" in db_location:
        return Path(DEFAULT_KEY_FILE)
    return Path(db_location + ".key")


def _decode_hex_key(text: str, source: str) -> bytes:
    # Messages name the source and the length, never the key text itself.
    text = text.strip()
    if len(text) < 2 * MIN_KEY_BYTES:
        raise KeyProblem(
            f"{source} must hold at least {2 * MIN_KEY_BYTES} hex characters "
            f"({MIN_KEY_BYTES} bytes), got {len(text)}"
        )
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise KeyProblem(
            f"{source} must be hexadecimal (0-9, a-f) with an even number of characters"
        ) from None


def _create_key_file(path: Path) -> None:
    # Write a private temp file first so no reader ever sees a partial key.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_bytes(NEW_KEY_BYTES).hex() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.chmod(tmp, 0o600)  # the umask can only narrow the mode; make it exact
        _publish(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _publish(tmp: Path, path: Path) -> None:
    # Two processes may start on a new database at once. A hard link never overwrites,
    # so the loser keeps the winner's key instead of silently hashing with its own.
    try:
        os.link(tmp, path)
    except FileExistsError:
        return
    except OSError:
        # Filesystems without hard links: fall back to an atomic (but overwriting) rename.
        os.replace(tmp, path)
