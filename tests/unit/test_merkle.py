"""The transparency log's Merkle tree against a second implementation of RFC
9162, §2.1, written here from the RFC's text and kept deliberately plain: MTH
by its recursive definition, PATH and SUBPROOF likewise, and the two
verification algorithms of §2.1.3.2 and §2.1.4.2 step by step."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.ledger.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

# -- RFC 9162 §2.1, as written ---------------------------------------------------------


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: list[bytes]) -> bytes:
    """MTH(D[n]) of §2.1.1, over the entries themselves."""
    if not entries:
        return sha(b"")
    if len(entries) == 1:
        return sha(b"\x00" + entries[0])
    k = largest_power_below(len(entries))
    return sha(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def path(m: int, entries: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of §2.1.3.1."""
    if len(entries) == 1:
        return []
    k = largest_power_below(len(entries))
    if m < k:
        return [*path(m, entries[:k]), mth(entries[k:])]
    return [*path(m - k, entries[k:]), mth(entries[:k])]


def subproof(m: int, entries: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of §2.1.4.1."""
    n = len(entries)
    if m == n:
        return [] if whole else [mth(entries)]
    k = largest_power_below(n)
    if m <= k:
        return [*subproof(m, entries[:k], whole), mth(entries[k:])]
    return [*subproof(m - k, entries[k:], False), mth(entries[:k])]


def rfc_verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, inclusion_path: list[bytes], root: bytes
) -> bool:
    """§2.1.3.2, step by step."""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in inclusion_path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = sha(b"\x01" + p + r)
            if fn % 2 == 0:
                while not (fn % 2 == 1 or fn == 0):
                    fn, sn = fn // 2, sn // 2
        else:
            r = sha(b"\x01" + r + p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def rfc_verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, consistency: list[bytes]
) -> bool:
    """§2.1.4.2, step by step (for 0 < first < second)."""
    if first & (first - 1) == 0:
        consistency = [first_hash, *consistency]
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = consistency[0]
    for c in consistency[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = sha(b"\x01" + c + fr), sha(b"\x01" + c + sr)
            if fn % 2 == 0:
                while not (fn % 2 == 1 or fn == 0):
                    fn, sn = fn // 2, sn // 2
        else:
            sr = sha(b"\x01" + sr + c)
        fn, sn = fn // 2, sn // 2
    return fr == first_hash and sr == second_hash and sn == 0


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
