"""Schema migrations: applied once, in order; databases at other versions are refused with advice."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_support import KEY_ENV, location

from socialcredit.app import SocialCredit
from socialcredit.errors import StoreError
from socialcredit.store.migrations import LATEST, MIGRATIONS, pending


def test_a_new_database_gets_every_migration_once(tmp_path: Path) -> None:
    path = location(tmp_path / "ledger.db")
    first = SocialCredit.open(path, create=True, env=KEY_ENV)
    assert first.migrated == [m.version for m in MIGRATIONS]
    first.close()
    again = SocialCredit.open(path, create=True, env=KEY_ENV)
    assert again.migrated == []
    assert again.store.meta("schema_version") == str(LATEST)
    again.close()


def test_pending_migrations_follow_the_recorded_version() -> None:
    assert [m.version for m in pending(None)] == [m.version for m in MIGRATIONS]
    assert pending(LATEST) == []


@pytest.mark.parametrize(("version", "advice"), [(LATEST + 1, "newer than this socialcredit")])
def test_a_database_at_another_version_is_refused(
    tmp_path: Path, version: int, advice: str
) -> None:
    path = location(tmp_path / "ledger.db")
    system = SocialCredit.open(path, create=True, env=KEY_ENV)
    system.store.set_meta("schema_version", str(version))
    system.close()
    with pytest.raises(StoreError, match=advice):
        SocialCredit.open(path, env=KEY_ENV)
