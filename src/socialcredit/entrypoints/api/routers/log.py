"""The transparency log: its head and consistency proofs for anyone, and a
record's inclusion proof for those who may read the record (and admins)."""

# No `from __future__ import annotations`: FastAPI reads these annotations.

from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.domain.access import may_prove_record
from socialcredit.entrypoints.api.deps import Caller, Id, Svc, actor

router = APIRouter()

Size = Annotated[int | None, Query(ge=0, description="A head of the log's first SIZE entries.")]


@router.get("/log/head")
async def head(services: Svc, size: Size = None) -> dict[str, Any]:
    """A tree head signed now: the log's size and root hash."""
    return services.log.head(size).to_json()


@router.get("/log/proof/{record_id}")
async def proof(record_id: Id, who: Caller, services: Svc, size: Size = None) -> dict[str, Any]:
    """A record's inclusion proof and the head it leads to. Logged."""
    found = services.log.prove_record(
        record_id,
        size=size,
        actor=actor(who),
        authorize=lambda record: may_prove_record(
            who, record.subject, services.definitions.scheme(record.scheme)
        ),
    )
    return {**found.proof.to_json(), "head": found.head.to_json()}


@router.get("/log/consistency")
async def consistency(
    services: Svc,
    old: Annotated[int, Query(ge=0, description="The older head's size.")],
    new: Size = None,
) -> dict[str, Any]:
    """The proof that the log of ``old`` entries is a prefix of the log of ``new`` (now)."""
    found, old_head, new_head = services.log.consistency(old, new)
    return {**found.to_json(), "old_head": old_head.to_json(), "new_head": new_head.to_json()}
