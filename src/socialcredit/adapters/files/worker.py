"""Validating and chaining a large record file in a forked worker process.

An import has three parts:
- reading and validating lines (Python, or the C accelerator where it is built);
- chaining them into their subjects' hash chains (the same);
- writing them, which is SQLite's work.

A second thread cannot overlap them, because both need the GIL. Measured, a writer thread made imports
slower: SQLite hands the GIL back and forth on every row, and each hand-off waits behind the parser. A forked
process can overlap them. It reads and validates the file with the same :class:`RecordIntake` as the
in-process path. When the store could hand it a copy of every chain head (``plan_base``), it also plans
each batch as the pure ``plan_batch`` the store uses would (with the accelerator, in one C pass per chunk:
``native.plan_lines``), as if every batch before had been written, and sends the ready rows by marshal. This process only writes them (``append_planned``), which the store does only while
nobody else has written and no id of the batch is held; at the first batch it refuses, the import reads on
in-process from that batch's first line. Otherwise (too many heads to copy) the worker sends validated
records and this process chains and writes them. Either way the ledger is the same row for row as an
in-process import of the same file (tests hold the paths equal, also across a refused batch).
"""

from __future__ import annotations

import gc
import itertools
import marshal
import multiprocessing
import os
import queue
import threading
import traceback
from collections.abc import Generator, Iterable, Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from socialcredit.adapters.files.records import NativeLines, native_lines, parse_file_chunks
from socialcredit.domain.identity import Pseudonymiser
from socialcredit.domain.intake import Parsed
from socialcredit.domain.ledger.batching import (
    CONFLICT,
    BatchPlan,
    PlanBase,
    PlannedBatch,
    first_batch,
    learn,
    plan_batch,
)
from socialcredit.domain.ledger.chain import GENESIS, record_item_hash
from socialcredit.domain.ledger.values import NewRecord, SubjectRow
from socialcredit.domain.registry import Registry
from socialcredit.native import native

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
    :func:`socialcredit.domain.intake.parse_file`, in the same order, validated by a
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
            message = marshal.loads(payload)
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


def _send(out: Connection, message: Any) -> None:
    # marshal, not pickle: messages are plain tuples, lists and dicts of text and
    # numbers between two processes of the same Python, which is what marshal is
    # for. Measured on 100,000 planned rows, it wrote a row in 0.4 µs against
    # pickle's 1.0 (without the memo) and read one in 1.2 µs against 1.8, and an
    # object shared by many rows (a scheme id, a reporter) goes once.
    out.send_bytes(marshal.dumps(message, MARSHAL_VERSION))


MARSHAL_VERSION = 4  # the first with references to objects already written


def _work(
    path: Path, registry: Registry, pseudonymiser: Pseudonymiser, now: datetime, out: Connection
) -> None:
    # The parent's SQLite connection was copied by fork: this process never uses it.
    gc.disable()  # nothing here makes cycles, and the heap is large
    try:
        for chunk in parse_file_chunks(path, registry, pseudonymiser, now):
            _send(out, [_flatten(parsed) for parsed in chunk])
        out.send_bytes(b"")
    except BrokenPipeError:
        pass  # the parent stopped reading (it failed or was interrupted)
    except BaseException:
        _send(out, traceback.format_exc(limit=4))
    finally:
        out.close()


def _flatten(parsed: Parsed) -> tuple[Any, ...]:
    """Plain tuples: marshal takes no named tuples."""
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
    for start, seen, rejected, duplicates, accepted, rows, subjects in _from_worker(
        _work_planned, args
    ):
        new_subjects = {row[0]: _new(SubjectRow, row) for row in subjects}
        # The batch's heads are its subjects' last rows. Rows come sorted by subject,
        # each subject's in seq order, so later rows overwrite earlier ones and the
        # heads come out in key order, the order they are stored in.
        heads = {row[0]: (row[1], row[-1]) for row in rows}
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
        reader = native_lines(path, registry, pseudonymiser, now)
        if reader is None:
            chunks = parse_file_chunks(path, registry, pseudonymiser, now)
            _plan_in_python(itertools.chain.from_iterable(chunks), batch_size, base, out)
        else:
            _plan_natively(reader, batch_size, base, out)
        out.send_bytes(b"")
    except BrokenPipeError:
        pass  # the parent stopped reading (it failed, was interrupted, or reads on itself)
    except BaseException:
        _send(out, traceback.format_exc(limit=4))
    finally:
        out.close()


