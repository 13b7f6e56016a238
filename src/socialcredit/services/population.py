"""The whole population at once: the ledger written as a snapshot (Parquet),
and every enrolled subject of every scheme evaluated on an analytics engine
by the plan that follows DESIGN.md §3 as the per-subject engine does.

Nothing here reads one subject's data out to anyone: a snapshot holds
pseudonymous keys only, and batch results are files for the operator. The
snapshot is tied to the ledger by its root (``verify --root``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from socialcredit.domain.consent import SCORING, ConsentChange
from socialcredit.domain.fairness import GroupCounts
from socialcredit.domain.registry import Registry, build_registry, with_proposal
from socialcredit.domain.schemes.loader import parse_definition
from socialcredit.domain.schemes.models import Scheme
from socialcredit.errors import DefinitionError, DefinitionErrors, UsageError
from socialcredit.services.ports import Analytics, BatchCheck, BatchOutcome, Simulated
from socialcredit.services.unit_of_work import UnitOfWork

Tick = Callable[[str, int, int], None]  # (scheme, subjects done, subjects in all)


@dataclass(frozen=True, slots=True)
class SnapshotReport:
    folder: Path
    root: str
    rows: dict[str, int]  # table -> rows this part added
    part: int


class Population:
    def __init__(self, uow: UnitOfWork, analytics: Analytics) -> None:
        self._uow = uow
        self._analytics = analytics

    @property
    def engines(self) -> tuple[str, ...]:
        return self._analytics.engines

    def snapshot(
        self, folder: Path, at: datetime | None = None, progress: Tick | None = None
    ) -> SnapshotReport:
        """Write what is new in the ledger (as known at ``at``: records reported,
        events, enrolments and consents made by then) as a new part of the
        snapshot in ``folder``."""
        uow = self._uow
        part = self._analytics.snapshot(folder, SCORING, at)
        registry = uow.registry
        for scheme in sorted(registry.schemes):
            # Every scheme's consents: the version in force at a snapshot's --at may
            # rest on consent where today's does not.
            consents: dict[str, list[ConsentChange]] = {}
            for change in uow.due_process.consents_of_scheme(scheme):
                consents.setdefault(change.subject, []).append(change)
            done = 0
            for ledger in uow.ledger.scheme_ledgers(scheme):
                part.add_ledger(ledger, consents.get(ledger.subject.key, []), scheme, at)
                done += 1
                if progress is not None and done % 1000 == 0:
                    progress(scheme, done, 0)
            if progress is not None:
                progress(scheme, done, done)
        stored = [
            (row.id, row.version, row.type, row.added_at, row.digest, row.text)
            for row in uow.definitions.definitions()
            if at is None or row.added_at <= at
        ]
        rescorings = [r for r in uow.definitions.rescorings() if at is None or r[2] <= at]
        part.add_definitions(stored, rescorings)
        part.add_links(uow.ledger.links(), at)
        part.add_overrides(uow.due_process.all_overrides(), at)
        root = uow.ledger.ledger_root()
        rows = part.write(root, at, uow.clock())
        return SnapshotReport(folder, root, rows, part.part)

    def evaluate(
        self,
        at: datetime,
        out: Path,
        *,
        engine: str = "duckdb",
        snapshot: Path | None = None,
        schemes: set[str] | None = None,
        memory_limit: str | None = None,
        master: str | None = None,
        explain: bool = False,
    ) -> BatchOutcome:
        """Every enrolled subject of every scheme (of ``schemes``) evaluated at
        ``at``, written as Parquet under ``out``: ``evaluations`` (a row per
        subject and scheme: score, grade, band, cap), ``list_entries`` and
        ``category_points``; with ``explain``, also ``counted`` and ``excluded``
        (a row per record, with its points or its reason). Without a snapshot,
        one is written to a temporary directory first. ``master`` is a Spark
        cluster's URL (the spark engine only)."""
        with self._snapshot_of(snapshot, engine) as folder:
            return self._evaluate(folder, at, out, engine, schemes, (memory_limit, master, explain))

    def check(
        self,
        action: str,
        at: datetime,
        *,
        engine: str = "duckdb",
        snapshot: Path | None = None,
        memory_limit: str | None = None,
        master: str | None = None,
    ) -> BatchCheck:
        """The decision on ``action`` for the whole population at ``at``: how
        many subjects get each effect, and under which measures (a scheme's
        grade or list, a memorandum, a business's entry reaching the people
        linked to it), with reviewers' overrides applied as a check applies them."""
        if snapshot is None:  # refused before a snapshot is written for nothing
            self._known_action(self._uow.registry, action)
        with self._snapshot_of(snapshot, engine) as folder:
            registry = self._registry_of(folder)
            self._known_action(registry, action)
            return self._analytics.check(engine, folder, registry, action, at, memory_limit, master)

    def simulate(
        self,
        proposal: str,
        source: str,
        at: datetime,
        *,
        engine: str = "duckdb",
        snapshot: Path | None = None,
        memory_limit: str | None = None,
    ) -> Simulated:
        """The population of a scheme at ``at`` under the version in force and
        under ``proposal`` (a definition's YAML text, not added), as if the
        proposal had always been its rule: grade transitions, list entries gained
        and lost, the categories that drive the change, and the consequences per
        action. Nothing is written to the ledger."""
        with self._snapshot_of(snapshot, engine) as folder:
            before, after, scheme = self._proposed(folder, proposal, source)
            return self._analytics.simulate(engine, folder, before, after, scheme, at, memory_limit)

    def grades_over_time(
        self,
        proposal: str,
        source: str,
        instants: list[datetime],
        *,
        engine: str = "duckdb",
        snapshot: Path | None = None,
    ) -> tuple[str, list[dict[str, int]], list[dict[str, int]]]:
        """A scheme's subjects per grade at each of ``instants``, under the version
        in force and under ``proposal``: (scheme, in force, proposed)."""
        if not instants:
            raise UsageError("--from/--to: the period holds no instant")
        with self._snapshot_of(snapshot, engine) as folder:
            before, after, scheme = self._proposed(folder, proposal, source)
            now, proposed = self._analytics.grades_over_time(
                engine, folder, [before, after], scheme, instants
            )
            return scheme, now, proposed

    def group_counts(
        self,
        scheme: str,
        at: datetime,
        groups: Sequence[tuple[str, str, str]],
        bottom: Sequence[str],
        *,
        engine: str = "duckdb",
        snapshot: Path | None = None,
    ) -> tuple[int, dict[str, list[GroupCounts]]]:
        """For the fairness audit: the subjects enrolled in ``scheme`` at ``at``,
        and the counts per group of ``groups`` ((dimension, group, subject)
        rows, held in memory and never written with the snapshot)."""
        with self._snapshot_of(snapshot, engine) as folder:
            registry = self._registry_of(folder)
            if scheme not in registry.schemes:
                raise UsageError(f"--snapshot: the snapshot holds no scheme {scheme}")
            return self._analytics.group_counts(
                engine, folder, registry, scheme, at, groups, bottom
            )

    @contextmanager
    def _snapshot_of(self, snapshot: Path | None, engine: str) -> Iterator[Path]:
        """The snapshot given, or a fresh one of the ledger in a temporary
        directory, removed afterwards; the engine's name checked first."""
        if engine not in self._analytics.engines:
            raise UsageError(f"--engine: {engine!r} is not one of {', '.join(self.engines)}")
        if snapshot is not None:
            yield snapshot
            return
        folder = Path(tempfile.mkdtemp(prefix="socialcredit-snapshot-"))
        try:
            self.snapshot(folder)
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _proposed(self, folder: Path, proposal: str, source: str) -> tuple[Registry, Registry, str]:
        """The snapshot's registry, the same with the proposal, and the scheme's id."""
        before = self._registry_of(folder)
        scheme = _proposed_scheme(proposal, source, before)
        return before, with_proposal(before, scheme), scheme.id

    @staticmethod
    def _known_action(registry: Registry, action: str) -> None:
        if not registry.index.sources(action):
            known = ", ".join(registry.index.actions[:8])
            raise UsageError(
                f"ACTION: no scheme or memorandum has a measure on {action!r} "
                f"(some that do: {known}, …)"
            )

    def _evaluate(
        self,
        folder: Path,
        at: datetime,
        out: Path,
        engine: str,
        schemes: set[str] | None,
        options: tuple[str | None, str | None, bool],
    ) -> BatchOutcome:
        registry = self._registry_of(folder)
        unknown = sorted((schemes or set()) - set(registry.schemes))
        if unknown:
            raise UsageError(f"--scheme: the snapshot holds no scheme {', '.join(unknown)}")
        memory_limit, master, explain = options
        return self._analytics.evaluate(
            engine, folder, registry, at, out, schemes, memory_limit, master, explain
        )

    def _registry_of(self, folder: Path) -> Registry:
        """The definitions the snapshot was taken under."""
        stored, rescorings = self._analytics.definitions(folder)
        return build_registry(stored, rescorings)


def _proposed_scheme(text: str, source: str, registry: Registry) -> Scheme:
    """The proposal, validated: a new version of a scheme the ledger holds."""
    try:
        loaded = parse_definition(text, source, registry.current_schemes)
    except DefinitionError as error:
        raise DefinitionErrors([error]) from None
    proposal = loaded.definition
    if not isinstance(proposal, Scheme):
        raise UsageError(
            f"--proposal: {source} is a memorandum; a proposal is a scheme's new version"
        )
    if proposal.id not in registry.schemes:
        held = ", ".join(sorted(registry.schemes))
        raise UsageError(f"--proposal: no scheme {proposal.id!r} to compare with (held: {held})")
    return proposal


__all__ = ["Population", "SnapshotReport"]
