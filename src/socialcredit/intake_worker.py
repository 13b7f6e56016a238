"""Validating and chaining a large record file in a forked worker process.

An import has three parts:
- reading and validating lines, which is pure Python;
- chaining them into their subjects' hash chains (pure Python, hashing);
- writing them, which is SQLite's work.

A second thread cannot overlap them, because both need the GIL. Measured, a writer thread made imports
slower: SQLite hands the GIL back and forth on every row, and each hand-off waits behind the parser. A forked
process can overlap them. It reads and validates the file with the same :class:`RecordIntake` as the
in-process path. When the store could hand it a copy of every chain head (``plan_base``), it also plans
each batch with the same pure ``plan_batch`` the store uses, as if every batch before had been written, and
sends the ready rows. This process only writes them (``append_planned``), which the store does only while
nobody else has written and no id of the batch is held; at the first batch it refuses, the import reads on
in-process from that batch's first line. Otherwise (too many heads to copy) the worker sends validated
records and this process chains and writes them. Either way the ledger is the same row for row as an
in-process import of the same file (tests hold the paths equal, also across a refused batch).
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import pickle
import queue
import threading
import traceback
from collections.abc import Generator, Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

from socialcredit.identity import Pseudonymiser
from socialcredit.intake import Parsed, parse_file
from socialcredit.ledger.batching import BatchPlan, PlanBase, learn, plan_batch
from socialcredit.ledger.store import NewRecord, SubjectRow
from socialcredit.registry import Registry

CHUNK = 5_000
# Below this size, starting a process costs more than the overlap saves.
MIN_BYTES = 8 * 1024 * 1024


def worker_worthwhile(path: Path) -> bool:
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and (os.cpu_count() or 1) > 1
        and path.stat().st_size >= MIN_BYTES
    )


def parse_file_forked(
    path: Path, registry: Registry, pseudonymiser: Pseudonymiser, now: datetime
) -> Iterator[Parsed]:
    """The same (line, record) or (line, None, id, reason) items as
    :func:`socialcredit.intake.parse_file`, in the same order, validated by a
    forked worker while the caller consumes them."""
    for message in _from_worker(_work, (path, registry, pseudonymiser, now)):
        for item in message:
            yield _revive(item)


def _from_worker(target: Any, args: tuple[Any, ...]) -> Iterator[Any]:
    """Run ``target(*args, sender)`` in a forked process and yield what it sends."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    # Freeze the heap first: otherwise the child's garbage collector touches
    # every inherited object and copies page after page of the parent's memory.
    gc.freeze()
    try:
        worker = context.Process(target=target, args=(*args, sender), daemon=True)
        worker.start()
    finally:
        gc.unfreeze()
    sender.close()
    # A thread drains the pipe into memory so that the worker never waits
    # while this process is busy writing a batch; it only moves bytes, so it
    # hardly needs the GIL.
    chunks: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    drain = threading.Thread(target=_drain, args=(receiver, chunks), daemon=True)
    drain.start()
    finished = False
    try:
        while True:
            payload = chunks.get()
            if payload is None:
                raise RuntimeError("the import worker stopped unexpectedly")
            if not payload:
                finished = True
                break
            message = pickle.loads(payload)
            if isinstance(message, str):
                raise RuntimeError(f"the import worker failed: {message}")
            yield message
    finally:
        # Stopped early (an error, or the caller reads on itself): the worker's
        # work is not wanted. Ending it closes its end of the pipe, so the drain
        # thread sees the end and stops before the receiver is closed under it.
        if not finished:
            worker.kill()
        worker.join(timeout=10)
        if worker.is_alive():
            worker.kill()
        drain.join(timeout=10)
        receiver.close()


def _drain(receiver: Connection, chunks: queue.SimpleQueue[bytes | None]) -> None:
    try:
        while True:
            payload = receiver.recv_bytes()
            chunks.put(payload)
            if not payload:
                return
    except (EOFError, OSError):
        chunks.put(None)


def _send(out: Connection, message: object) -> None:
    # Without the memo: messages are plain tuples, lists and dicts of text and
    # numbers with no cycles, and remembering every string made pickling cost
    # three times as much (the memo only saves space for repeated objects).
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(message)
    out.send_bytes(buffer.getbuffer())


def _work(
    path: Path, registry: Registry, pseudonymiser: Pseudonymiser, now: datetime, out: Connection
) -> None:
    # The parent's SQLite connection was copied by fork: this process never uses it.
    gc.disable()  # nothing here makes cycles, and the heap is large
    try:
        chunk: list[tuple[Any, ...]] = []
        for parsed in parse_file(path, registry, pseudonymiser, now):
            chunk.append(_flatten(parsed))
            if len(chunk) >= CHUNK:
                _send(out, chunk)
                chunk = []
        if chunk:
            _send(out, chunk)
        out.send_bytes(b"")
    except BrokenPipeError:
        pass  # the parent stopped reading (it failed or was interrupted)
    except BaseException:
        out.send_bytes(pickle.dumps(traceback.format_exc(limit=4)))
    finally:
        out.close()


