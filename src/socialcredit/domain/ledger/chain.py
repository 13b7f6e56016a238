"""Hash chaining of ledger rows.

Each subject has one chain over its records and record events, in ledger
order (``seq``). A row's hash covers the previous row's hash and the row's
own canonical fields, so editing, removing or reordering any row breaks the
chain at that row. Chains are per subject so that a store can be sharded by
subject and concurrent writers to different subjects never contend.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from socialcredit.native import native

GENESIS = "0" * 64
_SEPARATOR = "\x1f"  # ASCII unit separator: intake refuses control characters in fields
_NONE = "\x00"  # how an absent value is hashed


def canonical(fields: Iterable[object]) -> str:
    return _SEPARATOR.join([value if type(value) is str else _text(value) for value in fields])


def link_hash(previous: str, row_kind: str, fields: Iterable[object]) -> str:
    """The hash linking a row (its kind and canonical fields) to the row before it."""
    if native is not None and type(previous) is str and type(row_kind) is str:
        found: str | None = native.link_hash(previous, row_kind, fields)
        if found is not None:
            return found
    return link_hash_in_python(previous, row_kind, fields)


def link_hash_in_python(previous: str, row_kind: str, fields: Iterable[object]) -> str:
    """The reference for ``native.link_hash``."""
    payload = previous + _SEPARATOR + row_kind + _SEPARATOR + canonical(fields)
    return hashlib.sha256(payload.encode()).hexdigest()


def record_link_hash(
    previous: str,
    subject: str,
    seq: int,
    record_id: str,
    scheme: str,
    version: int,
    category: str,
    occurred_at: str,
    reported_at: str,
    expires_at: str,
    points: int,
    reporter: str,
    evidence: str | None,
) -> str:
    """``link_hash(previous, "record", fields)`` for a record row, spelled out for the
    import hot path (one f-string instead of a generic join); a test holds the two equal."""
    return record_item_hash(
        previous,
        subject,
        seq,
        (
            record_id,
            None,
            scheme,
            version,
            category,
            occurred_at,
            reported_at,
            expires_at,
            points,
            reporter,
            evidence,
        ),
    )


def record_item_hash(previous: str, subject: str, seq: int, item: Sequence[Any]) -> str:
    """:func:`record_link_hash` of a new record as the import holds it: a
    ``NewRecord`` (id, its subject's row, scheme, ..., evidence, fingerprint),
    its subject key and seq. The import hashes each record before building its
    row, so the row is built once."""
    (
        record_id,
        _,
        scheme,
        version,
        category,
        occurred_at,
        reported_at,
        expires_at,
        points,
        reporter,
        evidence,
    ) = item[:11]
    tail = _NONE if evidence is None else evidence
    payload = (
        f"{previous}\x1frecord\x1f{subject}\x1f{seq}\x1f{record_id}\x1f{scheme}\x1f{version}"
        f"\x1f{category}\x1f{occurred_at}\x1f{reported_at}\x1f{expires_at}\x1f{points}"
        f"\x1f{reporter}\x1f{tail}"
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def ledger_root(heads: Iterable[tuple[str, int, str]]) -> str:
    """One hash over every subject's chain head. Recorded outside the database
    (printed by ``socialcredit verify``), it lets a later ``verify --root``
    catch what the chains alone cannot: a chain rewritten with fresh hashes,
    or its last rows removed with its head set back."""
    digest = hashlib.sha256()
    for subject, seq, head in sorted(heads):
        digest.update(f"{subject}\x1f{seq}\x1f{head}\n".encode())
    return digest.hexdigest()


def _text(value: object) -> str:
    if value is None:
        return _NONE
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
