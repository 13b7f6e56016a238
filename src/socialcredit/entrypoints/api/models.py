"""The request bodies of the HTTP API, and the response model of a check
(documented in the OpenAPI schema)."""

# No `from __future__ import annotations`: pydantic and FastAPI read these annotations.

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from socialcredit.domain.text import MAX_NAME_LENGTH
from socialcredit.entrypoints.api.deps import Evidence, Moment, Name, Statement

Effect = Literal["deny", "adjust", "publish", "priority", "allow"]
# Every outcome of every kind of case (domain.rights.cases.OUTCOMES); which fit a
# case depends on its kind, and a wrong one is refused naming those that fit.
Outcome = Literal[
    "upheld",
    "overturned",
    "approved",
    "denied",
    "rectified",
    "refused",
    "erased",
    "kept",
    "confirmed",
    "overridden",
]


class ReasonView(BaseModel):
    effect: str
    factor: float | None
    source: str
    scheme: str
    authority: str
    context: str
    rationale: str
    grade: str | None
    list_id: str | None = Field(alias="list")
    list_kind: str | None
    since: str | None
    until: str | None
    memorandum: str | None
    records: tuple[str, ...]
    via: str | None


class CheckView(BaseModel):
    """A check decision, as `socialcredit check --json` prints it."""

    decision_id: str
    subject: str
    action: str
    at: str
    effect: Effect
    factor: float | None
    reasons: list[ReasonView]


class Application(BaseModel):
    """A subject's request about a record: a contest, repair or rectification."""

    statement: Statement
    evidence: Evidence | None = None


class Plea(BaseModel):
    """A subject's request with a statement only: erasure, or review of a decision."""

    statement: Statement


class Review(BaseModel):
    outcome: Literal["uphold", "overturn"]
    reason: Statement


class Extension(BaseModel):
    reason: Statement


class CaseDecision(BaseModel):
    """A reviewer's answer. ``effect``, ``factor`` and ``until`` belong to an
    overridden decision review; ``category`` and ``occurred_at`` to a rectified
    record (the corrected record that replaces it)."""

    outcome: Outcome
    reason: Statement
    effect: Effect | None = None
    factor: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    until: Moment | None = None
    category: Name | None = None
    occurred_at: Moment | None = None


class ConsentGrant(BaseModel):
    scheme: Name
    purpose: Name = "scoring"


class Enrolment(BaseModel):
    scheme: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    kind: Literal["person", "business", "institution"] | None = None
