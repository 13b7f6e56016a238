"""``socialcredit log``: the transparency log's signed heads, inclusion and
consistency proofs, publishing heads, checking proofs offline (no database)
and witnessing published heads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from socialcredit.adapters.files.heads import FileHeads, read_json_lines
from socialcredit.adapters.keyfile import witness_key
from socialcredit.domain.ledger.transparency import (
    ConsistencyProof,
    Cosignature,
    InclusionProof,
    ProofError,
    TreeHead,
    cosign,
    witness_chain,
)
from socialcredit.entrypoints.cli.common import (
    CLI_ACTOR,
    DEFAULT_DB,
    Db,
    Json,
    handled,
    opened,
    out,
    print_json,
    stderr_line,
)
from socialcredit.errors import UsageError

log_app = typer.Typer(
    help="The transparency log: signed heads, proofs anyone can check offline, witnesses.",
    no_args_is_help=True,
)
Size = Annotated[
    int | None,
    typer.Option(help="Against the head of the log's first SIZE entries (default: now)."),
]
Out = Annotated[Path | None, typer.Option(help="Write the JSON to this file as well.")]


def _emit(value: dict[str, Any], as_json: bool, out_file: Path | None, said: str) -> None:
    if out_file is not None:
        out_file.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    if as_json:
        print_json(value)
    else:
        out.print(said, highlight=False)


@log_app.command("head")
@handled
def log_head(
    size: Size = None, db: Db = DEFAULT_DB, as_json: Json = False, out_file: Out = None
) -> None:
    """Print a tree head, signed now: the log's size and root hash."""
    with opened(db) as services:
        head = services.log.head(size)
    said = f"{head.origin}: {head.size} entries, root {head.root.hex()} (signed {head.time})"
    _emit(head.to_json(), as_json, out_file, said)


@log_app.command("prove")
@handled
def log_prove(
    record_id: Annotated[str, typer.Argument(help="The record's id.")],
    size: Size = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
    out_file: Out = None,
) -> None:
    """Print a record's inclusion proof, with the head it leads to."""
    with opened(db) as services:
        found = services.log.prove_record(record_id, size=size, actor=CLI_ACTOR)
    value = {**found.proof.to_json(), "head": found.head.to_json()}
    said = (
        f"record {record_id} is entry {found.proof.index} of {found.head.size}; "
        f"{len(found.proof.path)} hashes lead to root {found.head.root.hex()}"
    )
    _emit(value, as_json, out_file, said)


@log_app.command("consistency")
@handled
def log_consistency(
    old_size: Annotated[int, typer.Argument(help="The older head's size.")],
    to: Annotated[int | None, typer.Option(help="The newer head's size (default: now).")] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
    out_file: Out = None,
) -> None:
    """Print the proof that the log of OLD-SIZE entries is a prefix of today's."""
    with opened(db) as services:
        proof, old, new = services.log.consistency(old_size, to)
    value = {**proof.to_json(), "old_head": old.to_json(), "new_head": new.to_json()}
    said = f"the log of {old.size} entries is a prefix of the log of {new.size}: {len(proof.path)} hashes"
    _emit(value, as_json, out_file, said)


