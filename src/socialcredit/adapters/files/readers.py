"""Reading record files: CSV or JSON Lines, one record per line.

A line that cannot be read at all becomes a reason string so the importer
can report it and carry on with the rest. Files are UTF-8; a leading byte
order mark (spreadsheets write one) is not part of the first line.
"""

from __future__ import annotations

import codecs
import csv
import mmap
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from socialcredit.domain.intake import Line


def record_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        first = handle.read(1)
    return "jsonl" if first == "{" else "csv"


def read_lines(path: Path, fmt: str | None = None) -> Iterator[Line]:
    if (fmt or record_format(path)) == "csv":
        yield from _read_csv(path)
    else:
        yield from _read_jsonl(path)


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _read_jsonl(path: Path) -> Iterator[Line]:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        for number, text in enumerate(handle, 1):
            if text.strip():
                yield number, json_line(text)


def json_line(text: str) -> Mapping[str, Any] | str:
    """The fields of one non-blank JSON Lines line, or the reason it has none."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        return f"line is not valid JSON: {error.msg} at column {error.colno}"
    if isinstance(value, dict):
        return value
    return "line must be a JSON object with the record fields"


def json_lines_in_bytes(path: Path, chunk_bytes: int) -> Iterator[tuple[int, list[bytes]]]:
    """The lines of a JSON Lines file as bytes, in chunks of about ``chunk_bytes``,
    each with the number of its first line, numbered as :func:`read_lines`
    numbers them; or nothing at all (the caller then reads the text) where
    bytes would be split differently: a file with a carriage return, which the
    text reader takes as a line break of its own."""
    with path.open("rb") as handle:
        if _has_carriage_return(handle):
            return
        number = 1
        while chunk := handle.readlines(chunk_bytes):
            if number == 1 and chunk[0].startswith(codecs.BOM_UTF8):
                chunk[0] = chunk[0][len(codecs.BOM_UTF8) :]
            yield number, chunk
            number += len(chunk)


def _has_carriage_return(handle: BinaryIO) -> bool:
    if os.fstat(handle.fileno()).st_size == 0:
        return False
    with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return mapped.find(b"\r") >= 0


def _read_csv(path: Path) -> Iterator[Line]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        names = [name.strip() for name in header]
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                yield number, f"line has {len(row)} fields but the header names {len(names)}"
                continue
            yield number, dict(zip(names, row, strict=True))
