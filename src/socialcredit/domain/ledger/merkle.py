"""An append-only Merkle tree as RFC 9162 (Certificate Transparency 2.0), §2.1,
defines it: its hashes, its shape, its inclusion and consistency proofs, and
the algorithms that check them.

- A leaf hashes ``0x00 || entry``; an interior node ``0x01 || left || right``
  (SHA-256). The empty tree's hash is SHA-256 of nothing.
- A tree of n > 1 leaves splits at k, the largest power of two below n: the
  first k leaves on the left, the rest on the right.

Three trees share the proofs: :class:`MerkleTree` keeps every level in memory
(for tests and small logs); :class:`TiledTree` reads a stored log, which keeps
the complete subtrees of every 8th level; :class:`Frontier` reads a log once,
in order, in O(log n) memory (to check it whole). Every subtree the RFC's
recursion visits is either complete and aligned or splits into such, so a
root or a proof costs O(log² n) hashes rather than O(n). Nothing here reads a
clock, a file or a database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "STRIDE",
    "Frontier",
    "MerkleTree",
    "NodeSource",
    "ProofError",
    "TiledTree",
    "fold",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not hold, or asked of sizes that cannot have one."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (> 1)."""
    return 1 << ((size - 1).bit_length() - 1)


class _Proofs:
    """Roots and proofs over any tree that can give ``_hash(low, high)``, the
    MTH of leaves [low, high), and its ``size``."""

    @property
    def size(self) -> int:
        raise NotImplementedError

    def _hash(self, low: int, high: int) -> bytes:
        raise NotImplementedError

    def root(self, size: int | None = None) -> bytes:
        """The tree head's hash of the first ``size`` leaves (all by default)."""
        size = self.size if size is None else size
        self._check_size(size)
        return self._hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of the first ``size`` leaves."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
        path: list[bytes] = []
        low, high = 0, size
        # Walk down from the root; each level's sibling goes in, nearest last.
        while high - low > 1:
            k = _split(high - low)
            if index < low + k:
                path.append(self._hash(low + k, high))
                high = low + k
            else:
                path.append(self._hash(low, low + k))
                low += k
        path.reverse()
        return path

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """The proof that the tree of ``old`` leaves is a prefix of that of ``new``."""
        new = self.size if new is None else new
        self._check_size(new)
        if not 0 <= old <= new:
            raise ProofError(f"no consistency proof from {old} leaves to {new}")
        if old in (0, new):
            return []
        proof: list[bytes] = []
        low, high, whole = 0, new, True
        while True:
            size, local = high - low, old - low
            if local == size:
                if not whole:
                    proof.append(self._hash(low, high))
                break
            k = _split(size)
            if local <= k:
                proof.append(self._hash(low + k, high))
                high = low + k
            else:
                proof.append(self._hash(low, low + k))
                low, whole = low + k, False
        proof.reverse()
        return proof

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ProofError(f"the tree has {self.size} leaves, not {size}")

    def _split_hash(self, low: int, high: int) -> bytes:
        """MTH of leaves [low, high): a complete aligned subtree from
        ``_perfect``, anything else split as the RFC splits it."""
        size = high - low
        if size & (size - 1) == 0:
            level = size.bit_length() - 1
            return self._perfect(level, low >> level)
        k = _split(size)
        return node_hash(self._split_hash(low, low + k), self._split_hash(low + k, high))

    def _perfect(self, level: int, index: int) -> bytes:
        raise NotImplementedError


class MerkleTree(_Proofs):
    """The tree of the leaf hashes appended so far, every level in memory."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Add a leaf hash; its index."""
        index = self.size
        self._levels[0].append(leaf)
        level, position, current = 0, index, leaf
        # Each time the new leaf completes a subtree, that subtree's hash goes up a level.
        while position & 1:
            left = self._levels[level][position - 1]
            current = node_hash(left, current)
            level, position = level + 1, position >> 1
            if len(self._levels) == level:
                self._levels.append([])
            self._levels[level].append(current)
        return index

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def _hash(self, low: int, high: int) -> bytes:
        return self._split_hash(low, high)

    def _perfect(self, level: int, index: int) -> bytes:
        return self._levels[level][index]


# Stored trees keep the hash of every complete subtree at every STRIDE-th
# level (256 leaves, 65,536, ...): any other subtree is at most 2^STRIDE - 1
# hashes from stored ones, and the stored ones are 1/255 of the leaves.
STRIDE = 8


