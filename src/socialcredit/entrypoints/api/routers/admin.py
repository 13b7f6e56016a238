"""What an operator runs: the notice sweep and the retention run."""

# No `from __future__ import annotations`: FastAPI reads these annotations.

from typing import Any

from fastapi import APIRouter

from socialcredit.domain.access import require
from socialcredit.entrypoints.api.deps import Caller, Svc, actor
from socialcredit.entrypoints.views import retention_view

router = APIRouter()


@router.post("/notices/sweep")
async def sweep(who: Caller, services: Svc) -> dict[str, Any]:
    """Build the notices the ledger calls for and the outbox lacks (an admin)."""
    require(who, "admin")
    return {"built": dict(services.notices.sweep().built)}


@router.post("/retention/run")
async def retention(who: Caller, services: Svc, apply: bool = False) -> dict[str, Any]:
    """Records past their scheme's retention period: listed, and with
    ``apply=true`` erased (an admin)."""
    require(who, "admin")
    return retention_view(services.retention.run(apply=apply, actor=actor(who)))
