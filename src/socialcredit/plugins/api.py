"""The HTTP API's plumbing, for a plugin's routes: the ledger's services and
the caller's key as dependencies (``Svc``, ``Caller``), the actor the audit
log names, problem documents, and the field types of request models, which
keep the system's text rules."""

from socialcredit.entrypoints.api.deps import (
    Caller,
    Evidence,
    Id,
    Line,
    LineMoment,
    Moment,
    Name,
    Reference,
    Statement,
    Svc,
    actor,
    at,
)
from socialcredit.entrypoints.api.problems import problem

__all__ = [
    "Caller",
    "Evidence",
    "Id",
    "Line",
    "LineMoment",
    "Moment",
    "Name",
    "Reference",
    "Statement",
    "Svc",
    "actor",
    "at",
    "problem",
]
