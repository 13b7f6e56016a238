"""The transparency log over a real store: every kind of entry becomes a leaf
in the transaction that writes it; heads, inclusion and consistency proofs
check by RFC 9162's algorithms as written (``tests/rfc9162.py``); erasure
leaves a record's proof true; ``verify`` finds a rewritten log and a log
that no longer gives a published head; an older ledger is brought in by
``init``."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from ledger_support import (
    KEY_ENV,
    at,
    before_the_log,
    businesses,
    line,
    numbered,
    people,
    shipped_system,
    sql,
)

from rfc9162 import rfc_verify_consistency, rfc_verify_inclusion
from socialcredit import bootstrap
from socialcredit.adapters.files.heads import FileHeads
from socialcredit.bootstrap import Services
from socialcredit.domain.ledger.merkle import MerkleTree, leaf_hash
from socialcredit.domain.ledger.transparency import (
    KINDS,
    ConsistencyProof,
    ProofError,
    TreeHead,
    leaf_bytes,
    witness_chain,
)
from socialcredit.errors import KeyMissing, StoreError
from socialcredit.testing import location

CONSENT_SCHEME = Path(__file__).parents[1] / "data" / "deposit-club.yaml"


def _leaves(system: Services) -> list[tuple[int, str, str]]:
    """Every leaf (number, kind, digest), unpacked from the log's rows."""
    rows = system.uow.database.connection.execute(
        "SELECT n, count, kind, digests FROM log_leaves ORDER BY n"
    )
    return [
        (int(n) + i, str(kind), str(digests)[64 * i : 64 * (i + 1)])
        for n, count, kind, digests in rows
        for i in range(int(count))
    ]


def _busy_ledger(tmp_path: Path) -> tuple[Services, list[str]]:
    """A ledger with an entry of every kind: records, events, decisions,
    enrolments, links, definitions, a rescoring, consents, cases, an override
    and key events."""
    system = shipped_system(tmp_path / "ledger.db", now=at(2025, 6, 1))
    system.definitions.add_files([CONSENT_SCHEME])
    who, other, linked = people(3, seed=901)
    [firm] = businesses(1, seed=902)
    lines = [line(f"r{n}", who, "traffic-violation", at(2025, 5, n)) for n in range(1, 6)]
    lines += [line("o1", other, "blood-donation", at(2025, 5, 2))]
    lines += [
        line("s1", who, "obstructing-enforcement", at(2025, 5, 1), scheme="spc-defaulters"),
        line("f1", firm, "able-but-refusing", at(2025, 5, 1), scheme="spc-defaulters"),
    ]
    assert system.imports.import_records(numbered(lines)).accepted == 8
    system.casework.contest("r2", "It was not me.", actor="cli")
    system.subjects.enrol(linked, "rongcheng-personal", actor="cli")
    system.subjects.link(firm, linked, since=at(2025, 1, 1), reporter="cli")
    system.consents.set(other, "deposit-club", "scoring", True, actor="cli")
    denied = system.checks.check(who, "travel.rail.highspeed", actor="cli")
    case = system.casework.refer_decision(denied.decision_id, "Surgery.", actor="cli")
    system.casework.decide(
        case.id, "overridden", "A letter.", actor="cli", effect="allow", until=at(2025, 6, 9)
    )
    system.definitions.rescore("rongcheng-personal", actor="cli", reason="test")
    key, _ = system.keys.create("checker", authority="china-railway", actor="cli")
    system.keys.rotate(key.id, grace=timedelta(days=1), actor="cli")
    system.keys.revoke(key.id, actor="cli")
    return system, [f"r{n}" for n in range(1, 6)] + ["o1", "s1", "f1"]


def test_every_kind_of_entry_is_a_leaf_and_the_log_verifies(tmp_path: Path) -> None:
    system, _ = _busy_ledger(tmp_path)
    leaves = _leaves(system)

    assert [n for n, _, _ in leaves] == list(range(len(leaves)))
    kinds = {kind for _, kind, _ in leaves}
    assert kinds == set(KINDS)
    db = system.uow.database.connection
    for kind, table in [("record", "records"), ("event", "record_events"), ("link", "links")]:
        (rows,) = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert sum(1 for _, k, _ in leaves if k == kind) == rows
    # A record's leaf commits to its chain hash and its row names that leaf.
    n, digest = system.uow.log.record_leaf("r3") or (None, None)
    (held,) = db.execute("SELECT hash FROM records WHERE id = 'r3'").fetchone()
    assert digest == held and leaves[n or 0] == (n, "record", held)
    assert system.log.problems() == []
    assert system.integrity.check().problems == []
    system.close()


