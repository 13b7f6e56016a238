"""Due process on the command line: contests, reviews, credit repair,
rectification, erasure, human review of decisions, cases and their deadlines,
and consent."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from socialcredit.bootstrap import Services
from socialcredit.domain.rights.cases import Case
from socialcredit.domain.times import iso
from socialcredit.entrypoints.cli.common import (
    CLI_ACTOR,
    DEFAULT_DB,
    Db,
    Json,
    Kind,
    handled,
    moment,
    opened,
    out,
    print_json,
)
from socialcredit.entrypoints.views import case_view, consent_view
from socialcredit.errors import UsageError

cases_app = typer.Typer(
    help="Contests, repairs and other requests, and their deadlines.", no_args_is_help=True
)
consent_app = typer.Typer(
    help="Grant, withdraw and list consent (GDPR art. 7).", no_args_is_help=True
)

Reason = Annotated[str | None, typer.Option("--reason", help="Why, in a sentence.")]
Statement = Annotated[
    str,
    typer.Option("--statement", "--reason", help="What is wrong and why, in your own words."),
]
Evidence = Annotated[
    str | None, typer.Option("--evidence", help="A reference to supporting evidence.")
]
RecordId = Annotated[str, typer.Argument(help="Record id.")]
CaseId = Annotated[str, typer.Argument(help="Case id.")]
Subject = Annotated[str, typer.Argument(help="Identifier, e.g. cn-ric:…")]
SchemeId = Annotated[str, typer.Argument(help="Scheme id.")]
Purpose = Annotated[str, typer.Option(help="The purpose consented to.")]


def print_case(services: Services, case: Case, as_json: bool, headline: str = "") -> None:
    view = case_view(services.casework.shown(case))
    if as_json:
        print_json(view)
        return
    if headline:
        out.print(headline)
    state = f"decided: {case.outcome}" if case.outcome else f"open, answer due by {view['due_at']}"
    about = f"record {case.record}" if case.record else f"decision {case.decision}"
    out.print(f"case {case.id} ({case.kind.replace('_', ' ')}) about {about}: {state}")
    if case.extended:
        out.print(f"  extended: {case.extended}")
    if case.reason:
        out.print(f"  reason: {case.reason}")
    for key, value in case.details.items():
        out.print(f"  {key}: {value}")


# -- a subject's requests ------------------------------------------------------------


@handled
def contest(
    record: RecordId,
    statement: Statement,
    evidence: Evidence = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Contest a record: its effect freezes at once until a reviewer decides (one month)."""
    with opened(db) as services:
        case = services.casework.contest(record, statement, evidence=evidence, actor=CLI_ACTOR)
        headline = f"record {record} contested: it no longer counts until reviewed"
        print_case(services, case, as_json, headline)


