"""Record files, read and validated: CSV or JSON Lines, in this process or,
for a large file, in a forked worker (``worker.py``).

Lines are validated with the domain's :class:`RecordIntake`; nothing here
writes (``reader.py`` is what the import use case is handed).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from socialcredit.adapters.files.readers import (
    json_line,
    json_lines_in_bytes,
    read_lines,
    record_format,
)
from socialcredit.domain.identity import Pseudonymiser
from socialcredit.domain.intake import Parsed, RecordIntake, judged, validate_lines
from socialcredit.domain.registry import Registry
from socialcredit.native import native


def parse_file(
    path: Path, registry: Registry, pseudonymiser: Pseudonymiser, now: datetime, start: int = 1
) -> Iterator[Parsed]:
    """Every line of ``path`` from line ``start`` on, validated, in file order (in this process)."""
    lines = read_lines(path)
    if start > 1:
        lines = (line for line in lines if line[0] >= start)
    return validate_lines(lines, RecordIntake(registry, pseudonymiser, now))


CHUNK_BYTES = 4 * 1024 * 1024  # about 20,000 lines of a typical record file


def parse_file_chunks(
    path: Path, registry: Registry, pseudonymiser: Pseudonymiser, now: datetime
) -> Iterator[list[Parsed]]:
    """:func:`parse_file`'s items in lists, for a consumer that takes them in bulk
    (the import worker). A JSON Lines file is read as bytes and, where the C
    accelerator is built, each chunk is parsed and validated in one call; a
    line it gives up on goes through the same Python code as in
    :func:`parse_file`, so the items are the same (tests hold them equal)."""
    reader = native_lines(path, registry, pseudonymiser, now)
    if reader is None:
        intake = RecordIntake(registry, pseudonymiser, now)
        yield from _in_lists(validate_lines(read_lines(path), intake))
        return
    assert native is not None
    for number, chunk in reader.chunks:
        yield native.parse_lines(
            chunk, number, reader.table, orjson.loads, reader.judge, reader.reread
        )


@dataclass(frozen=True)
class NativeLines:
    """A JSON Lines file as the C accelerator reads it: chunks of raw lines
    (numbered as :func:`parse_file` numbers them), the intake's table, and the
    Python paths for the lines it leaves to them: ``judge(number, fields)`` for
    an object, ``reread(number, raw)`` for a line it could not read as one
    (None for a blank line)."""

    chunks: Iterator[tuple[int, list[bytes]]]
    table: tuple[Any, ...]
    judge: Callable[[int, Mapping[str, Any]], Parsed]
    reread: Callable[[int, bytes], Parsed | None]


def native_lines(
    path: Path, registry: Registry, pseudonymiser: Pseudonymiser, now: datetime
) -> NativeLines | None:
    """The file for the C accelerator, or None where it cannot take it: not
    built, not JSON Lines, or lines that bytes would split otherwise."""
    if native is None or record_format(path) != "jsonl":
        return None
    chunks = json_lines_in_bytes(path, CHUNK_BYTES)
    first = next(chunks, None)
    if first is None:
        return None
    intake = RecordIntake(registry, pseudonymiser, now)

    def judge(number: int, fields: Mapping[str, Any]) -> Parsed:
        return judged(intake, number, fields)

    def reread(number: int, raw: bytes) -> Parsed | None:
        text = raw.decode("utf-8", errors="replace")
        return judged(intake, number, json_line(text)) if text.strip() else None

    return NativeLines(itertools.chain([first], chunks), intake.native_table(), judge, reread)


def _in_lists(items: Iterator[Parsed], size: int = 10_000) -> Iterator[list[Parsed]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk
