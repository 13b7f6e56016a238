"""The transparency log's values: what a leaf commits to, signed tree heads,
witnesses' cosignatures, and proof files, with the checks anyone can run on
them offline, from the files alone. ``docs/transparency.md`` specifies each
format; the Merkle tree itself is ``merkle.py``.

- **A leaf** is the bytes ``"<kind> <digest>"`` (UTF-8), where ``digest`` is
  the hex SHA-256 the entry is sealed by: its chain hash for a record, a
  record event or a decision (so erasing a record's contents leaves its leaf
  true); a digest of its stored fields for everything else.
- **A tree head** is signed with Ed25519 over its body, five lines:
  ``socialcredit tree head v1``, the origin, the size, the root in hex and
  the time.
- **A cosignature** is a witness's Ed25519 signature over
  ``socialcredit cosignature v1`` and the same body.

Nothing here reads a clock, a file or a database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from socialcredit.domain.ledger.chain import canonical
from socialcredit.domain.ledger.merkle import (
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "KINDS",
    "ConsistencyProof",
    "Cosignature",
    "InclusionProof",
    "ProofError",
    "TreeHead",
    "cosign",
    "entry_digest",
    "leaf_bytes",
    "public_key_of",
    "sign_head",
    "witness_chain",
]

# Every kind of ledger entry the log holds, as its leaves name them.
KINDS = (
    "record",
    "event",
    "decision",
    "enrolment",
    "link",
    "definition",
    "rescoring",
    "consent",
    "case",
    "override",
    "key",
    "key-revocation",
    "key-term",
)
_HEAD_TITLE = "socialcredit tree head v1"
_COSIGNATURE_TITLE = "socialcredit cosignature v1"


def leaf_bytes(kind: str, digest: str) -> bytes:
    return f"{kind} {digest}".encode()


def entry_digest(kind: str, fields: Iterable[object]) -> str:
    """The digest an unchained entry (an enrolment, a link, a key event, ...)
    is committed by: SHA-256 of its kind and stored fields, joined as the
    hash chains join them."""
    plain = [_plain(value) for value in fields]
    return hashlib.sha256(f"{kind}\x1f{canonical(plain)}".encode()).hexdigest()


def _plain(value: object) -> object:
    """A number as both databases give it back: a REAL column returns 2 as 2.0,
    and SQLite returns a boolean as 1."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else repr(value)
    return value


def public_key_of(private: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key of a 32-byte private key (seed)."""
    key = Ed25519PrivateKey.from_private_bytes(private).public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _verify(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class TreeHead:
    origin: str
    size: int
    root: bytes
    time: str  # when it was signed, ISO 8601 in UTC
    key: bytes  # the log's Ed25519 public key
    signature: bytes

    def body(self) -> bytes:
        return _body(self.origin, self.size, self.root, self.time)

    def check(self, trusted_key: bytes | None = None) -> None:
        """:class:`ProofError` unless the head is signed by its key (and that key
        is ``trusted_key``, when one is given)."""
        if trusted_key is not None and trusted_key != self.key:
            raise ProofError(
                f"the head is signed by key {self.key.hex()}, not the trusted {trusted_key.hex()}"
            )
        if not _verify(self.key, self.signature, self.body()):
            raise ProofError("the head's signature does not verify: it was altered or forged")

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "tree-head",
            "origin": self.origin,
            "size": self.size,
            "root": self.root.hex(),
            "time": self.time,
            "key": self.key.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: object, where: str = "head") -> TreeHead:
        fields = _mapping(data, where, "tree-head")
        return cls(
            origin=_text(fields, "origin", where),
            size=_count(fields, "size", where),
            root=_hex(fields, "root", where, 32),
            time=_text(fields, "time", where),
            key=_hex(fields, "key", where, 32),
            signature=_hex(fields, "signature", where, 64),
        )


def _body(origin: str, size: int, root: bytes, time: str) -> bytes:
    return f"{_HEAD_TITLE}\n{origin}\n{size}\n{root.hex()}\n{time}\n".encode()


def sign_head(private: bytes, origin: str, size: int, root: bytes, time: str) -> TreeHead:
    signature = Ed25519PrivateKey.from_private_bytes(private).sign(_body(origin, size, root, time))
    return TreeHead(origin, size, root, time, public_key_of(private), signature)


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A witness's word that it saw ``head`` and found it consistent with every
    head it cosigned before."""

    head: TreeHead
    witness: bytes  # the witness's Ed25519 public key
    signature: bytes

    def check(self) -> None:
        if not _verify(self.witness, self.signature, _cosigned(self.head)):
            raise ProofError("the cosignature does not verify")

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "cosignature",
            "head": self.head.to_json(),
            "witness": self.witness.hex(),
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: object, where: str = "cosignature") -> Cosignature:
        fields = _mapping(data, where, "cosignature")
        return cls(
            head=TreeHead.from_json(fields.get("head"), f"{where}.head"),
            witness=_hex(fields, "witness", where, 32),
            signature=_hex(fields, "signature", where, 64),
        )


def _cosigned(head: TreeHead) -> bytes:
    return f"{_COSIGNATURE_TITLE}\n".encode() + head.body() + head.signature.hex().encode()


