"""The transparency log: signed tree heads, inclusion proofs of records (for
their subjects and for auditors), consistency proofs between heads, heads
published for witnesses, and the log's part of ``verify``.

Every ledger entry is already a leaf when its transaction commits (the
repositories write them); this use case only reads the tree and signs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from socialcredit.domain.ledger.records import Record
from socialcredit.domain.ledger.transparency import (
    ConsistencyProof,
    InclusionProof,
    ProofError,
    TreeHead,
    public_key_of,
    sign_head,
)
from socialcredit.domain.times import ledger_time
from socialcredit.errors import KeyMissing, NotFound, StoreError, UsageError
from socialcredit.services.ports import HeadTarget
from socialcredit.services.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class RecordProof:
    """A record's inclusion proof and the head it leads to."""

    record: str
    proof: InclusionProof
    head: TreeHead


@dataclass(frozen=True, slots=True)
class Published:
    head: TreeHead
    consistency: ConsistencyProof | None  # from the head published to the target before
    target: str


class TransparencyLog:
    def __init__(self, uow: UnitOfWork, signing_key: bytes | None, key_missing: str) -> None:
        self._uow = uow
        self._key = signing_key
        self._key_missing = key_missing  # what to say when there is no key

    @property
    def public_key(self) -> bytes:
        return public_key_of(self._signing_key())

    @property
    def origin(self) -> str:
        """The log's name in its heads: one per signing key."""
        return f"socialcredit/{self.public_key.hex()[:16]}"

    def size(self) -> int:
        return self._uow.log.size()

    def head(self, size: int | None = None) -> TreeHead:
        """A head of the log now (or of its first ``size`` entries), signed now."""
        key = self._signing_key()  # before any work: a ledger without one says so at once
        log = self._uow.log
        held = log.catch_up()
        size = held if size is None else size
        if not 0 <= size <= held:
            raise UsageError(f"the log holds {held} entries: there is no head of {size}")
        root = log.tree(size).root(size)
        return sign_head(key, self.origin, size, root, ledger_time(self._uow.clock()) or "")

    def prove_record(
        self,
        record_id: str,
        *,
        actor: str,
        size: int | None = None,
        purpose: str = "inclusion proof",
        authorize: Callable[[Record], None] | None = None,
    ) -> RecordProof:
        """A record's inclusion proof against a head made now (or of ``size``):
        ``authorize`` (the caller's rule of who may) first, then the read logged."""
        uow = self._uow
        record = uow.ledger.record(record_id)
        if record is None:
            raise NotFound(f"no record with id {record_id!r}")
        if authorize is not None:
            authorize(record)
        head = self.head(size)
        proof = self.inclusion(record_id, head)
        uow.audit.log_access(record.subject, uow.clock(), actor, purpose, f"record {record_id}")
        return RecordProof(record_id, proof, head)

    def inclusion(self, record_id: str, head: TreeHead) -> InclusionProof:
        """The inclusion proof of a record against ``head`` (no read logged: for
        a caller that logs its own, such as the access export)."""
        [proof] = self.inclusions([record_id], head)
        return proof

    def inclusions(self, record_ids: Sequence[str], head: TreeHead) -> list[InclusionProof]:
        """Inclusion proofs of several records against one head, over one tree
        (the subtrees their paths share are read once)."""
        tree = self._uow.log.tree(head.size)
        proofs = []
        for record_id in record_ids:
            found = self._uow.log.record_leaf(record_id)
            if found is None:
                raise NotFound(f"record {record_id!r} has no leaf in the log")
            index, digest = found
            if index >= head.size:
                raise UsageError(
                    f"record {record_id!r} entered the log after the head of {head.size} "
                    "entries: ask for a later head"
                )
            path = tuple(tree.inclusion_proof(index, head.size))
            proofs.append(InclusionProof(index, head.size, "record", digest, path, ref=record_id))
        return proofs

    def signed(self) -> bool:
        """Whether this ledger has a signing key (a ledger made before the log
        has none until ``socialcredit init``)."""
        return self._key is not None

    def consistency(
        self, old: int, new: int | None = None
    ) -> tuple[ConsistencyProof, TreeHead, TreeHead]:
        """The proof that the log of ``old`` entries is a prefix of that of
        ``new`` (now, by default), with signed heads of both."""
        new_head = self.head(new)
        if not 0 <= old <= new_head.size:
            raise UsageError(
                f"no consistency proof from {old} entries to {new_head.size}: "
                f"the old size must be between 0 and {new_head.size}"
            )
        old_head = self.head(old)
        path = self._uow.log.tree(new_head.size).consistency_proof(old, new_head.size)
        return ConsistencyProof(old, new_head.size, tuple(path)), old_head, new_head

    def publish(self, target: HeadTarget) -> Published:
        """A head made now, appended to ``target`` with the consistency proof
        from the head on the target's last line (what its witnesses last saw,
        even if a publish was cut short before the ledger remembered it), and
        remembered for ``verify``. Refused if the log no longer gives that head."""
        head = self.head()
        found: list[ConsistencyProof | None] = [None]

        def entry(last: object) -> dict[str, object]:
            if last is not None:
                found[0] = self._from_published(last, head)
            proof = found[0]
            return {"head": head.to_json(), "consistency": proof.to_json() if proof else None}

        target.append_after_last(entry)
        self._uow.log.add_published(head, target.name)
        return Published(head, found[0], target.name)

    def _from_published(self, last: object, head: TreeHead) -> ConsistencyProof:
        """The consistency proof from a published line's head to ``head``."""
        data = last.get("head") if isinstance(last, dict) else None
        try:
            earlier = TreeHead.from_json(data, "the target's last head")
        except ProofError as error:
            raise StoreError(f"cannot publish after it: {error}") from None
        if earlier.origin != head.origin or earlier.size > head.size:
            raise StoreError(
                f"the target's last head is of {earlier.origin} at {earlier.size} entries; this log "
                f"is {head.origin} at {head.size}: refused, a witness would see a fork or a log cut"
            )
        tree = self._uow.log.tree(head.size)
        if tree.root(earlier.size) != earlier.root:
            raise StoreError(
                f"the log no longer gives the head of {earlier.size} entries published there "
                "(another root): it was rewritten; run `socialcredit verify`"
            )
        return ConsistencyProof(
            earlier.size, head.size, tuple(tree.consistency_proof(earlier.size))
        )

    def problems(self, progress: Callable[[int], None] | None = None) -> list[str]:
        return self._uow.log.problems(progress)

    def _signing_key(self) -> bytes:
        if self._key is None:
            raise KeyMissing(self._key_missing)
        return self._key


__all__ = ["Published", "RecordProof", "TransparencyLog"]