def _flatten(parsed: Parsed) -> tuple[Any, ...]:
    """Plain tuples: named tuples pickle as class-and-arguments, several times larger."""
    if parsed[1] is None:
        return parsed
    number, record = parsed[0], parsed[1]
    return (number, record[0], tuple(record[1]), *record[2:])


def _revive(item: tuple[Any, ...]) -> Parsed:
    if item[1] is None:
        return item
    # tuple.__new__ builds the named tuples in C: calling the class runs a
    # Python-level __new__, and _make is a Python-level call too.
    return item[0], _new(NewRecord, (item[1], _new(SubjectRow, item[2]), *item[3:]))


_new = tuple.__new__


class PlannedBatch(NamedTuple):
    """One batch of a file as the worker read, validated and planned it."""

    start: int  # the first line it covers (the line after the previous batch's last)
    seen: int  # lines it covers that were read: records and refusals
    rejected: list[tuple[int, str | None, str]]  # (line, record id, reason)
    duplicate_lines: list[int]
    accepted: int
    plan: BatchPlan


def plan_file_forked(
    path: Path,
    registry: Registry,
    pseudonymiser: Pseudonymiser,
    now: datetime,
    batch_size: int,
    base: PlanBase,
) -> Generator[PlannedBatch, None, None]:
    """The file's records in batches of ``batch_size``, validated and chained by
    a forked worker against ``base`` as if every batch before was written.

    This moves the chaining off the writing process too, which is then left
    with little but SQLite's work. A batch comes ready for
    ``append_planned(plan, base.epoch)``; if the store refuses it (another
    writer, or ids already held), the caller reads on from ``start`` itself."""
    args = (path, registry, pseudonymiser, now, batch_size, base)
    for start, seen, rejected, duplicates, accepted, rows, heads, subjects in _from_worker(
        _work_planned, args
    ):
        new_subjects = {row[0]: _new(SubjectRow, row) for row in subjects}
        plan = BatchPlan(rows, heads, new_subjects)
        yield PlannedBatch(start, seen, rejected, duplicates, accepted, plan)


def _work_planned(
    path: Path,
    registry: Registry,
    pseudonymiser: Pseudonymiser,
    now: datetime,
    batch_size: int,
    base: PlanBase,
    out: Connection,
) -> None:
    gc.disable()  # nothing here makes cycles, and the heap is large
    try:
        batch = _Batch(1)
        records, lines, seen = batch.records, batch.lines, 0  # locals: this loop runs per line
        for parsed in parse_file(path, registry, pseudonymiser, now):
            seen += 1
            if parsed[1] is None:
                batch.rejected.append((parsed[0], parsed[2], parsed[3]))
                continue
            records.append(parsed[1])
            lines.append(parsed[0])
            if len(records) >= batch_size:
                batch.seen = seen
                _send(out, batch.planned(base))
                batch = _Batch(parsed[0] + 1)
                records, lines, seen = batch.records, batch.lines, 0
        if seen:
            batch.seen = seen
            _send(out, batch.planned(base))
        out.send_bytes(b"")
    except BrokenPipeError:
        pass  # the parent stopped reading (it failed, was interrupted, or reads on itself)
    except BaseException:
        out.send_bytes(pickle.dumps(traceback.format_exc(limit=4)))
    finally:
        out.close()


class _Batch:
    """The lines of one batch as the worker gathers them."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.seen = 0
        self.rejected: list[tuple[int, str | None, str]] = []
        self.records: list[NewRecord] = []
        self.lines: list[int] = []

    def planned(self, base: PlanBase) -> tuple[Any, ...]:
        """Plan the batch as the store would, against ``base``, then move ``base``
        on as if the batch were written: the next batch chains on from it."""
        plan = plan_batch(self.records, base.heads, base.kinds, {})
        learn(base.heads, base.kinds, plan)
        outcome, lines = plan.outcome, self.lines
        refused = [(lines[at], self.records[at].id, why) for at, why in outcome.refused]
        duplicates = [lines[at] for at in outcome.duplicates]
        subjects = [tuple(row) for row in plan.new_subjects.values()]
        return (self.start, self.seen, self.rejected + refused, duplicates,
                len(outcome.accepted), plan.rows, plan.heads, subjects)  # fmt: skip
