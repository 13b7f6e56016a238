"""Schema migrations: the core's and each plugin's, applied once, in order;
databases at other versions are refused with advice."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_support import KEY_ENV, before_the_log, location, sql

from socialcredit import bootstrap
from socialcredit.adapters.db.schema import CORE_TRACK
from socialcredit.errors import StoreError
from socialcredit.pilots.mobility.store import TRACK as MOBILITY_TRACK


def test_a_new_database_gets_every_migration_once(tmp_path: Path) -> None:
    path = location(tmp_path / "ledger.db")
    first = bootstrap.open(path, create=True, env=KEY_ENV)
    assert first.migrated == [
        *(("core", m.version) for m in CORE_TRACK.migrations),
        ("mobility", 1),
    ]
    first.close()
    again = bootstrap.open(path, create=True, env=KEY_ENV)
    assert again.migrated == []
    assert again.uow.database.meta("schema_version") == str(CORE_TRACK.latest)
    assert again.uow.database.meta("schema_version:mobility") == "1"
    again.close()


def test_pending_migrations_follow_the_recorded_version() -> None:
    versions = [m.version for m in CORE_TRACK.migrations]
    assert [m.version for m in CORE_TRACK.pending(None)] == versions
    assert CORE_TRACK.pending(CORE_TRACK.latest) == []
    assert [m.version for m in CORE_TRACK.pending(2)] == [4, 5, 6, 7]


@pytest.mark.parametrize(("version", "advice"), [(99, "newer than this socialcredit")])
def test_a_database_at_another_version_is_refused(
    tmp_path: Path, version: int, advice: str
) -> None:
    path = location(tmp_path / "ledger.db")
    system = bootstrap.open(path, create=True, env=KEY_ENV)
    system.uow.database.set_meta("schema_version", str(version))
    system.close()
    with pytest.raises(StoreError, match=advice):
        bootstrap.open(path, env=KEY_ENV)


def test_a_plugin_whose_tables_are_missing_is_refused_until_init(tmp_path: Path) -> None:
    path = location(tmp_path / "ledger.db")
    system = bootstrap.open(path, create=True, env=KEY_ENV)
    system.uow.database.set_meta("schema_version:mobility", "0")
    system.close()
    with pytest.raises(StoreError, match="of the mobility plugin; run 'socialcredit init'"):
        bootstrap.open(path, env=KEY_ENV)


def _core_only(path: Path, core_version: int, *, mobility_tables: bool) -> None:
    """A database as an older socialcredit left it: the core's migrations up to
    ``core_version`` (version 3 was the bike-sharing tables), no plugin tracks."""
    system = bootstrap.open(str(path), create=True, env=KEY_ENV)
    system.close()
    if not mobility_tables:
        for table in ("mobility_zones", "mobility_trips", "mobility_positions", "mobility_reports"):
            sql(path, f"DROP TABLE {table}")
    if core_version < 7:
        before_the_log(path)
    sql(path, "DELETE FROM meta WHERE key = 'schema_version:mobility'")
    sql(path, "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(core_version),))


def test_a_database_from_before_the_plugins_keeps_its_bike_sharing_tables(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _core_only(path, CORE_TRACK.latest, mobility_tables=True)  # core migration 3 made the tables
    system = bootstrap.open(str(path), env=KEY_ENV)  # opens without init: nothing is missing
    system.close()
    again = bootstrap.open(str(path), create=True, env=KEY_ENV)
    assert again.migrated == []  # recorded as the plugin's version 1, not run again
    assert again.uow.database.meta("schema_version:mobility") == str(MOBILITY_TRACK.latest)
    again.close()


def test_a_database_from_before_bike_sharing_gets_its_tables_from_the_plugin(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.db"
    _core_only(path, 2, mobility_tables=False)
    sql(path, "DROP TABLE decisions")  # undo migration 4 as well: the old table comes back
    sql(
        path,
        "CREATE TABLE decisions (id TEXT PRIMARY KEY, subject TEXT NOT NULL, action TEXT NOT "
        "NULL, at TEXT NOT NULL, effect TEXT NOT NULL, factor REAL, reasons TEXT NOT NULL, "
        "asked_at TEXT NOT NULL, asked_by TEXT NOT NULL, purpose TEXT NOT NULL, seq INTEGER "
        "NOT NULL, hash TEXT NOT NULL)",
    )
    sql(path, "ALTER TABLE audit_heads DROP COLUMN decision")
    with pytest.raises(StoreError, match="run 'socialcredit init' to migrate it to 7"):
        bootstrap.open(str(path), env=KEY_ENV)
    system = bootstrap.open(str(path), create=True, env=KEY_ENV)
    assert system.migrated == [("core", 4), ("core", 5), ("core", 6), ("core", 7), ("mobility", 1)]
    assert system.integrity.check().problems == []
    tables = {name for (name,) in sql(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"mobility_trips", "mobility_positions", "decisions"} <= tables
    system.close()