def _plan_in_python(
    items: Iterable[Parsed], batch_size: int, base: PlanBase, out: Connection
) -> None:
    batch = _Batch(1)
    records, lines, seen = batch.records, batch.lines, 0  # locals: this loop runs per line
    limit = first_batch(batch_size)
    for parsed in items:
        seen += 1
        if parsed[1] is None:
            batch.rejected.append((parsed[0], parsed[2], parsed[3]))
            continue
        records.append(parsed[1])
        lines.append(parsed[0])
        if len(records) >= limit:
            limit = batch_size
            batch.seen = seen
            _send(out, batch.planned(base))
            batch = _Batch(parsed[0] + 1)
            records, lines, seen = batch.records, batch.lines, 0
    if seen:
        batch.seen = seen
        _send(out, batch.planned(base))


def _plan_natively(reader: NativeLines, batch_size: int, base: PlanBase, out: Connection) -> None:
    """:func:`_plan_in_python` in one C pass per chunk (``native.plan_lines``):
    the same batches, planned as ``plan_batch`` plans them."""
    assert native is not None
    context = (
        reader.table,
        orjson.loads,
        reader.judge,
        reader.reread,
        base.heads,
        base.kinds,
        GENESIS,
        record_item_hash,
        CONFLICT,
    )
    batch = _NativeBatch(1)
    limit = first_batch(batch_size)
    for first_number, chunk in reader.chunks:
        index = 0
        while index < len(chunk):
            index = native.plan_lines(chunk, index, first_number, context, batch.state, limit)
            if batch.records >= limit:
                limit = batch_size
                _send(out, batch.planned(base))
                batch = _NativeBatch(batch.last_line + 1)
    if batch.seen:
        _send(out, batch.planned(base))


class _NativeBatch:
    """One batch as ``native.plan_lines`` fills it (see ``_speedups.c``)."""

    def __init__(self, start: int) -> None:
        self.start = start
        # rows, heads, new_subjects, refused, duplicates, rejected, firsts,
        # records, seen, last_line, accepted
        self.state: list[Any] = [[], {}, {}, [], [], [], {}, 0, 0, 0, 0]

    @property
    def records(self) -> int:
        return int(self.state[7])

    @property
    def seen(self) -> int:
        return int(self.state[8])

    @property
    def last_line(self) -> int:
        return int(self.state[9])

    def planned(self, base: PlanBase) -> tuple[Any, ...]:
        """The message :meth:`_Batch.planned` sends for the same lines."""
        rows, heads, new_subjects, refused, duplicates, rejected, firsts = self.state[:7]
        accepted = self.state[10]
        firsts.clear()  # before the message is written, as _Batch.planned's records
        rows.sort(key=_subject)
        new_subjects = {key: row for key, row in new_subjects.items() if key in heads}
        learn(base.heads, base.kinds, BatchPlan(rows, heads, new_subjects))
        subjects = [tuple(row) for row in new_subjects.values()]
        return self.start, self.seen, rejected + refused, duplicates, accepted, rows, subjects


_subject = itemgetter(0)


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
        # The records go now, before the message is written: marshal remembers every
        # object held elsewhere too (to write it once), and the records hold each
        # text of each row. The heads do not go: the writer reads them off the rows.
        self.records.clear()
        return (
            self.start,
            self.seen,
            self.rejected + refused,
            duplicates,
            len(outcome.accepted),
            plan.rows,
            subjects,
        )