@log_app.command("publish")
@handled
def log_publish(
    to: Annotated[str, typer.Option(help="file:PATH: append the head to PATH, for witnesses.")],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Publish a head made now, with the consistency proof from the last one published there."""
    target = FileHeads(to)
    with opened(db) as services:
        published = services.log.publish(target)
    head = published.head
    said = f"published the head of {head.size} entries (root {head.root.hex()}) to {target.path}"
    _emit({"head": head.to_json(), "target": published.target}, as_json, None, said)


@log_app.command("check")
@handled
def log_check(
    proof_file: Annotated[
        Path, typer.Argument(help="A proof from `log prove` or `log consistency`.")
    ],
    head: Annotated[
        Path | None,
        typer.Option(help="The head to check against (one you trust: a published one)."),
    ] = None,
    old_head: Annotated[
        Path | None, typer.Option(help="For a consistency proof: the older head.")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(help="The log's public key in hex: refuse heads signed by another."),
    ] = None,
) -> None:
    """Check a proof offline, from the files alone: no database is opened."""
    proof = _read_json(proof_file)
    trusted = _public_key(key, "--key")
    try:
        if isinstance(proof, dict) and proof.get("type") == "consistency":
            said = _check_consistency(proof, head, old_head, trusted)
        else:
            said = _check_inclusion(proof, head, trusted)
    except ProofError as error:
        stderr_line(f"proof does not hold: {error}")
        raise typer.Exit(1) from None
    out.print(said, highlight=False)


def _check_inclusion(proof: Any, head_file: Path | None, trusted: bytes | None) -> str:
    inclusion = InclusionProof.from_json(proof, "proof")
    if head_file is None:
        stderr_line(
            "note: checking against the head inside the proof file; "
            "a head published elsewhere (--head) proves more"
        )
        head = TreeHead.from_json(proof.get("head"), "proof.head")
    else:
        head = TreeHead.from_json(_read_json(head_file), str(head_file))
    head.check(trusted)
    inclusion.check(head)
    what = f"record {inclusion.ref}" if inclusion.ref else f"{inclusion.kind} {inclusion.digest}"
    return (
        f"verified: {what} is entry {inclusion.index} of the log {head.origin} of {head.size} "
        f"entries, root {head.root.hex()}, signed by {head.key.hex()} at {head.time}"
    )


def _check_consistency(
    proof: dict[str, Any], new_file: Path | None, old_file: Path | None, trusted: bytes | None
) -> str:
    consistency = ConsistencyProof.from_json(proof)
    new = (
        TreeHead.from_json(_read_json(new_file), str(new_file))
        if new_file
        else TreeHead.from_json(proof.get("new_head"), "proof.new_head")
    )
    old = (
        TreeHead.from_json(_read_json(old_file), str(old_file))
        if old_file
        else TreeHead.from_json(proof.get("old_head"), "proof.old_head")
    )
    old.check(trusted)
    new.check(trusted)
    consistency.check(old, new)
    return f"verified: the log of {old.size} entries is a prefix of the log of {new.size}"


@log_app.command("witness")
@handled
def log_witness(
    heads_file: Annotated[Path, typer.Argument(help="A file of heads from `log publish`.")],
    key: Annotated[Path, typer.Option(help="The witness's signing key file (made if missing).")],
    log_key: Annotated[
        str | None,
        typer.Option(
            help="The log's public key in hex (else the one this witness cosigned before)."
        ),
    ] = None,
    cosigned: Annotated[
        Path | None, typer.Option(help="Where cosignatures go (default: HEADS-FILE.cosigned).")
    ] = None,
) -> None:
    """Check each published head against the one before it and cosign the new ones."""
    if not heads_file.is_file():
        raise UsageError(f"no such file: {heads_file}")
    target = cosigned or heads_file.with_name(heads_file.name + ".cosigned")
    private, made = witness_key(key)
    if made:
        stderr_line(f"made a new witness key in {key}")
    published = [_published_line(number, value) for number, value in read_json_lines(heads_file)]
    earlier = (
        [Cosignature.from_json(v, f"{target}, line {n}") for n, v in read_json_lines(target)]
        if target.exists()
        else []
    )
    last = earlier[-1].head if earlier else None
    trusted = _public_key(log_key, "--log-key") or (last.key if last else None)
    if trusted is None and published:
        trusted = published[0][0].key
        stderr_line(
            f"note: trusting the log key on the first head, {trusted.hex()}: pin it with --log-key"
        )
    try:
        fresh = witness_chain(published, trusted or b"", last)
    except ProofError as error:
        stderr_line(f"refused to cosign: {error}")
        raise typer.Exit(1) from None
    with target.open("a", encoding="utf-8") as handle:
        for head in fresh:
            handle.write(json.dumps(cosign(private, head).to_json(), separators=(",", ":")) + "\n")
    out.print(f"cosigned {len(fresh)} new heads into {target}", highlight=False)


def _published_line(number: int, value: Any) -> tuple[TreeHead, ConsistencyProof | None]:
    where = f"line {number}"
    if not isinstance(value, dict):
        raise UsageError(f"{where}: must be a JSON object with 'head' and 'consistency'")
    try:
        head = TreeHead.from_json(value.get("head"), f"{where}: head")
        proof = value.get("consistency")
        return head, ConsistencyProof.from_json(proof, f"{where}: consistency") if proof else None
    except ProofError as error:
        raise UsageError(str(error)) from None


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}: not JSON ({error.msg}, line {error.lineno})") from None


def _public_key(text: str | None, option: str) -> bytes | None:
    if text is None:
        return None
    try:
        found = bytes.fromhex(text)
    except ValueError:
        found = b""
    if len(found) != 32:
        raise UsageError(f"{option} must be an Ed25519 public key: 64 hex characters")
    return found


def register(app: typer.Typer) -> None:
    app.add_typer(log_app, name="log")