def test_proofs_of_records_check_by_the_rfcs_algorithms(tmp_path: Path) -> None:
    system, records = _busy_ledger(tmp_path)
    every = [leaf_hash(leaf_bytes(kind, digest)) for _, kind, digest in _leaves(system)]
    reference = MerkleTree(every)
    head = system.log.head()
    head.check()
    assert head.size == len(every) and head.root == reference.root()

    for record_id in records:
        found = system.log.prove_record(record_id, actor="cli")
        proof = found.proof
        assert found.head.root == head.root
        leaf = leaf_hash(leaf_bytes(proof.kind, proof.digest))
        assert rfc_verify_inclusion(proof.index, proof.size, leaf, list(proof.path), head.root)
        assert list(proof.path) == reference.inclusion_proof(proof.index)
        proof.check(found.head)

    older = head.size // 2
    consistency, old_head, new_head = system.log.consistency(older)
    assert old_head.root == reference.root(older)
    assert rfc_verify_consistency(
        older, head.size, old_head.root, new_head.root, list(consistency.path)
    )
    consistency.check(old_head, new_head)
    system.close()


def test_a_proof_against_another_head_or_a_bent_path_is_refused(tmp_path: Path) -> None:
    system, _ = _busy_ledger(tmp_path)
    found = system.log.prove_record("r1", actor="cli")
    earlier = system.log.head(found.head.size - 1)
    with pytest.raises(ProofError, match="ask for a proof against that head"):
        found.proof.check(earlier)
    data = found.proof.to_json()
    data["path"][0] = "00" * 32
    bent = type(found.proof).from_json(data)
    with pytest.raises(ProofError, match="another root"):
        bent.check(found.head)
    forged = type(found.head).from_json({**found.head.to_json(), "size": found.head.size + 1})
    with pytest.raises(ProofError, match="signature does not verify"):
        forged.check()
    system.close()


