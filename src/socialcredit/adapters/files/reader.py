"""What the import use case is handed to read record files with: in this
process, or, for a large file, in a forked worker (``worker.py``)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from datetime import datetime
from pathlib import Path

from socialcredit.adapters.files.readers import count_lines, read_lines
from socialcredit.adapters.files.records import parse_file
from socialcredit.adapters.files.worker import (
    parse_file_forked,
    plan_file_forked,
    worker_worthwhile,
)
from socialcredit.domain.identity import Pseudonymiser
from socialcredit.domain.intake import Line, Parsed
from socialcredit.domain.ledger.batching import PlanBase, PlannedBatch
from socialcredit.domain.registry import Registry


class RecordFiles:
    """The record files an import reads: in this process, or in a forked worker."""

    def read(self, path: Path) -> Iterator[Line]:
        return read_lines(path)

    def count(self, path: Path) -> int:
        """The lines in ``path`` (blank ones too): how far an import has to go."""
        return count_lines(path)

    def worthwhile(self, path: Path) -> bool:
        """Whether a worker process pays for itself on ``path``."""
        return worker_worthwhile(path)

    def parse(
        self,
        path: Path,
        registry: Registry,
        pseudonymiser: Pseudonymiser,
        now: datetime,
        start: int = 1,
    ) -> Iterator[Parsed]:
        return parse_file(path, registry, pseudonymiser, now, start)

    def parse_forked(
        self, path: Path, registry: Registry, pseudonymiser: Pseudonymiser, now: datetime
    ) -> Iterator[Parsed]:
        return parse_file_forked(path, registry, pseudonymiser, now)

    def plan_forked(
        self,
        path: Path,
        registry: Registry,
        pseudonymiser: Pseudonymiser,
        now: datetime,
        batch_size: int,
        base: PlanBase,
    ) -> Generator[PlannedBatch, None, None]:
        return plan_file_forked(path, registry, pseudonymiser, now, batch_size, base)


__all__ = ["RecordFiles"]
