"""The composition root: the one place where a ledger is opened and every
use case is built and wired, once.

:func:`open` takes a location (a SQLite file, or a ``postgresql://`` URL),
checks or brings up its schema (the core's and each plugin's), loads the
identifier key, and returns :class:`Services`: the use cases as peers over one
shared unit of work. Entry points (the CLI, the HTTP API, the demo) and
embedding programs start here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

import pluggy

from socialcredit.adapters.analytics.facade import AnalyticsFiles
from socialcredit.adapters.db import open_database
from socialcredit.adapters.db.audit import AuditRows
from socialcredit.adapters.db.database import Database
from socialcredit.adapters.db.definitions import DefinitionRows
from socialcredit.adapters.db.due_process import DueProcessRows
from socialcredit.adapters.db.fairness import FairnessRows
from socialcredit.adapters.db.integrity import ChainRows
from socialcredit.adapters.db.keys import KeyRows
from socialcredit.adapters.db.ledger import LedgerRows
from socialcredit.adapters.db.log import LogRows
from socialcredit.adapters.files.definitions import validate_files
from socialcredit.adapters.files.reader import RecordFiles
from socialcredit.adapters.keyfile import load_or_create_key
from socialcredit.config import DEFAULT_DB, LOG_KEY_ENV, key_hex, log_key_hex
from socialcredit.domain.identity import Pseudonymiser
from socialcredit.errors import KeyMissing, KeyProblem, StoreError
from socialcredit.hooks import migration_tracks, plugin_manager
from socialcredit.services.casework import Casework
from socialcredit.services.checks import Checks
from socialcredit.services.consent import Consents
from socialcredit.services.definitions import Definitions
from socialcredit.services.export import Export
from socialcredit.services.extensions import Extensions
from socialcredit.services.fairness import FairnessAudit
from socialcredit.services.imports import Imports
from socialcredit.services.integrity import Integrity
from socialcredit.services.keys import Keys
from socialcredit.services.notices import Notices
from socialcredit.services.population import Population
from socialcredit.services.records import Records
from socialcredit.services.retention import Retention
from socialcredit.services.subjects import Subjects
from socialcredit.services.transparency import TransparencyLog
from socialcredit.services.unit_of_work import Clock, UnitOfWork


@dataclass(frozen=True, eq=False)
class Services:
    """The use cases of one opened ledger, wired once; close it when done
    (or use it as a context manager)."""

    uow: UnitOfWork
    definitions: Definitions
    subjects: Subjects
    imports: Imports
    records: Records
    checks: Checks
    casework: Casework
    consents: Consents
    notices: Notices
    retention: Retention
    export: Export
    keys: Keys
    integrity: Integrity
    log: TransparencyLog
    population: Population
    fairness: FairnessAudit
    extensions: Extensions
    migrated: list[tuple[str, int]]  # (track, version) applied when opened with create=True

    @property
    def clock(self) -> Clock:
        return self.uow.clock

    def plugin(self, name: str) -> object:
        """A plugin's service (e.g. ``"mobility"``), built on first use."""
        return self.extensions.service(name)

    def close(self) -> None:
        self.uow.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def open(
    location: str = DEFAULT_DB,
    *,
    create: bool = False,
    clock: Callable[[], datetime] | None = None,
    env: Mapping[str, str] | None = None,
    plugins: pluggy.PluginManager | None = None,
) -> Services:
    """The ledger at ``location`` with every use case over it.

    ``create`` makes the database and its identifier key if there are none and
    applies pending migrations; otherwise a database of another schema is
    refused with advice. ``env`` stands for the environment (the key may be in
    ``SOCIALCREDIT_KEY``); ``plugins`` for the installed plugins."""
    manager = plugins if plugins is not None else plugin_manager()
    tracks = migration_tracks(manager)
    database = open_database(location, create=create)
    migrated: list[tuple[str, int]] = []
    try:
        if create:
            migrated = database.initialise(tracks)
        else:
            database.check_version(tracks)
        key = load_or_create_key(location, key_hex(env), create=create)
        pseudonymiser = Pseudonymiser(key)
        _check_key(database, pseudonymiser)
        log_key = _log_key(location, env, create)
    except BaseException:
        database.close()
        raise
    return _wire(
        database, pseudonymiser, log_key, Clock(clock) if clock else Clock(), manager, migrated
    )


