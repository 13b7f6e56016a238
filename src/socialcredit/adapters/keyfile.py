"""The identifier key: read from the environment or from the key file beside
the database, or created there, never written anywhere else.

Without the key no stored pseudonym can be matched to an identifier, and a
database refuses any key but the one it was first used with.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from socialcredit.config import KEY_ENV
from socialcredit.domain.identity.pseudonym import MIN_KEY_BYTES
from socialcredit.errors import KeyMissing, KeyProblem

NEW_KEY_BYTES = 32
DEFAULT_KEY_FILE = "socialcredit.key"


def load_or_create_key(
    db_location: str,
    key_hex: str | None,
    *,
    create: bool = True,
    suffix: str = ".key",
    env_name: str = KEY_ENV,
) -> bytes:
    """Return the pseudonymisation key for the database at ``db_location``.

    ``key_hex`` (the value of ``SOCIALCREDIT_KEY``) wins; otherwise the hex key file beside the database
    (``<db path>.key``, or ``./socialcredit.key`` for a server or in-memory database)
    is read, or, when ``create`` is true, created with a fresh random key.
    """
    if key_hex is not None:
        return _decode_hex_key(key_hex, f"environment variable {env_name}")
    path = key_path_for(db_location, suffix)
    if not path.exists():
        if not create:
            what = "identifier key" if suffix == ".key" else "log signing key"
            raise KeyMissing(
                f"no {what} for {db_location}: set {env_name} or restore {path} "
                "(`socialcredit init` makes one for a ledger that has none)"
            )
        _create_key_file(path)
    return _decode_hex_key(path.read_text(encoding="ascii"), f"key file {path}")


def witness_key(path: Path) -> tuple[bytes, bool]:
    """A witness's Ed25519 signing key (its 32-byte seed) from the hex file at
    ``path``, made there first if there is none; whether it was made."""
    made = not path.exists()
    if made:
        _create_key_file(path)
    key = _decode_hex_key(path.read_text(encoding="ascii"), f"key file {path}")
    if len(key) != NEW_KEY_BYTES:
        raise KeyProblem(f"key file {path} must hold {NEW_KEY_BYTES} bytes in hex, not {len(key)}")
    return key, made


def key_path_for(db_location: str, suffix: str = ".key") -> Path:
    """Where the key file of ``db_location`` lives (``suffix``: ``.key`` for the
    identifier key, ``.log-key`` for the transparency log's signing key)."""
    if db_location.startswith("sqlite:///"):
        db_location = db_location.removeprefix("sqlite:///")
    elif db_location.startswith("file:"):
        # SQLite URI filenames may carry ?mode=... options that are not part of the path.
        db_location = db_location.removeprefix("file:").partition("?")[0]
    if not db_location or db_location == ":memory:" or "://" in db_location:
        return Path(DEFAULT_KEY_FILE).with_suffix(suffix)
    return Path(db_location + suffix)


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
