"""The transparency log's Merkle tree (in memory, stored, and read once)
against a second implementation of RFC 9162, §2.1, written from the RFC's
text in ``tests/rfc9162.py``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rfc9162 import mth, path, rfc_verify_consistency, rfc_verify_inclusion, sha, subproof
from socialcredit.domain.ledger.merkle import (
    EMPTY_ROOT,
    STRIDE,
    Frontier,
    MerkleTree,
    ProofError,
    TiledTree,
    fold,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

# -- the tests ---------------------------------------------------------------------------

entries_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


def _tree(entries: list[bytes]) -> MerkleTree:
    return MerkleTree(leaf_hash(e) for e in entries)


def test_the_empty_tree_and_one_leaf() -> None:
    assert MerkleTree().root() == EMPTY_ROOT == sha(b"")
    assert _tree([b"x"]).root() == sha(b"\x00x")


@settings(max_examples=150)
@given(entries_lists)
def test_every_root_is_the_rfcs(entries: list[bytes]) -> None:
    tree = _tree(entries)
    for size in range(len(entries) + 1):
        assert tree.root(size) == mth(entries[:size])


@settings(max_examples=150)
@given(entries_lists, st.data())
def test_inclusion_proofs_are_the_rfcs_and_verify_by_its_algorithm(
    entries: list[bytes], data: st.DataObject
) -> None:
    tree = _tree(entries)
    size = data.draw(st.integers(1, len(entries)))
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index, size)
    assert proof == path(index, entries[:size])
    root = mth(entries[:size])
    assert rfc_verify_inclusion(index, size, leaf_hash(entries[index]), proof, root)
    verify_inclusion(index, size, leaf_hash(entries[index]), proof, root)


@settings(max_examples=150)
@given(entries_lists, st.data())
def test_consistency_proofs_are_the_rfcs_and_verify_by_its_algorithm(
    entries: list[bytes], data: st.DataObject
) -> None:
    tree = _tree(entries)
    new = data.draw(st.integers(1, len(entries)))
    old = data.draw(st.integers(1, new))
    proof = tree.consistency_proof(old, new)
    assert proof == (subproof(old, entries[:new], True) if old < new else [])
    old_root, new_root = mth(entries[:old]), mth(entries[:new])
    if old < new:
        assert rfc_verify_consistency(old, new, old_root, new_root, proof)
    verify_consistency(old, new, old_root, new_root, proof)


@settings(max_examples=100)
@given(entries_lists, st.data())
def test_a_wrong_leaf_root_or_proof_is_refused(entries: list[bytes], data: st.DataObject) -> None:
    tree = _tree(entries)
    size = len(entries)
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index)
    leaf = leaf_hash(entries[index])
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf_hash(entries[index] + b"!"), proof, tree.root())
    if proof:
        bent = [*proof[:-1], sha(proof[-1])]
        assert not rfc_verify_inclusion(index, size, leaf, bent, tree.root())
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaf, bent, tree.root())
    if size > 1:
        old = data.draw(st.integers(1, size - 1))
        consistency = tree.consistency_proof(old)
        with pytest.raises(ProofError):
            verify_consistency(old, size, sha(b"not the root"), tree.root(), consistency)
        with pytest.raises(ProofError):
            verify_consistency(old, size, tree.root(old), sha(b"no"), consistency)


def test_sizes_a_proof_cannot_have_are_named() -> None:
    tree = _tree([b"a", b"b", b"c"])
    with pytest.raises(ProofError, match="leaf 3 is not in a tree of 3 leaves"):
        tree.inclusion_proof(3)
    with pytest.raises(ProofError, match="the tree has 3 leaves, not 4"):
        tree.root(4)
    with pytest.raises(ProofError, match="no consistency proof from 3 leaves to 2"):
        tree.consistency_proof(3, 2)


# -- a stored tree (kept subtrees at every 8th level) and a tree read once -------------------


class _Stored:
    """A NodeSource over a list of leaf hashes that keeps the STRIDE-level
    subtrees it was told to (some or none, as a log part way through making them)."""

    def __init__(self, leaves: list[bytes], keep_up_to: int) -> None:
        self.leaves = leaves
        self.kept: dict[tuple[int, int], bytes] = {}
        self.reads = 0
        reference = MerkleTree(leaves)
        level = STRIDE
        while (len(leaves) >> level) > 0:
            for index in range(min(len(leaves), keep_up_to) >> level):
                self.kept[(level, index)] = reference._perfect(level, index)
            level += STRIDE

    def leaf_hashes(self, start: int, stop: int) -> list[bytes]:
        self.reads += stop - start
        return self.leaves[start:stop]

    def nodes(self, level: int, start: int, stop: int) -> list[bytes | None]:
        return [self.kept.get((level, i)) for i in range(start, stop)]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 70_000), st.data())
def test_a_stored_tree_gives_the_roots_and_proofs_of_the_whole_tree(
    size: int, data: st.DataObject
) -> None:
    entries = [i.to_bytes(4, "big") for i in range(size)]
    leaves = [leaf_hash(e) for e in entries]
    kept_up_to = data.draw(st.sampled_from([0, size // 2, size]))
    stored = _Stored(leaves, kept_up_to)
    reference = MerkleTree(leaves)
    tree = TiledTree(stored, size)
    asked = data.draw(st.integers(1, size))
    assert tree.root(asked) == reference.root(asked)
    index = data.draw(st.integers(0, asked - 1))
    assert tree.inclusion_proof(index, asked) == reference.inclusion_proof(index, asked)
    old = data.draw(st.integers(0, asked))
    assert tree.consistency_proof(old, asked) == reference.consistency_proof(old, asked)


def test_kept_subtrees_spare_reading_the_leaves() -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(70_000)]
    whole, none = _Stored(leaves, len(leaves)), _Stored(leaves, 0)
    TiledTree(whole, len(leaves)).inclusion_proof(12_345)
    TiledTree(none, len(leaves)).inclusion_proof(12_345)
    assert whole.reads < 2_000 < 60_000 < none.reads


@settings(max_examples=60)
@given(entries_lists)
def test_a_tree_read_once_gives_every_root_and_each_kept_subtree(entries: list[bytes]) -> None:
    made: list[tuple[int, int, bytes]] = []
    frontier = Frontier(lambda level, index, digest: made.append((level, index, digest)))
    for size, entry in enumerate(entries):
        assert frontier.root() == mth(entries[:size])
        frontier.append(leaf_hash(entry))
    assert frontier.root() == mth(entries)


def test_a_tree_read_once_reports_the_subtrees_a_log_keeps() -> None:
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(66_000)]
    made: dict[tuple[int, int], bytes] = {}
    frontier = Frontier(lambda level, index, digest: made.__setitem__((level, index), digest))
    for leaf in leaves:
        frontier.append(leaf)
    assert made == _Stored(leaves, len(leaves)).kept
    assert len(made) == 66_000 // 256 + 1  # 257 at level 8, one at level 16
    assert fold(leaves[:256]) == made[(8, 0)]
