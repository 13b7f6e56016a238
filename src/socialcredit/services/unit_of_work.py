"""What every use case works over: the store's repositories, the pseudonymiser,
the clock and the definitions in force. One :class:`UnitOfWork` per opened
ledger, shared by all the use cases, built once by ``bootstrap.open``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime

from socialcredit.domain.identity import Pseudonymiser
from socialcredit.domain.registry import Registry, build_registry
from socialcredit.services.ports import (
    AuditStore,
    ChainStore,
    DatabasePort,
    DefinitionStore,
    DueProcessStore,
    FairnessStore,
    KeyStore,
    LedgerStore,
    LogStore,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Clock:
    """The time as every use case reads it. One object shared by them all, so
    that a demo or a test that moves it moves it for every use case at once."""

    __slots__ = ("read",)

    def __init__(self, read: Callable[[], datetime] = utc_now) -> None:
        self.read = read

    def __call__(self) -> datetime:
        return self.read()

    @contextmanager
    def held_at(self, moment: datetime) -> Iterator[None]:
        """Within the block, it is always ``moment`` (e.g. to record what
        happened then, as the demo does for consents given long ago)."""
        read = self.read
        self.read = lambda: moment
        try:
            yield
        finally:
            self.read = read


class UnitOfWork:
    def __init__(
        self,
        *,
        database: DatabasePort,
        definitions: DefinitionStore,
        ledger: LedgerStore,
        audit: AuditStore,
        keys: KeyStore,
        due_process: DueProcessStore,
        chains: ChainStore,
        fairness: FairnessStore,
        log: LogStore,
        pseudonymiser: Pseudonymiser,
        clock: Clock,
    ) -> None:
        self.database = database
        self.definitions = definitions
        self.ledger = ledger
        self.audit = audit
        self.keys = keys
        self.due_process = due_process
        self.chains = chains
        self.fairness = fairness
        self.log = log
        self.pseudonymiser = pseudonymiser
        self.clock = clock
        self._registry: Registry | None = None

    @property
    def registry(self) -> Registry:
        """The definitions in force, compiled once and kept until they change."""
        if self._registry is None:
            self._registry = build_registry(
                self.definitions.definitions(), self.definitions.rescorings()
            )
        return self._registry

    def definitions_changed(self) -> None:
        self._registry = None

    def transaction(self) -> AbstractContextManager[None]:
        """Several writes that land together, or not at all."""
        return self.database.transaction()

    def checkpoint(self) -> None:
        self.database.checkpoint()

    def close(self) -> None:
        self.database.close()


__all__ = ["Clock", "UnitOfWork", "utc_now"]
