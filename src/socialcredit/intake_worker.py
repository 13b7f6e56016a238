"""Validating a large record file in a forked worker process.

An import has two halves of about equal cost:
- reading and validating lines, which is pure Python;
- chaining and writing them, which is the store's work.

A second thread cannot overlap them, because both need the GIL. Measured, a writer thread made imports
slower: SQLite hands the GIL back and forth on every row, and each hand-off waits behind the parser. A forked
process can overlap them. It reads and validates the file with the same :class:`RecordIntake` as the
in-process path, then sends plain tuples back in pickled chunks. This process chains and writes them in file
order, so the ledger is the same row for row as an in-process import of the same file (a test holds the two
paths equal).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import threading
import traceback
from collections.abc import Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from socialcredit.identity import Pseudonymiser
from socialcredit.intake import Parsed, parse_file
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
    try:
        while True:
            payload = chunks.get()
            if payload is None:
                raise RuntimeError("the import worker stopped unexpectedly")
            if not payload:
                break
            message = pickle.loads(payload)
            if isinstance(message, str):
                raise RuntimeError(f"the import worker failed: {message}")
            yield message
    finally:
        receiver.close()
        worker.join(timeout=10)
        if worker.is_alive():
            worker.kill()
        drain.join(timeout=10)


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
    out.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


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