@handled
def repair(
    record: RecordId,
    statement: Statement,
    evidence: Evidence = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Apply for credit repair of a record, with proof the conduct was corrected.

    Possible once the minimum publication period of the record's severity has
    passed (minor at once, general 3 months, serious 1 year), or earlier where
    the scheme allows early removal. A reviewer approves or denies."""
    with opened(db) as services:
        case = services.casework.apply_for_repair(
            record, statement, evidence=evidence, actor=CLI_ACTOR
        )
        print_case(services, case, as_json, f"repair of record {record} applied for")


@handled
def rectify(
    record: RecordId,
    statement: Statement,
    evidence: Evidence = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Ask for a wrong record to be corrected (GDPR art. 16); a reviewer decides."""
    with opened(db) as services:
        case = services.casework.request_rectification(
            record, statement, evidence=evidence, actor=CLI_ACTOR
        )
        print_case(services, case, as_json, f"rectification of record {record} requested")


@handled
def erase(
    record: RecordId, statement: Statement, db: Db = DEFAULT_DB, as_json: Json = False
) -> None:
    """Ask for a record to be erased (GDPR art. 17). Erased at once where the lawful
    basis allows it; otherwise restricted (art. 18) until a reviewer answers."""
    with opened(db) as services:
        done = services.casework.request_erasure(record, statement, actor=CLI_ACTOR)
        if as_json:
            case = case_view(services.casework.shown(done.case)) if done.case else None
            print_json({"record": record, "erased": done.erased, "why": done.why, "case": case})
            return
        out.print(f"record {record} {'erased' if done.erased else 'restricted'}: {done.why}")
        if done.case:
            print_case(services, done.case, False)


@handled
def refer(
    decision: Annotated[str, typer.Argument(help="Decision id, as `check` printed it.")],
    statement: Statement,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Ask a person to review a denied or adjusted decision (GDPR art. 22)."""
    with opened(db) as services:
        case = services.casework.refer_decision(decision, statement, actor=CLI_ACTOR)
        print_case(services, case, as_json, f"decision {decision} referred for human review")


# -- a reviewer's answers ---------------------------------------------------------------


@handled
def review(
    record: RecordId,
    uphold: Annotated[bool, typer.Option("--uphold", help="The record stands.")] = False,
    overturn: Annotated[bool, typer.Option("--overturn", help="The record is set aside.")] = False,
    reason: Reason = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Decide a contested (or restricted) record: --uphold or --overturn, with --reason."""
    if uphold == overturn:
        raise UsageError("give exactly one of --uphold or --overturn")
    with opened(db) as services:
        decided = services.casework.review(
            record, uphold=uphold, reason=reason or "", actor=CLI_ACTOR
        )
        if decided is None:  # contested before cases were kept: the record was decided itself
            out.print(f"record {record} {'upheld' if uphold else 'overturned'}")
            return
        print_case(services, decided, as_json, f"record {record}: {decided.outcome}")


@cases_app.command("list")
@handled
def cases_list(
    status: Annotated[str, typer.Option(help="open, overdue or all.")] = "open",
    subject: Annotated[str | None, typer.Option(help="Only this subject's cases.")] = None,
    authority: Annotated[
        str | None, typer.Option(help="Only cases this authority's reviewers answer.")
    ] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Cases waiting for an answer (default), overdue ones, or all."""
    if status not in ("open", "overdue", "all"):
        raise UsageError(f"--status: {status!r} is not open, overdue or all")
    with opened(db) as services:
        found = services.casework.cases(
            actor=CLI_ACTOR,
            subject=subject or None,  # an empty --subject lists everyone's, as before
            authority=authority,
            open_only=status == "open",
            overdue_only=status == "overdue",
            status=status,
        )
        views = [case_view(services.casework.shown(case)) for case in found]
    if as_json:
        print_json(views)
        return
    table = Table("case", "kind", "subject", "about", "opened", "due", "state")
    for v in views:
        state = v["outcome"] or ("OVERDUE" if v["overdue"] else "open")
        about = v["record"] or v["decision"]
        table.add_row(v["id"], v["kind"], v["subject"], about, v["opened_at"], v["due_at"], state)
    out.print(table if views else f"no {status} cases")


@cases_app.command("show")
@handled
def cases_show(case: CaseId, db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """One case: its statement, deadline, and outcome."""
    with opened(db) as services:
        found = services.casework.case(case, actor=CLI_ACTOR)
        print_case(services, found, as_json)
        if not as_json:
            out.print(f"  statement: {found.statement}")


@cases_app.command("extend")
@handled
def cases_extend(
    case: CaseId,
    reason: Annotated[
        str, typer.Option("--reason", help="Why more time is needed (told to the subject).")
    ],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Extend a case's deadline, once, by two months."""
    with opened(db) as services:
        extended = services.casework.extend(case, reason, actor=CLI_ACTOR)
        print_case(services, extended, as_json, "deadline extended")


Outcome = Annotated[
    str,
    typer.Option(
        help="upheld/overturned, approved/denied, rectified/refused, erased/kept, "
        "confirmed/overridden."
    ),
]
Written = Annotated[str, typer.Option("--reason", help="The written reason, told to the subject.")]
Effect = Annotated[str | None, typer.Option(help="Override: the effect checks give instead.")]
Factor = Annotated[float | None, typer.Option(help="Override: the factor, with --effect adjust.")]
Until = Annotated[str | None, typer.Option(help="Override: when it ends (UTC, ISO-8601).")]
Category = Annotated[str | None, typer.Option(help="Rectification: the corrected category.")]
OccurredAt = Annotated[
    str | None, typer.Option("--occurred-at", help="Rectification: the corrected time.")
]


@cases_app.command("decide")
@handled
def cases_decide(
    case: CaseId,
    outcome: Outcome,
    reason: Written,
    effect: Effect = None,
    factor: Factor = None,
    until: Until = None,
    category: Category = None,
    occurred_at: OccurredAt = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Answer a case with an outcome and a written reason."""
    with opened(db) as services:
        decided = services.casework.decide(
            case,
            outcome,
            reason,
            actor=CLI_ACTOR,
            effect=effect,
            factor=factor,
            until=moment(until, "--until"),
            category=category,
            occurred_at=moment(occurred_at, "--occurred-at"),
        )
        print_case(services, decided, as_json, f"case {case} decided")


# -- consent ----------------------------------------------------------------------------


def _consent(
    identifier: str, scheme: str, purpose: str, granted: bool, kind: str | None, db: str
) -> None:
    with opened(db) as services:
        done = services.consents.set(
            identifier, scheme, purpose, granted, kind=kind, actor=CLI_ACTOR
        )
    state = "granted" if granted else "withdrawn"
    out.print(f"consent to {scheme} for {purpose} {state} at {iso(done.change.at)}")


@consent_app.command("grant")
@handled
def consent_grant(
    subject: Subject,
    scheme: SchemeId,
    purpose: Purpose = "scoring",
    kind: Kind = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Grant consent to a scheme for one purpose."""
    _consent(subject, scheme, purpose, True, kind, db)


@consent_app.command("withdraw")
@handled
def consent_withdraw(
    subject: Subject,
    scheme: SchemeId,
    purpose: Purpose = "scoring",
    kind: Kind = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Withdraw consent: the scheme's records stop counting at once."""
    _consent(subject, scheme, purpose, False, kind, db)


@consent_app.command("list")
@handled
def consent_list(
    subject: Subject, kind: Kind = None, db: Db = DEFAULT_DB, as_json: Json = False
) -> None:
    """Every consent a subject gave, with its periods."""
    with opened(db) as services:
        found = services.consents.of(subject, kind=kind, actor=CLI_ACTOR, purpose="consent enquiry")
    views = [consent_view(c) for c in found]
    if as_json:
        print_json(views)
        return
    table = Table("scheme", "purpose", "active", "periods")
    for v in views:
        spans = "; ".join(f"{p['from']} – {p['until'] or 'now'}" for p in v["periods"])
        table.add_row(v["scheme"], v["purpose"], "yes" if v["active"] else "no", spans)
    out.print(table if views else "no consents")


def register(app: typer.Typer) -> None:
    for command in (contest, review, repair, rectify, erase, refer):
        app.command()(command)
    app.add_typer(cases_app, name="cases")
    app.add_typer(consent_app, name="consent")
