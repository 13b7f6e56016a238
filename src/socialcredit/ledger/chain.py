"""Hash chaining of ledger rows.

Each subject has one chain over its records and record events, in ledger
order (``seq``). A row's hash covers the previous row's hash and the row's
own canonical fields, so editing, removing or reordering any row breaks the
chain at that row. Chains are per subject so that a store can be sharded by
subject and concurrent writers to different subjects never contend.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

GENESIS = "0" * 64
_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in validated fields


def canonical(fields: Iterable[object]) -> str:
    return _SEPARATOR.join([value if type(value) is str else _text(value) for value in fields])


def link_hash(previous: str, row_kind: str, fields: Iterable[object]) -> str:
    payload = previous + _SEPARATOR + row_kind + _SEPARATOR + canonical(fields)
    return hashlib.sha256(payload.encode()).hexdigest()


def _text(value: object) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
