from collections.abc import Callable, Mapping
from typing import Any

def parse_common(line: dict[str, Any], table: tuple[Any, ...]) -> Any: ...
def chain(
    fresh: list[tuple[int, Any]],
    known: Mapping[str, tuple[int, str]],
    heads: dict[str, tuple[int, str]],
    rows: list[tuple[Any, ...]],
    genesis: str,
    fallback: Callable[[str, str, int, Any], str],
) -> None: ...
def parse_lines(
    raw_lines: list[bytes],
    first_number: int,
    table: tuple[Any, ...],
    loads: Callable[[bytes], Any],
    judge: Callable[[int, Any], Any],
    reread: Callable[[int, bytes], Any],
) -> list[Any]: ...
def keep_kinds(
    fresh: list[tuple[int, Any]], kinds: Mapping[str, str], new_subjects: dict[str, Any]
) -> tuple[list[tuple[int, Any]], list[tuple[int, Any, str]]]: ...
def plan_lines(
    raw_lines: list[bytes],
    start: int,
    first_number: int,
    context: tuple[Any, ...],
    batch: list[Any],
    limit: int,
) -> int: ...
def add_months(moment: Any, months: int) -> Any: ...
def subject_records(rows: Any, key: str, record_type: Any, parse: Any) -> list[Any]: ...
def classify(
    ordered: Any,
    events: Any,
    t: Any,
    now: Any,
    consenting: bool,
    rules: Any,
    current_rules: Any,
    context: tuple[Any, ...],
) -> tuple[list[Any], list[Any], list[Any], bool] | None: ...
def list_entries(
    standing: list[Any], t: Any, scheme_id: str, lists: Any, context: tuple[Any, ...]
) -> list[Any] | None: ...
def link_hash(previous: str, row_kind: str, fields: Any) -> str | None: ...
