"""The identifier key: created beside the database with mode 0600, reused,
overridden by SOCIALCREDIT_KEY, never overwritten, and its problems named
without showing the key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from socialcredit.adapters.keyfile import load_or_create_key
from socialcredit.errors import KeyProblem

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_file_is_created_beside_the_database_with_mode_0600(tmp_path: Path) -> None:
    old_umask = os.umask(0)  # the mode must not depend on a permissive umask
    try:
        key = load_or_create_key(str(tmp_path / "credit.db"), None)
    finally:
        os.umask(old_umask)
    key_file = tmp_path / "credit.db.key"
    assert len(key) == 32
    assert file_mode(key_file) == 0o600
    assert bytes.fromhex(key_file.read_text()) == key
    assert [p.name for p in tmp_path.iterdir()] == ["credit.db.key"]  # no temp file left


def test_key_file_is_reused(tmp_path: Path) -> None:
    db = str(tmp_path / "credit.db")
    first = load_or_create_key(db, None)
    assert load_or_create_key(db, None) == first
    assert load_or_create_key(str(tmp_path / "other.db"), None) != first


def test_environment_key_wins_over_the_key_file(tmp_path: Path) -> None:
    db = str(tmp_path / "credit.db")
    load_or_create_key(db, None)
    assert load_or_create_key(db, KEY_B.hex()) == KEY_B
    assert load_or_create_key(db, KEY_B.hex().upper()) == KEY_B


def test_environment_key_creates_no_file(tmp_path: Path) -> None:
    load_or_create_key(str(tmp_path / "credit.db"), KEY_A.hex())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abcd", "at least 32 hex characters"),
        ("zz" * 16, "must be hexadecimal"),
        ("a" * 33, "must be hexadecimal"),
    ],
)
def test_bad_environment_key_gives_a_clear_error(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(KeyProblem, match=message) as caught:
        load_or_create_key(str(tmp_path / "credit.db"), value)
    assert "SOCIALCREDIT_KEY" in str(caught.value)
    assert value not in str(caught.value)


def test_corrupt_key_file_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "credit.db.key").write_text("not a key\n")
    with pytest.raises(KeyProblem, match=r"credit\.db\.key"):
        load_or_create_key(str(tmp_path / "credit.db"), None)


@pytest.mark.parametrize("location", [":memory:", "postgresql://user@host/credit"])
def test_non_file_databases_use_a_key_file_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, location: str
) -> None:
    monkeypatch.chdir(tmp_path)
    key = load_or_create_key(location, None)
    assert bytes.fromhex((tmp_path / "socialcredit.key").read_text()) == key
    assert file_mode(tmp_path / "socialcredit.key") == 0o600
    assert load_or_create_key(location, None) == key


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "credit.db.key").write_text(KEY_A.hex())
    assert load_or_create_key(str(tmp_path / "credit.db"), None) == KEY_A
    assert (tmp_path / "credit.db.key").read_text() == KEY_A.hex()
