"""A subject's record proved to be in the log, as a new user would do it: the
operator publishes heads; the subject takes their record's proof and a
published head to another folder (no database, no keys, nothing of the
ledger's environment) and checks it with ``socialcredit log check``. The
proof is also checked by RFC 9162's algorithm as written (``tests/rfc9162.py``).
A witness cosigns the published heads and refuses a forked log."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rfc9162 import rfc_verify_inclusion, sha
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric

BIN = Path(sys.executable).parent / "socialcredit"
NOW = datetime.now(UTC).replace(microsecond=0)
_rng = random.Random(77)
RESIDENT, NEIGHBOUR = ("cn-ric:" + generate_ric(_rng) for _ in range(2))


def run(
    folder: Path, *args: str, db: Path | None = None, code: int = 0
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["COLUMNS"] = "200"
    if db is not None:
        env["SOCIALCREDIT_DB"] = str(db)
    done = subprocess.run(
        [str(BIN), *args], env=env, cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, (args, done.stdout, done.stderr)
    return done


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("operator")
    db = folder / "city.db"
    run(folder, "init", db=db)
    run(folder, "schemes", "add", *map(str, shipped_scheme_files()), db=db)
    day = (NOW - timedelta(days=20)).isoformat()
    lines = [
        {
            "id": f"t{n}",
            "scheme": "rongcheng-personal",
            "category": "traffic-violation",
            "subject": RESIDENT if n % 2 else NEIGHBOUR,
            "occurred_at": day,
            "reporter": "police",
        }
        for n in range(1, 40)
    ]
    (folder / "records.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    run(folder, "records", "import", "records.jsonl", db=db)
    run(folder, "log", "publish", "--to", "file:heads.jsonl", db=db)
    run(folder, "check", RESIDENT, "fee.heating", db=db)  # more entries: a decision
    run(folder, "log", "publish", "--to", "file:heads.jsonl", db=db)
    return {"folder": folder, "db": db}


def test_a_subject_checks_their_records_proof_on_another_machine(
    operator: dict[str, Any], tmp_path: Path
) -> None:
    folder, db = operator["folder"], operator["db"]
    published = [json.loads(x) for x in (folder / "heads.jsonl").read_text().splitlines()]
    head = published[-1]["head"]
    proof = json.loads(
        run(folder, "log", "prove", "t7", "--size", str(head["size"]), "--json", db=db).stdout
    )
    elsewhere = tmp_path / "my-laptop"
    elsewhere.mkdir()
    (elsewhere / "proof.json").write_text(json.dumps(proof))
    (elsewhere / "head.json").write_text(json.dumps(head))

    done = run(elsewhere, "log", "check", "proof.json", "--head", "head.json", "--key", head["key"])

    assert "verified: record t7 is entry" in done.stdout
    assert sorted(p.name for p in elsewhere.iterdir()) == ["head.json", "proof.json"]
    leaf = sha(b"\x00" + f"record {proof['digest']}".encode())
    path = [bytes.fromhex(step) for step in proof["path"]]
    root = bytes.fromhex(head["root"])
    assert rfc_verify_inclusion(proof["index"], proof["size"], leaf, path, root)


def test_a_bent_proof_a_forged_head_or_another_key_is_refused(
    operator: dict[str, Any], tmp_path: Path
) -> None:
    folder, db = operator["folder"], operator["db"]
    first, head = [
        json.loads(x)["head"] for x in (folder / "heads.jsonl").read_text().splitlines()
    ][:2]
    proof = json.loads(
        run(folder, "log", "prove", "t3", "--size", str(head["size"]), "--json", db=db).stdout
    )
    cases = {
        "bent": ({**proof, "digest": "ab" * 32}, head, [], "another root"),
        "forged": (proof, {**head, "root": "cd" * 32}, [], "signature does not verify"),
        "other key": (proof, head, ["--key", "ef" * 32], "not the trusted"),
        "old head": (proof, first, [], "ask for a proof against that head"),
    }
    for name, (given_proof, given_head, extra, words) in cases.items():
        (tmp_path / f"{name}.proof.json").write_text(json.dumps(given_proof))
        (tmp_path / f"{name}.head.json").write_text(json.dumps(given_head))
        done = run(
            tmp_path,
            "log",
            "check",
            f"{name}.proof.json",
            "--head",
            f"{name}.head.json",
            *extra,
            code=1,
        )
        assert "proof does not hold" in done.stderr and words in done.stderr, (name, done.stderr)


def test_heads_are_consistent_and_a_witness_cosigns_them_once(
    operator: dict[str, Any], tmp_path: Path
) -> None:
    folder, db = operator["folder"], operator["db"]
    heads_file = tmp_path / "heads.jsonl"
    heads_file.write_text((folder / "heads.jsonl").read_text())
    first, second = [json.loads(x)["head"] for x in heads_file.read_text().splitlines()][:2]
    proof = json.loads(
        run(
            folder,
            "log",
            "consistency",
            str(first["size"]),
            "--to",
            str(second["size"]),
            "--json",
            db=db,
        ).stdout
    )
    (tmp_path / "c.json").write_text(json.dumps(proof))
    (tmp_path / "old.json").write_text(json.dumps(first))
    (tmp_path / "new.json").write_text(json.dumps(second))
    done = run(tmp_path, "log", "check", "c.json", "--old-head", "old.json", "--head", "new.json")
    assert f"prefix of the log of {second['size']}" in done.stdout

    witnessed = run(
        tmp_path, "log", "witness", "heads.jsonl", "--key", "w.key", "--log-key", first["key"]
    )
    assert "cosigned 2 new heads" in witnessed.stdout
    again = run(tmp_path, "log", "witness", "heads.jsonl", "--key", "w.key")
    assert "cosigned 0 new heads" in again.stdout
    cosigned = [json.loads(x) for x in (tmp_path / "heads.jsonl.cosigned").read_text().splitlines()]
    assert [c["head"]["size"] for c in cosigned] == [first["size"], second["size"]]

    # The log shows the witness another tree of the same size: a fork.
    forked = json.loads(heads_file.read_text().splitlines()[-1])
    forked["head"]["root"] = "00" * 32
    heads_file.write_text(heads_file.read_text() + json.dumps(forked) + "\n")
    refused = run(tmp_path, "log", "witness", "heads.jsonl", "--key", "w.key", code=1)
    assert "refused to cosign: line 3" in refused.stderr


def test_verify_holds_the_log_to_every_published_head(operator: dict[str, Any]) -> None:
    done = run(operator["folder"], "verify", "--json", db=operator["db"])
    assert json.loads(done.stdout)["problems"] == []
