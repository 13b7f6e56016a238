"""Reading record files: CSV or JSON Lines, one record per line.

A line that cannot be read at all becomes a reason string so the importer
can report it and carry on with the rest. Files are UTF-8; a leading byte
order mark (spreadsheets write one) is not part of the first line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

Line = tuple[int, Mapping[str, Any] | str]


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
            if not text.strip():
                continue
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as error:
                yield number, f"line is not valid JSON: {error.msg} at column {error.colno}"
                continue
            if isinstance(value, dict):
                yield number, value
            else:
                yield number, "line must be a JSON object with the record fields"


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
