"""What becomes of a batch of new records: a pure plan, applied by a store.

Given the chain heads and subject kinds already held and the fingerprints of
ids already stored, each record of a batch is:
- accepted, and linked into its subject's hash chain;
- a duplicate: its id is held with the same payload;
- or refused, with a reason that names the field.

A store plans each batch inside its write transaction, then writes the plan. Keeping the judgement pure keeps
it the same for every store (the PostgreSQL store will use it too).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from socialcredit.domain.ledger.chain import GENESIS, record_item_hash
from socialcredit.domain.ledger.values import AppendOutcome, NewRecord, SubjectRow
from socialcredit.native import native

CONFLICT = "id: a record with this id already exists with different contents (conflict)"

Head = tuple[int, str]  # (seq, hash) of a subject's last ledger row


@dataclass(slots=True)
class BatchPlan:
    rows: list[tuple[Any, ...]]  # accepted records as `records` rows, chained
    heads: dict[str, Head]  # new heads of the subjects the batch touches
    new_subjects: dict[str, SubjectRow]  # subjects the ledger does not hold yet
    outcome: AppendOutcome = field(default_factory=lambda: AppendOutcome([], [], []))


class PlanBase(NamedTuple):
    """What batches can be planned against away from the store (by the import
    worker): every chain head and subject kind the ledger holds, and the epoch
    of the store's cache they were copied from. The store writes such a plan
    only while its cache is still of that epoch, i.e. nobody else has written."""

    heads: dict[str, Head]
    kinds: dict[str, str]
    epoch: int


def first_batch(batch_size: int) -> int:
    """An import's first batch is a tenth of the others, on every path alike: the
    writing process starts as soon as the worker has that much ready, and the
    paths still cut a file into the same batches."""
    return max(1, batch_size // 10)


def learn(
    heads: MutableMapping[str, Head], kinds: MutableMapping[str, str], plan: BatchPlan
) -> None:
    """Move ``heads`` and ``kinds`` on to what they are once ``plan`` is written."""
    heads.update(plan.heads)
    kinds.update((key, row.kind) for key, row in plan.new_subjects.items())


def plan_batch(
    batch: Sequence[NewRecord],
    heads: Mapping[str, Head],
    kinds: Mapping[str, str],
    stored: Mapping[str, str],
) -> BatchPlan:
    """``heads`` and ``kinds`` must cover every subject of the batch the ledger
    holds; ``stored`` maps the batch's ids that are already held to their
    fingerprints."""
    plan = BatchPlan([], {}, {})
    firsts, repeats = _split_repeats(batch)
    fresh = _refuse_kind_changes(firsts, kinds, plan)
    if repeats and len(fresh) < len(firsts):
        refused = {item.id for _, item in firsts} - {item.id for _, item in fresh}
        if any(item.id in refused for _, item in repeats):
            # A refused line's id comes again: judge the batch line by line instead.
            plan = BatchPlan([], {}, {})
            firsts, fresh, repeats = _in_line_order(batch, kinds, plan)
    fresh = _drop_stored(fresh, stored, plan.outcome)
    _chain(fresh, heads, plan)
    # A new subject is written only with a record of its own.
    plan.new_subjects = {k: v for k, v in plan.new_subjects.items() if k in plan.heads}
    plan.outcome.accepted.extend(map(_position, fresh))
    if repeats:
        _judge_repeats(firsts, repeats, stored, plan.outcome)
    return plan


def _in_line_order(
    batch: Sequence[NewRecord], kinds: Mapping[str, str], plan: BatchPlan
) -> tuple[list[tuple[int, NewRecord]], list[tuple[int, NewRecord]], list[tuple[int, NewRecord]]]:
    """(firsts, fresh, repeats) with every line judged in turn, as the C planner
    judges them: a line refused for a kind change stores nothing, so the next
    line of its id is that id's first line, and a subject's kind is set by the
    first line that keeps it. Only for a batch that needs it (rare): a line per
    call."""
    firsts, fresh, repeats = [], [], []
    taken: set[str] = set()
    for pair in enumerate(batch):
        if pair[1].id in taken:
            repeats.append(pair)
            continue
        firsts.append(pair)
        if _refuse_kind_changes([pair], kinds, plan):
            fresh.append(pair)
            taken.add(pair[1].id)
    return firsts, fresh, repeats


def _judge_repeats(
    firsts: list[tuple[int, NewRecord]],
    repeats: list[tuple[int, NewRecord]],
    stored: Mapping[str, str],
    outcome: AppendOutcome,
) -> None:
    """A repeated id is judged against the stored record if there is one, else
    against the batch's first line with that id that was kept (the latest of
    ``firsts``, which are in batch order)."""
    reference = {item.id: item.fingerprint for _, item in firsts} | dict(stored)
    for position, item in repeats:
        if reference[item.id] == item.fingerprint:
            outcome.duplicates.append(position)
        else:
            outcome.refused.append((position, CONFLICT))


def _split_repeats(
    batch: Sequence[NewRecord],
) -> tuple[list[tuple[int, NewRecord]], list[tuple[int, NewRecord]]]:
    """The first line of each id in the batch, and the later lines repeating one."""
    if len({item.id for item in batch}) == len(batch):
        return list(enumerate(batch)), []  # the usual case, without a Python-level loop
    seen: set[str] = set()
    firsts, repeats = [], []
    for position, item in enumerate(batch):
        if item.id in seen:
            repeats.append((position, item))
        else:
            seen.add(item.id)
            firsts.append((position, item))
    return firsts, repeats


def _refuse_kind_changes(
    fresh: list[tuple[int, NewRecord]], kinds: Mapping[str, str], plan: BatchPlan
) -> list[tuple[int, NewRecord]]:
    if native is None or type(kinds) is not dict:
        return _kept_kinds(fresh, kinds, plan)
    kept, refused = native.keep_kinds(fresh, kinds, plan.new_subjects)
    for position, item, held in refused:
        plan.outcome.refused.append((position, _kind_change(item.subject, held)))
    return kept


def _kept_kinds(
    fresh: list[tuple[int, NewRecord]], kinds: Mapping[str, str], plan: BatchPlan
) -> list[tuple[int, NewRecord]]:
    """The reference for ``native.keep_kinds``."""
    kept = []
    new_subjects = plan.new_subjects
    for pair in fresh:
        position, item = pair
        subject = item.subject
        held = kinds.get(subject.key)
        if held is None:
            held = new_subjects.setdefault(subject.key, subject).kind
        if held == subject.kind:
            kept.append(pair)
        else:
            plan.outcome.refused.append((position, _kind_change(subject, held)))
    return kept


def _kind_change(subject: SubjectRow, held: str) -> str:
    return f"subject: {subject.masked} is already held as a {held}, not a {subject.kind}"


def _drop_stored(
    fresh: list[tuple[int, NewRecord]], stored: Mapping[str, str], outcome: AppendOutcome
) -> list[tuple[int, NewRecord]]:
    """Keep what is not stored yet; a stored id is a duplicate if the payload
    matches, a conflict if it differs."""
    if not stored:
        return fresh
    kept = []
    for position, item in fresh:
        held = stored.get(item.id)
        if held is None:
            kept.append((position, item))
        elif held == item.fingerprint:
            outcome.duplicates.append(position)
        else:
            outcome.refused.append((position, CONFLICT))
    return kept


def _chain(fresh: list[tuple[int, NewRecord]], known: Mapping[str, Head], plan: BatchPlan) -> None:
    heads = plan.heads
    rows = plan.rows
    if native is not None and type(known) is dict:
        native.chain(fresh, known, heads, rows, GENESIS, record_item_hash)
    else:
        _chain_rows(fresh, known, heads, rows)
    # Inserting in (subject, seq) order keeps index pages warm. Each subject's
    # rows were appended in seq order, and the sort is stable, so sorting by
    # subject alone gives that order (strings compared in C, three times faster
    # than comparing tuples).
    rows.sort(key=_subject)


def _chain_rows(
    fresh: list[tuple[int, NewRecord]],
    known: Mapping[str, Head],
    heads: dict[str, Head],
    rows: list[tuple[Any, ...]],
) -> None:
    """Link each record to its subject's head; the reference for ``native.chain``."""
    for _, item in fresh:
        subject = item.subject.key
        seq, previous = heads.get(subject) or known.get(subject) or (0, GENESIS)
        seq += 1
        digest = record_item_hash(previous, subject, seq, item)
        heads[subject] = (seq, digest)
        # The `records` row: subject, seq, then the record's own fields (NewRecord
        # without its SubjectRow), then the hash.
        rows.append((subject, seq, item[0], *item[2:], digest))


_subject = itemgetter(0)
_position = itemgetter(0)


class PlannedBatch(NamedTuple):
    """One batch of a file as the worker read, validated and planned it."""

    start: int  # the first line it covers (the line after the previous batch's last)
    seen: int  # lines it covers that were read: records and refusals
    rejected: list[tuple[int, str | None, str]]  # (line, record id, reason)
    duplicate_lines: list[int]
    accepted: int
    plan: BatchPlan
