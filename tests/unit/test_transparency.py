"""The log's values and the checks anyone runs on them offline: signed heads,
inclusion proofs from and to JSON (each malformed field named), and what a
witness will and will not cosign."""

from __future__ import annotations

import pytest

from socialcredit.domain.ledger.merkle import MerkleTree, leaf_hash
from socialcredit.domain.ledger.transparency import (
    ConsistencyProof,
    Cosignature,
    InclusionProof,
    ProofError,
    TreeHead,
    cosign,
    entry_digest,
    leaf_bytes,
    public_key_of,
    sign_head,
    witness_chain,
)

LOG_KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
ENTRIES = [("record", f"{i:064x}") for i in range(40)]
TREE = MerkleTree(leaf_hash(leaf_bytes(kind, digest)) for kind, digest in ENTRIES)


def head(size: int, key: bytes = LOG_KEY, root: bytes | None = None) -> TreeHead:
    found = TREE.root(size) if root is None else root
    return sign_head(key, "socialcredit/test", size, found, f"2026-01-01T00:00:{size:02d}+00:00")


def published(*sizes: int) -> list[tuple[TreeHead, ConsistencyProof | None]]:
    found: list[tuple[TreeHead, ConsistencyProof | None]] = []
    for i, size in enumerate(sizes):
        proof = None
        if i:
            old = sizes[i - 1]
            proof = ConsistencyProof(old, size, tuple(TREE.consistency_proof(old, size)))
        found.append((head(size), proof))
    return found


def test_a_head_verifies_and_any_change_to_it_does_not() -> None:
    signed = head(10)
    signed.check()
    signed.check(public_key_of(LOG_KEY))
    again = TreeHead.from_json(signed.to_json())
    assert again == signed
    for field, value in [("size", 11), ("origin", "x"), ("time", "2027"), ("root", "00" * 32)]:
        with pytest.raises(ProofError, match="signature does not verify"):
            TreeHead.from_json({**signed.to_json(), field: value}).check()
    with pytest.raises(ProofError, match="not the trusted"):
        signed.check(public_key_of(OTHER_KEY))


def test_an_inclusion_proof_round_trips_and_checks() -> None:
    proof = InclusionProof(7, 30, *ENTRIES[7], tuple(TREE.inclusion_proof(7, 30)), ref="r7")
    again = InclusionProof.from_json(proof.to_json())
    assert again == proof
    again.check(head(30))
    with pytest.raises(ProofError, match="against a tree of 30 entries, the head is of 31"):
        again.check(head(31))
    wrong = InclusionProof(7, 30, "record", ENTRIES[8][1], proof.path)
    with pytest.raises(ProofError, match="another root"):
        wrong.check(head(30))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"type": "tree-head"}, "field 'type' must be 'inclusion'"),
        ({"index": -1}, "field 'index' must be a whole number"),
        ({"size": "30"}, "field 'size' must be a whole number"),
        ({"kind": "gossip"}, "field 'kind' must be one of"),
        ({"digest": "xyz"}, "field 'digest' must be 32 bytes in hex"),
        ({"path": "ab"}, "field 'path' must be a list"),
        ({"path": ["00"]}, "path[0] must be 32 bytes in hex"),
    ],
)
def test_a_malformed_proof_is_refused_naming_the_field(
    change: dict[str, object], words: str
) -> None:
    proof = InclusionProof(7, 30, *ENTRIES[7], tuple(TREE.inclusion_proof(7, 30)))
    with pytest.raises(ProofError, match=words.replace("[", r"\[").replace("]", r"\]")):
        InclusionProof.from_json({**proof.to_json(), **change})


def test_an_unchained_entrys_digest_reads_numbers_as_either_database_returns_them() -> None:
    written = entry_digest("override", ["s", 2, None, True])
    assert written == entry_digest("override", ["s", 2.0, None, 1])
    assert written != entry_digest("override", ["s", 2.5, None, 1])
    assert written != entry_digest("consent", ["s", 2, None, True])


def test_a_witness_cosigns_a_consistent_chain_of_heads_once() -> None:
    chain = published(5, 12, 12, 40)
    fresh = witness_chain(chain, public_key_of(LOG_KEY))
    assert [h.size for h in fresh] == [5, 12, 12, 40]
    signature = cosign(OTHER_KEY, fresh[-1])
    Cosignature.from_json(signature.to_json()).check()
    assert witness_chain(chain, public_key_of(LOG_KEY), fresh[1]) == [fresh[3]]


def test_a_witness_refuses_a_fork_a_gap_a_stranger_or_a_shrinking_log() -> None:
    trusted = public_key_of(LOG_KEY)
    chain = published(5, 12, 40)
    # The witness cosigned another tree of 12 entries before: the log has forked.
    cosigned_before = head(12, root=b"\x01" * 32)
    with pytest.raises(ProofError, match=r"line 2: .* the log forked"):
        witness_chain(chain, trusted, cosigned_before)
    with pytest.raises(ProofError, match="line 2: it carries no consistency proof"):
        witness_chain([chain[0], (chain[1][0], None)], trusted)
    with pytest.raises(ProofError, match="line 1: the head is signed by key"):
        witness_chain([(head(5, OTHER_KEY), None)], trusted)
    shrinking = [chain[1], (chain[0][0], ConsistencyProof(12, 5, ()))]
    with pytest.raises(ProofError, match="line 2"):
        witness_chain(shrinking, trusted)
    with pytest.raises(ProofError, match="does not hold the head of 12 entries cosigned last"):
        witness_chain(published(40), trusted, head(12))