def cosign(private: bytes, head: TreeHead) -> Cosignature:
    signature = Ed25519PrivateKey.from_private_bytes(private).sign(_cosigned(head))
    return Cosignature(head, public_key_of(private), signature)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """That the entry ``kind``/``digest`` is leaf ``index`` of the tree of ``size``."""

    index: int
    size: int
    kind: str
    digest: str
    path: tuple[bytes, ...]
    ref: str | None = None  # what the entry is (a record's id): for people, not hashed

    def check(self, head: TreeHead) -> None:
        """:class:`ProofError` unless the proof leads to ``head``'s root (whose
        signature the caller has checked)."""
        if head.size != self.size:
            raise ProofError(
                f"the proof is against a tree of {self.size} entries, the head is of {head.size}: "
                f"ask for a proof against that head (`socialcredit log prove --size {head.size}`)"
            )
        leaf = leaf_hash(leaf_bytes(self.kind, self.digest))
        verify_inclusion(self.index, self.size, leaf, self.path, head.root)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "inclusion",
            "index": self.index,
            "size": self.size,
            "kind": self.kind,
            "digest": self.digest,
            "ref": self.ref,
            "path": [step.hex() for step in self.path],
        }

    @classmethod
    def from_json(cls, data: object, where: str = "proof") -> InclusionProof:
        fields = _mapping(data, where, "inclusion")
        kind = _text(fields, "kind", where)
        if kind not in KINDS:
            raise ProofError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}")
        ref = fields.get("ref")
        return cls(
            index=_count(fields, "index", where),
            size=_count(fields, "size", where),
            kind=kind,
            digest=_hex(fields, "digest", where, 32).hex(),
            path=_path(fields, where),
            ref=ref if isinstance(ref, str) else None,
        )


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """That the tree of ``old`` entries is a prefix of the tree of ``new``."""

    old: int
    new: int
    path: tuple[bytes, ...]

    def check(self, old_head: TreeHead, new_head: TreeHead) -> None:
        if (old_head.size, new_head.size) != (self.old, self.new):
            raise ProofError(
                f"the proof joins trees of {self.old} and {self.new} entries, the heads are of "
                f"{old_head.size} and {new_head.size}"
            )
        if old_head.origin != new_head.origin:
            raise ProofError(f"the heads are of two logs: {old_head.origin}, {new_head.origin}")
        verify_consistency(self.old, self.new, old_head.root, new_head.root, self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "consistency",
            "old": self.old,
            "new": self.new,
            "path": [step.hex() for step in self.path],
        }

    @classmethod
    def from_json(cls, data: object, where: str = "proof") -> ConsistencyProof:
        fields = _mapping(data, where, "consistency")
        return cls(
            old=_count(fields, "old", where),
            new=_count(fields, "new", where),
            path=_path(fields, where),
        )


# -- reading the files, each error naming the field and the rule ---------------------


def _mapping(data: object, where: str, kind: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ProofError(f"{where}: must be a JSON object")
    if data.get("type") != kind:
        raise ProofError(f"{where}: field 'type' must be {kind!r}, not {data.get('type')!r}")
    return data


def _text(fields: Mapping[str, Any], name: str, where: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise ProofError(f"{where}: field {name!r} must be a non-empty string")
    return value


def _count(fields: Mapping[str, Any], name: str, where: str) -> int:
    value = fields.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError(f"{where}: field {name!r} must be a whole number, 0 or more")
    return value


def _hex(fields: Mapping[str, Any], name: str, where: str, size: int) -> bytes:
    return _hex_value(fields.get(name), f"{where}: field {name!r}", size)


def _hex_value(value: object, what: str, size: int) -> bytes:
    try:
        found = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        found = b""
    if len(found) != size:
        raise ProofError(f"{what} must be {size} bytes in hex ({2 * size} characters)")
    return found


def _path(fields: Mapping[str, Any], where: str) -> tuple[bytes, ...]:
    steps = fields.get("path")
    if not isinstance(steps, Sequence) or isinstance(steps, str):
        raise ProofError(f"{where}: field 'path' must be a list of hashes")
    return tuple(_hex_value(step, f"{where}: path[{i}]", 32) for i, step in enumerate(steps))


def witness_chain(
    published: Sequence[tuple[TreeHead, ConsistencyProof | None]],
    trusted_key: bytes,
    last_cosigned: TreeHead | None = None,
) -> list[TreeHead]:
    """What a witness may cosign of a file of published heads: every head
    signed by ``trusted_key``, each consistent with the one before it by the
    proof it was published with, and none forking from the head the witness
    cosigned last. The heads beyond that one, in order; :class:`ProofError`
    naming the line at the first that fails."""
    previous: TreeHead | None = None
    fresh: list[TreeHead] = []
    joined = last_cosigned is None
    for line, (head, proof) in enumerate(published, start=1):
        try:
            head.check(trusted_key)
            if previous is not None:
                if proof is None:
                    raise ProofError("it carries no consistency proof from the head before it")
                proof.check(previous, head)
        except ProofError as error:
            raise ProofError(f"line {line}: {error}") from None
        previous = head
        if last_cosigned is not None and head.size == last_cosigned.size:
            if head.root != last_cosigned.root:
                raise ProofError(
                    f"line {line}: a head of {head.size} entries with another root than the one "
                    "cosigned before: the log forked"
                )
            joined = True
        if last_cosigned is None or head.size > last_cosigned.size:
            fresh.append(head)
    if fresh and not joined:
        raise ProofError(
            f"the file does not hold the head of {last_cosigned.size if last_cosigned else 0} "
            "entries cosigned last, so the heads after it cannot be joined to it"
        )
    return fresh
