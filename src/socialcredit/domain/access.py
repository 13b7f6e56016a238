"""Who may do what: API keys' principals and the rules of the five roles.

Pure functions over values; the HTTP service will call them, and the CLI
already manages the keys. A refusal is an :class:`AccessDenied` whose text
says, in plain words, which rule the key breaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from socialcredit.domain.schemes.compiled import MeasureIndex
from socialcredit.domain.schemes.models import Scheme
from socialcredit.errors import Forbidden

Role = Literal["admin", "reporter", "checker", "reviewer", "subject"]
ROLES: tuple[Role, ...] = get_args(Role)
# Roles that act for an authority, and so must name one.
AUTHORITY_ROLES: frozenset[str] = frozenset({"reporter", "checker", "reviewer"})


@dataclass(frozen=True, slots=True)
class Principal:
    """The holder of an API key, as far as the rules are concerned."""

    key_id: str
    role: Role
    authority: str | None = None
    subject: str | None = None  # keyed hash of the subject a `subject` key belongs to


class AccessDenied(Forbidden):
    """The key is valid but may not do this (HTTP 403)."""


def require(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        allowed = " or ".join(roles)
        raise AccessDenied(f"a {principal.role} key may not do this; it needs a {allowed} key")


def may_report(principal: Principal, scheme: Scheme) -> None:
    """A reporter writes only to the schemes of its own authority."""
    _own_scheme(principal, "reporter", scheme, "report to")


def may_review(principal: Principal, scheme: Scheme) -> None:
    """A reviewer decides contests for its own authority's schemes only."""
    _own_scheme(principal, "reviewer", scheme, "review records of")


def _own_scheme(principal: Principal, role: Role, scheme: Scheme, doing: str) -> None:
    require(principal, role)
    if scheme.authority.id != principal.authority:
        raise AccessDenied(
            f"a {role} of {principal.authority!r} may not {doing} {scheme.id!r}, "
            f"which {scheme.authority.id!r} runs"
        )


def may_check(principal: Principal, action: str, index: MeasureIndex) -> None:
    """A checker may ask only about actions its own authority's measures, or
    measures it signed up to in a memorandum, govern: a rail company may ask
    about rail tickets, not about welfare."""
    require(principal, "checker")
    governing = {source.authority for source in index.sources(action)}
    if principal.authority not in governing:
        raise AccessDenied(
            f"a checker of {principal.authority!r} may not check {action!r}: "
            "no measure of its own governs that action"
        )


def may_read_subject(principal: Principal, subject: str, *, also: tuple[Role, ...] = ()) -> None:
    """A subject sees only its own data; ``also`` names roles that may read anyone's."""
    if principal.role in also:
        return
    require(principal, "subject", *also)
    if principal.subject != subject:
        raise AccessDenied("a subject key may read only its own subject's data")


def may_act_for(principal: Principal, subject: str) -> None:
    """Only the subject's own key may ask on the subject's behalf."""
    require(principal, "subject")
    if principal.subject != subject:
        raise AccessDenied("a subject key may act only for its own subject")


def may_read_record(principal: Principal, record_subject: str, scheme: Scheme) -> None:
    """A record is read by its subject, and by reporters and reviewers of its scheme."""
    if principal.role == "subject" and principal.subject == record_subject:
        return
    if principal.role in ("reporter", "reviewer") and principal.authority == scheme.authority.id:
        return
    raise AccessDenied(
        "only the record's subject, and reporters and reviewers of its scheme, may read it"
    )


def may_prove_record(principal: Principal, record_subject: str, scheme: Scheme) -> None:
    """A record's inclusion proof: for whoever may read the record, and for
    admins auditing the log (a proof holds hashes, not the record)."""
    if principal.role == "admin":
        return
    may_read_record(principal, record_subject, scheme)


def may_read_case(principal: Principal, subject: str, authorities: Sequence[str]) -> None:
    """A case is read by its subject, reviewers of the authorities that answer it, and admins."""
    if principal.role == "admin" or (principal.role == "subject" and principal.subject == subject):
        return
    if principal.role == "reviewer" and principal.authority in authorities:
        return
    raise AccessDenied(
        "only the case's subject, reviewers of the authorities that answer it, and admins may "
        "read it"
    )


def may_answer(principal: Principal, case_id: str, authorities: Sequence[str]) -> None:
    """A case is answered by a reviewer of one of the authorities it names."""
    require(principal, "reviewer")
    if principal.authority not in authorities:
        raise AccessDenied(
            f"a reviewer of {principal.authority!r} may not answer case {case_id}: reviewers of "
            f"{', '.join(authorities) or 'no authority'} answer it"
        )