def _log_key(location: str, env: Mapping[str, str] | None, create: bool) -> bytes | str:
    """The log's signing key, or what to say when a head is asked for without one
    (a ledger opened, not initialised, that has none yet)."""
    try:
        key = load_or_create_key(
            location, log_key_hex(env), create=create, suffix=".log-key", env_name=LOG_KEY_ENV
        )
    except KeyMissing as missing:
        return str(missing)
    if len(key) != 32:
        raise KeyProblem(
            f"the log signing key must be 32 bytes (64 hex characters), not {len(key)}"
        )
    return key


def _wire(
    database: Database,
    pseudonymiser: Pseudonymiser,
    log_key: bytes | str,
    clock: Clock,
    manager: pluggy.PluginManager,
    migrated: list[tuple[str, int]],
) -> Services:
    audit = AuditRows(database)
    ledger = LedgerRows(database)
    uow = UnitOfWork(
        database=database,
        definitions=DefinitionRows(database),
        ledger=ledger,
        audit=audit,
        keys=KeyRows(database),
        due_process=DueProcessRows(database, ledger),
        chains=ChainRows(database, audit),
        fairness=FairnessRows(database),
        log=LogRows(database),
        pseudonymiser=pseudonymiser,
        clock=clock,
    )
    extensions = Extensions(manager.hook)
    subjects = Subjects(uow)
    definitions = Definitions(uow, validate_files)
    imports = Imports(uow, RecordFiles())
    records = Records(uow, extensions)
    checks = Checks(uow, subjects)
    population = Population(uow, AnalyticsFiles())
    log = TransparencyLog(
        uow,
        log_key if isinstance(log_key, bytes) else None,
        log_key if isinstance(log_key, str) else "",
    )
    services = Services(
        uow=uow,
        definitions=definitions,
        subjects=subjects,
        imports=imports,
        records=records,
        checks=checks,
        casework=Casework(uow, subjects, records, imports),
        consents=Consents(uow, subjects),
        notices=Notices(uow, subjects, checks),
        retention=Retention(uow, subjects, records, extensions),
        export=Export(uow, checks, extensions, log),
        keys=Keys(uow, subjects, definitions),
        integrity=Integrity(uow),
        log=log,
        population=population,
        fairness=FairnessAudit(uow, population),
        extensions=extensions,
        migrated=migrated,
    )
    extensions.attach(services)
    return services


DEMO_MARK = "demo"


def mark_demo(services: Services) -> None:
    """Mark the ledger as the demo's: ``socialcredit demo`` replaces only such a ledger."""
    services.uow.database.set_meta(DEMO_MARK, "1")


def is_demo(location: str) -> bool:
    """Whether the ledger at ``location`` was built by ``socialcredit demo``."""
    try:
        database = open_database(location)
    except StoreError:
        return False
    try:
        return database.meta(DEMO_MARK) == "1"
    except Exception:  # not a socialcredit database at all (no meta table, not SQLite)
        return False
    finally:
        database.close()


def _check_key(database: Database, pseudonymiser: Pseudonymiser) -> None:
    """The first key a database is used with is the only one it accepts:
    another would silently file every subject under new pseudonyms."""
    check = pseudonymiser.key_check()
    held = database.meta("key_check")
    if held is None:
        database.set_meta("key_check", check)
    elif held != check:
        raise StoreError(
            f"{database.path}: the identifier key does not match this database "
            "(wrong SOCIALCREDIT_KEY, or the key file was replaced)"
        )


__all__ = ["Services", "is_demo", "mark_demo", "open"]