class NodeSource(Protocol):
    """Where a stored tree reads from: leaf hashes by index, and the kept
    hashes of complete subtrees at levels STRIDE, 2·STRIDE, ... (None where
    one was not kept yet)."""

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]: ...

    def nodes(self, level: int, start: int, stop: int) -> list[bytes | None]: ...


class TiledTree(_Proofs):
    """A tree of ``size`` leaves read from a :class:`NodeSource`: a subtree's
    hash is read where it is kept, else made from the level kept below it."""

    def __init__(self, source: NodeSource, size: int) -> None:
        self._source = source
        self._size = size
        self._made: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:
        return self._size

    def _hash(self, low: int, high: int) -> bytes:
        return self._split_hash(low, high)

    def _perfect(self, level: int, index: int) -> bytes:
        found = self._made.get((level, index))
        if found is None:
            found = self._made[(level, index)] = self._make(level, index)
        return found

    def _make(self, level: int, index: int) -> bytes:
        below = level - (level % STRIDE or STRIDE) if level else 0
        if level and level % STRIDE == 0:
            [kept] = self._source.nodes(level, index, index + 1)
            if kept is not None:
                return kept
        if level == 0:
            [leaf] = self._source.leaf_hashes(index, index + 1)
            return leaf
        width = 1 << (level - below)
        start = index * width
        if below == 0:
            hashes = self._source.leaf_hashes(start, start + width)
        else:
            kept_below = self._source.nodes(below, start, start + width)
            hashes = [
                h if h is not None else self._perfect(below, start + i)
                for i, h in enumerate(kept_below)
            ]
        return fold(hashes)


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a complete subtree from its 2^k hashes at one level, left to right."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


class Frontier:
    """A tree read once, leaf by leaf, in O(log n) memory: the hashes of the
    complete subtrees its leaves make so far, largest first. Gives the root
    at any size reached, and calls ``on_node(level, index, hash)`` for each
    complete subtree at a STRIDE-th level as it completes."""

    def __init__(self, on_node: Callable[[int, int, bytes], None] | None = None) -> None:
        self._peaks: list[tuple[int, bytes]] = []  # (level, hash)
        self.size = 0
        self._on_node = on_node

    def append(self, leaf: bytes) -> None:
        level, current = 0, leaf
        while self._peaks and self._peaks[-1][0] == level:
            current = node_hash(self._peaks.pop()[1], current)
            level += 1
            if level % STRIDE == 0 and self._on_node:
                # The new leaf (index ``size``) is the last of the subtree it completes.
                self._on_node(level, self.size >> level, current)
        self._peaks.append((level, current))
        self.size += 1

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        current = self._peaks[-1][1]
        for _, peak in reversed(self._peaks[:-1]):
            current = node_hash(peak, current)
        return current


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162, §2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    position, last, found = index, size - 1, leaf
    for sibling in path:
        if last == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if position & 1 or position == last:
            found = node_hash(sibling, found)
            while not position & 1 and position:
                position, last = position >> 1, last >> 1
        else:
            found = node_hash(found, sibling)
        position, last = position >> 1, last >> 1
    if last != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return found


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """:class:`ProofError` unless ``path`` proves leaf ``index`` in the tree ``root``."""
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ProofError("the inclusion proof leads to another root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """:class:`ProofError` unless ``proof`` shows the tree ``old_root`` of ``old``
    leaves to be a prefix of the tree ``new_root`` of ``new`` (RFC 9162, §2.1.4.2)."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency from {old} leaves to {new}")
    if old == new:
        if proof or old_root != new_root:
            raise ProofError("the same size must have the same root and an empty proof")
        return
    if old == 0:
        if proof:
            raise ProofError("the empty tree needs no proof")
        return
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ProofError("the consistency proof is empty")
    position, last = old - 1, new - 1
    while position & 1:
        position, last = position >> 1, last >> 1
    first = second = path[0]
    for step in path[1:]:
        if last == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if position & 1 or position == last:
            first, second = node_hash(step, first), node_hash(step, second)
            while not position & 1 and position:
                position, last = position >> 1, last >> 1
        else:
            second = node_hash(second, step)
        position, last = position >> 1, last >> 1
    if last != 0 or first != old_root or second != new_root:
        raise ProofError("the consistency proof does not join the two roots")
