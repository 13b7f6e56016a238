"""The database: SQLite embedded by default, PostgreSQL as the server store.

:func:`open_database` opens either by its location; the repositories
(``LedgerRows``, ``AuditRows``, ``KeyRows``, ``DefinitionRows``,
``DueProcessRows``, ``ChainRows``) each keep to their own tables of it.
"""

from __future__ import annotations

from socialcredit.adapters.db.database import Database


def is_server(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def open_database(location: str, *, create: bool = False) -> Database:
    """The database at ``location``: a ``postgresql://`` URL, or a SQLite file
    (refused if there is none and ``create`` is false). The schema is not
    checked here: the caller initialises or checks it, with the plugins' tracks."""
    if is_server(location):
        from socialcredit.adapters.db.postgres import open_postgres

        return open_postgres(location)
    from socialcredit.adapters.db.sqlite import open_sqlite

    return open_sqlite(location, create=create)


__all__ = ["Database", "is_server", "open_database"]