def test_the_log_grows_and_every_old_head_stays_a_prefix(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    heads = []
    for batch in range(4):
        # Enough entries to make and keep subtree hashes (256 leaves and more).
        who = people(90, seed=910 + batch)
        lines = [
            line(f"g{batch}-{i}", p, "volunteering-8h", at(2025, 5, 3)) for i, p in enumerate(who)
        ]
        system.imports.import_records(numbered(lines))
        heads.append(system.log.head())
    reference = MerkleTree(leaf_hash(leaf_bytes(k, d)) for _, k, d in _leaves(system))
    (kept,) = system.uow.database.connection.execute("SELECT COUNT(*) FROM log_nodes").fetchone()
    assert kept >= 1  # subtree hashes are kept once a head has been made
    for old in heads[:-1]:
        assert old.root == reference.root(old.size)
        proof, old_head, new_head = system.log.consistency(old.size)
        assert old_head.root == old.root
        assert rfc_verify_consistency(
            old.size, new_head.size, old.root, new_head.root, list(proof.path)
        )
    system.close()


def test_an_erased_record_keeps_its_leaf_and_its_proof(tmp_path: Path) -> None:
    system, _ = _busy_ledger(tmp_path)
    before = system.log.prove_record("r4", actor="cli")
    system.records.erase(system.records.get("r4"), "no longer needed", actor="cli")

    after = system.log.prove_record("r4", actor="cli")

    assert (after.proof.index, after.proof.digest) == (before.proof.index, before.proof.digest)
    after.proof.check(after.head)
    assert system.integrity.check().problems == []
    system.close()


def test_the_access_export_carries_each_records_proof(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    [who] = people(1, seed=930)
    system.imports.import_records(
        numbered([line(f"e{n}", who, "traffic-violation", at(2025, 5, n)) for n in (1, 2, 3)])
    )
    held = system.export.access_export(who, actor="cli")
    assert held.log_head is not None
    for record in held.records:
        assert record.proof is not None and record.proof.ref == record.record.id
        record.proof.check(held.log_head)
    system.close()


def test_published_heads_are_appended_with_their_consistency_and_verified(tmp_path: Path) -> None:
    system, _ = _busy_ledger(tmp_path)
    target = _heads_file(tmp_path / "heads.jsonl")
    first = system.log.publish(target)
    system.imports.import_records(
        numbered([line("late", people(1, seed=940)[0], "heroic-act", at(2025, 5, 9))])
    )
    second = system.log.publish(target)

    assert first.consistency is None
    assert second.consistency is not None and second.consistency.old == first.head.size
    second.consistency.check(first.head, second.head)
    lines = [json.loads(text) for text in target.path.read_text().splitlines()]
    assert [entry["head"]["size"] for entry in lines] == [first.head.size, second.head.size]
    assert system.integrity.check().problems == []
    system.close()


def _heads_file(path: Path) -> FileHeads:
    return FileHeads(f"file:{path}")


# -- a rewritten log (SQLite: the test edits the file past its triggers) ----------------------


def _rewritten(tmp_path: Path, statements: str) -> list[str]:
    system, _ = _busy_ledger(tmp_path)
    # Past 256 leaves, so that the head keeps a subtree hash to edit.
    extra = [
        line(f"x{i}", p, "volunteering-8h", at(2025, 5, 3))
        for i, p in enumerate(people(260, seed=950))
    ]
    system.imports.import_records(numbered(extra))
    system.log.publish(_heads_file(tmp_path / "heads.jsonl"))
    system.close()
    path = tmp_path / "ledger.db"
    sql(path, "SELECT 1")  # skips on PostgreSQL
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall():
            db.execute(f"DROP TRIGGER {name}")
        db.executescript(statements)
        assert db.total_changes >= 1
    finally:
        db.close()
    reopened = bootstrap.open(location(path), env=KEY_ENV)
    try:
        return reopened.integrity.check().problems
    finally:
        reopened.close()


REWRITES = {
    "a record's leaf edited": (
        "UPDATE log_leaves SET digests = substr(digests, 1, 64 * (l.leaf - n)) || '00' "
        "|| substr(digests, 64 * (l.leaf - n) + 3) "
        "FROM (SELECT leaf FROM records WHERE id = 'r2') AS l "
        "WHERE n = (SELECT MAX(n) FROM log_leaves WHERE n <= l.leaf)",
        ["records name a leaf that is not theirs", "the log was rewritten"],
    ),
    "a leaf removed": (
        "DELETE FROM log_leaves WHERE kind = 'decision'",
        ["not numbered", "decisions rows have no leaf"],
    ),
    "a link rewritten": (
        "UPDATE links SET role = 'shareholder'",
        ["links rows have no leaf", "link leaves match no row of links"],
    ),
    "a key's revocation removed": (
        "DELETE FROM api_key_revocations",
        ["key-revocation leaves match no row of api_key_revocations"],
    ),
    "a kept subtree hash edited": (
        "UPDATE log_nodes SET hash = '00' || substr(hash, 3) WHERE level = 8 AND idx = 0",
        ["kept hash of subtree 0 at level 8 is wrong"],
    ),
}


@pytest.mark.parametrize("how", list(REWRITES))
def test_verify_finds_a_rewritten_log(tmp_path: Path, how: str) -> None:
    statements, expected = REWRITES[how]
    problems = _rewritten(tmp_path, statements)
    for words in expected:
        assert any(words in problem for problem in problems), (words, problems)


# -- keys and migrations ------------------------------------------------------------------------


def test_a_ledger_without_a_signing_key_says_how_to_get_one(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    shipped_system(path).close()
    key_file = Path(f"{path}.log-key")
    if key_file.exists():
        key_file.unlink()
    else:
        pytest.skip("the PostgreSQL ledger's key file is the working folder's")
    system = bootstrap.open(location(path), env=KEY_ENV)
    with pytest.raises(KeyMissing, match="socialcredit init"):
        system.log.head()
    assert system.log.signed() is False
    system.close()


def test_init_brings_an_older_ledgers_entries_into_the_log(tmp_path: Path) -> None:
    system, records = _busy_ledger(tmp_path)
    system.close()
    path = tmp_path / "ledger.db"
    # The ledger as migration 6 left it: no log tables, no leaf column.
    before_the_log(path)  # skips on PostgreSQL
    sql(path, "UPDATE meta SET value = '6' WHERE key = 'schema_version'")

    migrated = bootstrap.open(location(path), create=True, env=KEY_ENV)

    assert ("core", 7) in migrated.migrated
    assert migrated.integrity.check().problems == []
    for record_id in records:
        found = migrated.log.prove_record(record_id, actor="cli")
        found.proof.check(found.head)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        sql(path, "UPDATE records SET leaf = 0 WHERE id = 'r1'")
    migrated.close()


def test_a_publish_cut_short_still_leaves_a_file_witnesses_accept(tmp_path: Path) -> None:
    """A head written to the file but not remembered by the ledger (the command
    killed between the two): the next publish chains from the file's last line."""
    system, _ = _busy_ledger(tmp_path)
    path = tmp_path / "heads.jsonl"
    first = system.log.publish(_heads_file(path))
    # What a publish killed after its write leaves: a line the ledger does not know.
    system.imports.import_records(
        numbered([line("cut", people(1, seed=960)[0], "heroic-act", at(2025, 5, 9))])
    )
    orphan = system.log.head()
    with path.open("a") as handle:
        proof = system.log.consistency(first.head.size)[0]
        handle.write(json.dumps({"head": orphan.to_json(), "consistency": proof.to_json()}) + "\n")
    system.imports.import_records(
        numbered([line("after", people(1, seed=961)[0], "heroic-act", at(2025, 5, 9))])
    )
    third = system.log.publish(_heads_file(path))

    assert third.consistency is not None and third.consistency.old == orphan.size
    lines = [json.loads(text) for text in path.read_text().splitlines()]
    published = [
        (
            TreeHead.from_json(entry["head"]),
            ConsistencyProof.from_json(entry["consistency"]) if entry["consistency"] else None,
        )
        for entry in lines
    ]
    assert [h.size for h in witness_chain(published, first.head.key)] == [
        first.head.size,
        orphan.size,
        third.head.size,
    ]
    system.close()


def test_publishing_after_a_head_the_log_no_longer_gives_is_refused(tmp_path: Path) -> None:
    system, _ = _busy_ledger(tmp_path)
    path = tmp_path / "heads.jsonl"
    system.log.publish(_heads_file(path))
    forged = json.loads(path.read_text())
    forged["head"]["root"] = "00" * 32  # as if the log had been rewritten since
    path.write_text(json.dumps(forged) + "\n")
    with pytest.raises(StoreError, match="no longer gives the head"):
        system.log.publish(_heads_file(path))
    system.close()
