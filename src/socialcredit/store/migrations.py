"""Schema migrations, the same list for every store.

Each migration has a version and the statements that bring a database from
the version before to it, spelt for each store. ``socialcredit init`` applies
the pending ones in order, each in one transaction, and records the version
reached in ``meta.schema_version``; opening a database whose schema is older
or newer than this code is refused with a message that says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    title: str
    statements: Callable[[str], list[str]]  # dialect ("sqlite" or "postgres") -> statements


def _baseline(dialect: str) -> list[str]:
    if dialect == "postgres":
        from socialcredit.store.postgres import baseline_statements as postgres_baseline

        return postgres_baseline()
    from socialcredit.store.sqlite import baseline_statements

    return baseline_statements()


def _due_process(dialect: str) -> list[str]:
    if dialect == "postgres":
        from socialcredit.store.postgres import due_process_statements as postgres_due_process

        return postgres_due_process()
    from socialcredit.store.sqlite import due_process_statements

    return due_process_statements()


def _mobility(dialect: str) -> list[str]:
    from socialcredit.store.mobility import postgres_statements, sqlite_statements

    return postgres_statements() if dialect == "postgres" else sqlite_statements()


def _filed_decisions(dialect: str) -> list[str]:
    if dialect == "postgres":
        from socialcredit.store.postgres import filed_decisions_statements as postgres_filed

        return postgres_filed()
    from socialcredit.store.sqlite import filed_decisions_statements

    return filed_decisions_statements()


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "ledger, audit log, links, keys and their hash chains", _baseline),
    Migration(2, "cases, overrides, consents, the notice outbox and erasure seals", _due_process),
    Migration(3, "bike sharing: zone sets, trips, consented positions, rider reports", _mobility),
    Migration(
        4, "decisions filed under the number their id carries, linked per subject", _filed_decisions
    ),
)
LATEST = MIGRATIONS[-1].version


def pending(current: int | None) -> list[Migration]:
    """The migrations a database at ``current`` (None: empty) still needs, in order."""
    return [m for m in MIGRATIONS if current is None or m.version > current]
