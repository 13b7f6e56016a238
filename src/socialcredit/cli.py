"""The ``socialcredit`` command line: a thin adapter over :class:`SocialCredit`.

Tables for people, ``--json`` for machines, one clear line on stderr (and a
non-zero exit) for every error.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from socialcredit.app import (
    DEFAULT_DB,
    DefinitionErrors,
    SocialCredit,
    StoreError,
    UnknownName,
    UsageError,
    validate_files,
)
from socialcredit.cli_mobility import mobility_app
from socialcredit.cli_scorecard import scorecard_app
from socialcredit.delivery import channel_for, stored_notice_view
from socialcredit.domain.identity import IdentifierError
from socialcredit.domain.ledger.values import StoredKey
from socialcredit.domain.rights.cases import Case
from socialcredit.domain.schemes.linter import PROFILES, Finding, has_errors, legal_findings, lint
from socialcredit.errors import KeyProblem, RepairRefused
from socialcredit.intake import RecordError, parse_time
from socialcredit.readers import count_lines
from socialcredit.views import (
    check_view,
    definition_summary,
    definition_view,
    entry_view,
    iso,
    latest_definitions,
    score_view,
)

app = typer.Typer(
    help="socialcredit: many schemes, no single score. Every score explained, "
    "every record contestable, every decision logged.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
schemes_app = typer.Typer(help="Add, list, show and lint scheme definitions.", no_args_is_help=True)
records_app = typer.Typer(help="Import reported records.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
cases_app = typer.Typer(help="Contests, repairs and other requests, and their deadlines.",
                        no_args_is_help=True)  # fmt: skip
consent_app = typer.Typer(help="Grant, withdraw and list consent (GDPR art. 7).",
                          no_args_is_help=True)  # fmt: skip
notices_app = typer.Typer(help="Build, deliver and list notices to subjects.", no_args_is_help=True)
retention_app = typer.Typer(help="Erase what is past retention.", no_args_is_help=True)
app.add_typer(cases_app, name="cases")
app.add_typer(consent_app, name="consent")
app.add_typer(notices_app, name="notices")
app.add_typer(retention_app, name="retention")
app.add_typer(schemes_app, name="schemes")
app.add_typer(keys_app, name="keys")
app.add_typer(records_app, name="records")
app.add_typer(scorecard_app, name="scorecard")
app.add_typer(mobility_app, name="mobility")


@app.callback()
def _global_options(
    db: Annotated[
        str | None,
        typer.Option("--db", help="SQLite database file, for every command (or SOCIALCREDIT_DB)."),
    ] = None,
) -> None:
    # Commands read SOCIALCREDIT_DB, so `socialcredit --db x.db score ...` works as well as
    # `socialcredit score ... --db x.db`.
    if db is not None:
        os.environ["SOCIALCREDIT_DB"] = db


out = Console()
err = Console(stderr=True)

Db = Annotated[
    str,
    typer.Option("--db", envvar="SOCIALCREDIT_DB", help="SQLite database file.", show_default=True),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]
At = Annotated[
    str | None, typer.Option("--at", help="Evaluate at this UTC time (ISO-8601); default now.")
]
Kind = Annotated[
    str | None, typer.Option("--kind", help="Subject kind, needed for ext: identifiers.")
]

F = TypeVar("F", bound=Callable[..., Any])


class Failure(Exception):
    """An error already phrased for the user."""


def handled(command: F) -> F:
    """Turn every expected error into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (DefinitionErrors, UsageError, StoreError, UnknownName, RecordError,
                IdentifierError, KeyProblem, Failure) as error:  # fmt: skip
            message = str(error.args[0]) if isinstance(error, UnknownName) else str(error)
            for line in message.splitlines() or ["failed"]:
                _stderr_line(f"error: {line}")
            raise typer.Exit(1) from None
        except OSError as error:
            _stderr_line(f"error: {error.strerror}: {error.filename}")
            raise typer.Exit(1) from None
        except sqlite3.Error as error:  # e.g. locked by another writer for too long
            _stderr_line(f"error: database: {error}")
            raise typer.Exit(1) from None
        except typer.Exit:
            raise  # a deliberate exit status (click's Exit is a RuntimeError)
        except RuntimeError as error:  # e.g. the import worker failed
            _stderr_line(f"error: {error}".splitlines()[0])
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _stderr_line(text: str) -> None:
    """One unwrapped line: scripts and people both read errors line by line."""
    sys.stderr.write(text + "\n")


@contextmanager
def _created(db: str) -> Iterator[SocialCredit]:
    system = SocialCredit.open(db, create=True)
    try:
        yield system
    finally:
        system.close()


@contextmanager
def opened(db: str) -> Iterator[SocialCredit]:
    system = SocialCredit.open(db)
    try:
        yield system
    finally:
        system.close()


def _at(value: str | None, option: str = "--at") -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, option)
    except RecordError as error:
        raise Failure(str(error)) from None


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


# -- init ------------------------------------------------------------------------


@app.command()
@handled
def init(db: Db = DEFAULT_DB) -> None:
    """Create the database (idempotent) and its identifier key beside it."""
    with _created(db) as system:
        migrated = system.migrated
    if migrated:
        out.print(f"{db}: schema migrations applied: {', '.join(map(str, migrated))}")
    else:
        out.print(f"{db}: the schema is up to date")


# -- schemes -----------------------------------------------------------------------


@schemes_app.command("add")
@handled
def schemes_add(
    files: Annotated[list[Path], typer.Argument(help="Definition files (YAML).")],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Validate definitions and add them; an existing id gets a new version. All or nothing."""
    with opened(db) as system:
        added = system.add_definitions(files)
    if as_json:
        _print_json(
            [{"id": a.id, "type": a.type, "version": a.version, "file": a.source} for a in added]
        )
        return
    for item in added:
        out.print(f"added {item.type} [bold]{item.id}[/] version {item.version}  ({item.source})")


@schemes_app.command("lint")
@handled
def schemes_lint(
    files: Annotated[list[Path], typer.Argument(help="Definition files (YAML).")],
    profile: Annotated[
        str | None,
        typer.Option(help="Also check against the law: eu (AI Act, GDPR) or cn (credit repair)."),
    ] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Validate definitions without adding them, and with --profile lint them.
    Memoranda are checked against the schemes in the same call and, if the
    database exists, those already added. Exits non-zero on any error."""
    if profile is not None and profile not in PROFILES:
        raise Failure(f"--profile: {profile!r} is not one of {', '.join(PROFILES)}")
    known: dict[str, Any] = {}
    if Path(db).exists():
        with opened(db) as system:
            known = dict(system.registry.current_schemes)
    try:
        loaded = validate_files(files, known)
    except DefinitionErrors as failure:
        if profile is None:
            raise
        _report_lint([(e.source, legal_findings((p.path, p.message) for p in e.problems), str(e))
                      for e in failure.errors], as_json)  # fmt: skip
        raise typer.Exit(1) from None
    if profile is None:
        for item in loaded:
            out.print(f"ok: {item.source} ({item.definition.type} {item.definition.id})")
        return
    schemes = {
        **known,
        **{i.definition.id: i.definition for i in loaded if i.definition.type == "scheme"},
    }
    results: list[tuple[str, list[Finding], str | None]] = [
        (i.source, lint(i.definition, profile, schemes), None) for i in loaded
    ]
    _report_lint(results, as_json)
    if any(has_errors(found) for _, found, _ in results):
        raise typer.Exit(1)


def _report_lint(results: list[tuple[str, list[Finding], str | None]], as_json: bool) -> None:
    if as_json:
        _print_json([{"file": source, "invalid": invalid,
                      "findings": [{"severity": f.severity, "rule": f.rule, "path": f.path,
                                    "message": f.message} for f in found]}
                     for source, found, invalid in results])  # fmt: skip
        return
    for source, found, invalid in results:
        if invalid:
            for line in invalid.splitlines():
                _stderr_line(f"invalid: {line}")
        for finding in found:
            sys.stdout.write(f"{source}: {finding}\n")
        if not found and not invalid:
            out.print(f"no findings: {source}")


@schemes_app.command("paperwork")
@handled
def schemes_paperwork(
    scheme_id: Annotated[str, typer.Argument(metavar="ID")],
    kind: Annotated[
        str, typer.Option("--kind", help="ropa (GDPR art. 30 record) or dpia (art. 35 draft).")
    ] = "ropa",
    db: Db = DEFAULT_DB,
) -> None:
    """Write a record of processing or a DPIA draft for a scheme, as Markdown."""
    from socialcredit.domain.schemes.paperwork import dpia_draft, record_of_processing

    if kind not in ("ropa", "dpia"):
        raise Failure(f"--kind: {kind!r} is not one of ropa, dpia")
    with opened(db) as system:
        scheme = system.registry.history(scheme_id).current.definition
        memoranda = dict(system.registry.memoranda)
    write = record_of_processing if kind == "ropa" else dpia_draft
    sys.stdout.write(write(scheme, memoranda))


@schemes_app.command("list")
@handled
def schemes_list(db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """Every scheme and memorandum with its latest version."""
    with opened(db) as system:
        rows = latest_definitions(system.store.definitions())
    if as_json:
        _print_json([definition_summary(r) for r in rows])
        return
    table = Table("id", "type", "version", "added", title="Definitions")
    for row in rows:
        table.add_row(row.id, row.type, str(row.version), iso(row.added_at))
    out.print(table)


@schemes_app.command("show")
@handled
def schemes_show(
    scheme_id: Annotated[str, typer.Argument(metavar="ID")],
    version: Annotated[
        int | None, typer.Option(help="A given version; default the latest.")
    ] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Print a definition as it was added."""
    with opened(db) as system:
        found = [r for r in system.store.definitions() if r.id == scheme_id]
    if not found:
        raise Failure(f"no scheme or memorandum {scheme_id!r}")
    chosen = [r for r in found if version is None or r.version == version]
    if not chosen:
        raise Failure(
            f"{scheme_id!r} has versions {', '.join(str(r.version) for r in found)}, not {version}"
        )
    row = chosen[-1]
    if as_json:
        _print_json(definition_view(row, [r.version for r in found]))
        return
    out.print(f"# {row.id} version {row.version} of {len(found)}, added {iso(row.added_at)}")
    sys.stdout.write(row.text if row.text.endswith("\n") else row.text + "\n")


@schemes_app.command("rescore")
@handled
def schemes_rescore(
    scheme_id: Annotated[str, typer.Argument(metavar="ID")],
    version: Annotated[
        int | None, typer.Option(help="Version whose points apply; default the latest.")
    ] = None,
    at: At = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the log.")] = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Count older records with a newer version's points from now (or --at) on. Logged."""
    with opened(db) as system:
        target, moment = system.rescore(scheme_id, version=version, at=_at(at), reason=reason)
    out.print(
        f"{scheme_id}: records of earlier versions count with version {target}'s points from {iso(moment)}"
    )


# -- records ---------------------------------------------------------------------


@records_app.command("import")
@handled
def records_import(
    file: Annotated[Path, typer.Argument(help="CSV or JSON Lines with the record fields.")],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Import records: good lines are kept, each bad one goes to FILE.rejects.jsonl."""
    if not file.is_file():
        raise Failure(f"no such file: {file}")
    rejects_path = Path(f"{file}.rejects.jsonl")
    total = count_lines(file)
    with opened(db) as system, _progress(not as_json and total > 5000) as progress:
        task = progress.add_task("importing", total=total)
        report = system.import_file(file, progress=lambda n: progress.advance(task, n))
    if report.rejected:
        with rejects_path.open("w", encoding="utf-8") as handle:
            for rejection in report.rejected:
                handle.write(json.dumps({"line": rejection.line, "id": rejection.record,
                                         "reason": rejection.reason}, ensure_ascii=False) + "\n")  # fmt: skip
    elif rejects_path.exists():
        rejects_path.unlink()  # a stale file from an earlier run would mislead
    summary = {"accepted": report.accepted, "duplicates": report.duplicates,
               "rejected": len(report.rejected),
               "rejects_file": str(rejects_path) if report.rejected else None}  # fmt: skip
    if as_json:
        _print_json(summary)
        return
    out.print(
        f"accepted {report.accepted}, duplicates {report.duplicates}, rejected {len(report.rejected)}"
    )
    if report.rejected:
        out.print(f"rejected lines and their reasons: {rejects_path}")


def _progress(visible: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not visible,
        transient=True,
    )


# -- subjects --------------------------------------------------------------------


@app.command()
@handled
def enrol(
    subject: Annotated[str, typer.Argument(help="Identifier, e.g. cn-ric:…")],
    scheme: Annotated[str, typer.Argument(help="Scheme id.")],
    kind: Kind = None,
    at: At = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Enrol a subject in a scheme (records also enrol by themselves)."""
    with opened(db) as system:
        row, created = system.enrol(subject, scheme, kind=kind, at=_at(at))
    out.print(f"{row.masked} {'enrolled in' if created else 'was already enrolled in'} {scheme}")


@app.command()
@handled
def link(
    business: Annotated[str, typer.Argument(help="The business's cn-uscc: identifier.")],
    person: Annotated[str, typer.Argument(help="The person's identifier.")],
    since: Annotated[str, typer.Option(help="From when the link holds (ISO-8601).")],
    until: Annotated[str | None, typer.Option(help="Until when (exclusive).")] = None,
    role: Annotated[str, typer.Option(help="The link's role.")] = "legal_representative",
    db: Db = DEFAULT_DB,
) -> None:
    """Record that PERSON is the legal representative of BUSINESS."""
    start = _at(since)
    assert start is not None
    with opened(db) as system:
        system.link(business, person, role=role, since=start, until=_at(until))
    out.print(f"linked: {role}")


@app.command()
@handled
def score(
    subject: Annotated[str, typer.Argument(help="Identifier, e.g. cn-ric:…")],
    scheme: Annotated[str | None, typer.Option(help="One scheme; default every scheme.")] = None,
    at: At = None,
    kind: Kind = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """A subject's score, grade and every reason behind them."""
    with opened(db) as system:
        row, evaluations = system.scores(subject, scheme=scheme, at=_at(at), kind=kind)
    views = [score_view(e, row.masked) for e in evaluations]
    if as_json:
        _print_json(views[0] if scheme is not None else views)
        return
    if not views:
        out.print(f"{row.masked} is not enrolled in any scheme")
    for view in views:
        _print_score(view)


def _print_score(view: dict[str, Any]) -> None:
    if not view["enrolled"]:
        out.print(f"[bold]{view['scheme']}[/]: {view['subject']} is not enrolled")
        return
    headline = f"[bold]{view['scheme']}[/] v{view['version']} at {view['at']}: "
    if view["score"] is None:
        headline += "list-only scheme (no score)"
    else:
        headline += (
            f"score [bold]{view['score']}[/] (base {view['base']}), grade [bold]{view['grade']}[/]"
        )
        if view["cap"]:
            cap = view["cap"]
            headline += f" (band {view['band']}, capped at {cap['grade']} by {cap['record']})"
    out.print(headline)
    table = Table("record", "category", "points", "status", box=None, pad_edge=False)
    for counted in view["counted"]:
        table.add_row(counted["record"], counted["category"], f"{counted['points']:+d}", "counted")
    for excluded in view["excluded"]:
        table.add_row(
            excluded["record"], excluded["category"], "", f"excluded: {excluded['reason']}"
        )
    if view["counted"] or view["excluded"]:
        out.print(table)
    if view["factors"]:  # a scorecard scheme: the score is base + these points
        factors = Table("dimension", "factor", "value", "bin", "points", box=None, pad_edge=False)
        for f in view["factors"]:
            value = "missing" if f["value"] is None else f"{f['value']:g}"
            factors.add_row(f["dimension"], f["factor"], value, f["bin"], f"{f['points']:+d}")
        out.print(factors)
        subtotals = ", ".join(f"{d['dimension']} {d['points']:+d}" for d in view["dimensions"])
        out.print(f"  by dimension: {subtotals}")
    for entry in view["lists"]:
        out.print(f"  on {entry['kind']} list {entry['scheme']}/{entry['list']} "
                  f"since {entry['since']} until {entry['until'] or 'the grade changes'}")  # fmt: skip


@app.command()
@handled
def check(
    subject: Annotated[str, typer.Argument(help="Identifier, e.g. cn-ric:…")],
    action: Annotated[str, typer.Argument(help="Action, e.g. travel.rail.highspeed")],
    at: At = None,
    kind: Kind = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Whether a consequence applies to a subject, with every reason. Logged."""
    with opened(db) as system:
        result = system.check(subject, action, at=_at(at), kind=kind)
        known_action = bool(system.registry.index.sources(action))
    view = check_view(result.decision_id, result.subject, result.decision)
    if as_json:
        _print_json(view)
        return
    _print_decision(view)
    if not known_action:
        _stderr_line(f"note: no scheme or memorandum has a measure on {action!r}")


def _print_decision(view: dict[str, Any]) -> None:
    factor = f" x{view['factor']:g}" if view["factor"] is not None else ""
    out.print(f"{view['subject']} {view['action']}: [bold]{view['effect']}{factor}[/]  "
              f"(decision {view['decision_id']})")  # fmt: skip
    if not view["reasons"]:
        out.print("  no measure applies: the action is not restricted")
    for reason in view["reasons"]:
        out.print("  - " + describe_reason(reason), highlight=False)


def describe_reason(reason: dict[str, Any]) -> str:
    effect = reason["effect"] + (f" x{reason['factor']:g}" if reason["factor"] is not None else "")
    if reason["grade"] and reason["source"] == "grade":
        cause = f"grade {reason['grade']} in {reason['scheme']}"
    else:
        cause = f"{reason['list_kind']} list {reason['scheme']}/{reason['list']} since {reason['since']}"
    if reason["memorandum"]:
        cause += f", via memorandum {reason['memorandum']} (signatory {reason['authority']})"
    if reason["via"]:
        cause += f", as {reason['via']}"
    records = f"; records {', '.join(reason['records'])}" if reason["records"] else ""
    return f"{effect}: {cause}{records}. {reason['rationale']}"


@app.command("lists")
@handled
def lists_command(
    which: Annotated[
        str | None,
        typer.Argument(metavar="[SCHEME/LIST]", help="e.g. spc-defaulters/dishonest-defaulters"),
    ] = None,
    at: At = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Who is on red and black lists: counts per list, or the entries of one list."""
    scheme, slash, list_id = (which or "").partition("/")
    if which is not None and (not scheme or (slash and not list_id)):
        raise Failure(
            f"{which!r}: give SCHEME or SCHEME/LIST, e.g. spc-defaulters/dishonest-defaulters"
        )
    with opened(db) as system:
        entries = system.lists(scheme or None, list_id or None, at=_at(at))
    if as_json:
        _print_json(
            [{"subject": e.subject, "subject_kind": e.kind, **entry_view(e.entry)} for e in entries]
        )
        return
    if not which or not list_id:
        counts = Counter((e.entry.scheme, e.entry.list, e.entry.kind) for e in entries)
        table = Table("scheme", "list", "kind", "entries", title="List entries")
        for (sid, lid, kind), n in sorted(counts.items()):
            table.add_row(sid, lid, kind, str(n))
        out.print(table)
        return
    table = Table("subject", "kind", "since", "until", "records", title=f"{which}")
    for e in entries:
        table.add_row(e.subject, e.kind, iso(e.entry.since), iso(e.entry.until) or "while graded",
                      ", ".join(e.entry.records[:3]) + (" …" if len(e.entry.records) > 3 else ""))  # fmt: skip
    out.print(table)


# -- API keys ----------------------------------------------------------------------


@keys_app.command("create")
@handled
def keys_create(
    role: Annotated[str, typer.Option(help="admin, reporter, checker, reviewer or subject.")],
    authority: Annotated[
        str | None, typer.Option(help="The authority a reporter, checker or reviewer acts for.")
    ] = None,
    subject: Annotated[
        str | None, typer.Option(help="The identifier a subject key belongs to.")
    ] = None,
    kind: Kind = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Create an API key and print it once: only its hash is kept."""
    with opened(db) as system:
        key, token = system.create_key(role, authority=authority, subject=subject, kind=kind)
    if as_json:
        _print_json({**_key_view(key), "key": token})
        return
    out.print(f"created {key.role} key {key.id}" + (f" for {key.authority}" if key.authority else "")
              + (f" for {key.subject_masked}" if key.subject_masked else ""))  # fmt: skip
    out.print("the key, shown this once (send it as 'Authorization: Bearer <key>'):")
    sys.stdout.write(token + "\n")


@keys_app.command("list")
@handled
def keys_list(db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """Every key, without its secret."""
    with opened(db) as system:
        keys = system.store.keys()
    if as_json:
        _print_json([_key_view(key) for key in keys])
        return
    table = Table("id", "role", "authority", "subject", "created", "revoked", title="API keys")
    for key in keys:
        table.add_row(key.id, key.role, key.authority or "", key.subject_masked or "",
                      iso(key.created_at), iso(key.revoked_at) or "")  # fmt: skip
    out.print(table)


@keys_app.command("revoke")
@handled
def keys_revoke(key_id: Annotated[str, typer.Argument(metavar="ID")], db: Db = DEFAULT_DB) -> None:
    """Revoke a key: it stops working at once."""
    with opened(db) as system:
        system.revoke_key(key_id)
    out.print(f"revoked key {key_id}")


def _key_view(key: StoredKey) -> dict[str, Any]:
    return {"id": key.id, "role": key.role, "authority": key.authority,
            "subject": key.subject_masked, "created_at": iso(key.created_at),
            "revoked_at": iso(key.revoked_at)}  # fmt: skip


# -- due process ---------------------------------------------------------------------

Reason = Annotated[str | None, typer.Option("--reason", help="Why, in a sentence.")]
Statement = Annotated[
    str,
    typer.Option("--statement", "--reason", help="What is wrong and why, in your own words."),
]
Evidence = Annotated[
    str | None, typer.Option("--evidence", help="A reference to supporting evidence.")
]
RecordId = Annotated[str, typer.Argument(help="Record id.")]


def _print_case(system: SocialCredit, case: Case, as_json: bool, headline: str = "") -> None:
    view = system.casework.view(case)
    if as_json:
        _print_json(view)
        return
    if headline:
        out.print(headline)
    state = f"decided: {case.outcome}" if case.outcome else f"open, answer due by {view['due_at']}"
    out.print(f"case {case.id} ({case.kind.replace('_', ' ')}) about "
              f"{'record ' + case.record if case.record else 'decision ' + str(case.decision)}: "
              f"{state}")  # fmt: skip
    if case.extended:
        out.print(f"  extended: {case.extended}")
    if case.reason:
        out.print(f"  reason: {case.reason}")
    for key, value in case.details.items():
        out.print(f"  {key}: {value}")


@app.command()
@handled
def contest(
    record: RecordId, statement: Statement, evidence: Evidence = None,
    db: Db = DEFAULT_DB, as_json: Json = False,
) -> None:  # fmt: skip
    """Contest a record: its effect freezes at once until a reviewer decides (one month)."""
    with opened(db) as system:
        case = system.casework.contest(record, statement, evidence=evidence)
        _print_case(system, case, as_json, f"record {record} contested: it no longer counts "
                    "until reviewed")  # fmt: skip


@app.command()
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
        raise Failure("give exactly one of --uphold or --overturn")
    with opened(db) as system:
        decided = system.casework.review(record, uphold=uphold, reason=reason or "")
        if decided is None:  # contested before cases were kept: the record was decided itself
            out.print(f"record {record} {'upheld' if uphold else 'overturned'}")
            return
        _print_case(system, decided, as_json, f"record {record}: {decided.outcome}")


@app.command()
@handled
def repair(
    record: RecordId, statement: Statement, evidence: Evidence = None,
    db: Db = DEFAULT_DB, as_json: Json = False,
) -> None:  # fmt: skip
    """Apply for credit repair of a record, with proof the conduct was corrected.

    Possible once the minimum publication period of the record's severity has
    passed (minor at once, general 3 months, serious 1 year), or earlier where
    the scheme allows early removal. A reviewer approves or denies."""
    with opened(db) as system:
        try:
            case = system.casework.apply_for_repair(record, statement, evidence=evidence)
        except RepairRefused as refused:
            raise Failure(str(refused)) from None
        _print_case(system, case, as_json, f"repair of record {record} applied for")


@app.command()
@handled
def rectify(
    record: RecordId, statement: Statement, evidence: Evidence = None,
    db: Db = DEFAULT_DB, as_json: Json = False,
) -> None:  # fmt: skip
    """Ask for a wrong record to be corrected (GDPR art. 16); a reviewer decides."""
    with opened(db) as system:
        case = system.casework.request_rectification(record, statement, evidence=evidence)
        _print_case(system, case, as_json, f"rectification of record {record} requested")


@app.command()
@handled
def erase(
    record: RecordId, statement: Statement, db: Db = DEFAULT_DB, as_json: Json = False
) -> None:
    """Ask for a record to be erased (GDPR art. 17). Erased at once where the lawful
    basis allows it; otherwise restricted (art. 18) until a reviewer answers."""
    with opened(db) as system:
        done = system.casework.request_erasure(record, statement)
        if as_json:
            _print_json({"record": record, "erased": done.erased, "why": done.why,
                         "case": system.casework.view(done.case) if done.case else None})  # fmt: skip
            return
        out.print(f"record {record} {'erased' if done.erased else 'restricted'}: {done.why}")
        if done.case:
            _print_case(system, done.case, False)


@app.command()
@handled
def refer(
    decision: Annotated[str, typer.Argument(help="Decision id, as `check` printed it.")],
    statement: Statement,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Ask a person to review a denied or adjusted decision (GDPR art. 22)."""
    with opened(db) as system:
        case = system.casework.refer_decision(decision, statement)
        _print_case(system, case, as_json, f"decision {decision} referred for human review")


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
        raise Failure(f"--status: {status!r} is not open, overdue or all")
    with opened(db) as system:
        key = system.subject_row(subject).key if subject else None
        found = system.casework.cases(subject=key, authority=authority,
                                      open_only=status == "open",
                                      overdue_only=status == "overdue")  # fmt: skip
        views = [system.casework.view(case) for case in found]
        if found:  # a reviewer reading statements reads the subjects' data
            system.store.log_accesses(sorted({c.subject for c in found}), system.clock(), "cli",
                                      "case review", f"cases ({status})")  # fmt: skip
    if as_json:
        _print_json(views)
        return
    table = Table("case", "kind", "subject", "about", "opened", "due", "state")
    for v in views:
        state = v["outcome"] or ("OVERDUE" if v["overdue"] else "open")
        table.add_row(v["id"], v["kind"], v["subject"], v["record"] or v["decision"],
                      v["opened_at"], v["due_at"], state)  # fmt: skip
    out.print(table if views else f"no {status} cases")


@cases_app.command("show")
@handled
def cases_show(
    case: Annotated[str, typer.Argument(help="Case id.")], db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:  # fmt: skip
    """One case: its statement, deadline, and outcome."""
    with opened(db) as system:
        found = system.casework.case(case)
        system.store.log_access(found.subject, system.clock(), "cli", "case review", f"case {case}")
        _print_case(system, found, as_json)
        if not as_json:
            out.print(f"  statement: {found.statement}")


@cases_app.command("extend")
@handled
def cases_extend(
    case: Annotated[str, typer.Argument(help="Case id.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why more time is needed (told to the subject).")
    ],
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Extend a case's deadline, once, by two months."""
    with opened(db) as system:
        _print_case(system, system.casework.extend(case, reason), as_json, "deadline extended")


@cases_app.command("decide")
@handled
def cases_decide(
    case: Annotated[str, typer.Argument(help="Case id.")],
    outcome: Annotated[str, typer.Option(help="upheld/overturned, approved/denied, rectified/refused, erased/kept, confirmed/overridden.")],
    reason: Annotated[str, typer.Option("--reason", help="The written reason, told to the subject.")],
    effect: Annotated[str | None, typer.Option(help="Override: the effect checks give instead.")] = None,
    factor: Annotated[float | None, typer.Option(help="Override: the factor, with --effect adjust.")] = None,
    until: Annotated[str | None, typer.Option(help="Override: when it ends (UTC, ISO-8601).")] = None,
    category: Annotated[str | None, typer.Option(help="Rectification: the corrected category.")] = None,
    occurred_at: Annotated[str | None, typer.Option("--occurred-at", help="Rectification: the corrected time.")] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:  # fmt: skip
    """Answer a case with an outcome and a written reason."""
    with opened(db) as system:
        decided = system.casework.decide(
            case, outcome, reason, effect=effect, factor=factor, until=_at(until, "--until"),
            category=category, occurred_at=_at(occurred_at, "--occurred-at"),
        )  # fmt: skip
        _print_case(system, decided, as_json, f"case {case} decided")


def _consent(identifier: str, scheme: str, purpose: str, granted: bool, kind: str | None,
             db: str) -> None:  # fmt: skip
    with opened(db) as system:
        change = system.casework.set_consent(identifier, scheme, purpose, granted, kind=kind)
    state = "granted" if granted else "withdrawn"
    out.print(f"consent to {scheme} for {purpose} {state} at {iso(change.at)}")


Purpose = Annotated[str, typer.Option(help="The purpose consented to.")]
Subject = Annotated[str, typer.Argument(help="Identifier, e.g. cn-ric:…")]
SchemeId = Annotated[str, typer.Argument(help="Scheme id.")]


@consent_app.command("grant")
@handled
def consent_grant(subject: Subject, scheme: SchemeId, purpose: Purpose = "scoring",
                  kind: Kind = None, db: Db = DEFAULT_DB) -> None:  # fmt: skip
    """Grant consent to a scheme for one purpose."""
    _consent(subject, scheme, purpose, True, kind, db)


@consent_app.command("withdraw")
@handled
def consent_withdraw(subject: Subject, scheme: SchemeId, purpose: Purpose = "scoring",
                     kind: Kind = None, db: Db = DEFAULT_DB) -> None:  # fmt: skip
    """Withdraw consent: the scheme's records stop counting at once."""
    _consent(subject, scheme, purpose, False, kind, db)


@consent_app.command("list")
@handled
def consent_list(subject: Subject, kind: Kind = None, db: Db = DEFAULT_DB,
                 as_json: Json = False) -> None:  # fmt: skip
    """Every consent a subject gave, with its periods."""
    with opened(db) as system:
        row = system.subject_row(subject, kind)
        views = system.casework.consents(row)
        system.store.log_access(row.key, system.clock(), "cli", "consent enquiry", "consents")
    if as_json:
        _print_json(views)
        return
    table = Table("scheme", "purpose", "active", "periods")
    for v in views:
        spans = "; ".join(f"{p['from']} – {p['until'] or 'now'}" for p in v["periods"])
        table.add_row(v["scheme"], v["purpose"], "yes" if v["active"] else "no", spans)
    out.print(table if views else "no consents")


@notices_app.command("sweep")
@handled
def notices_sweep(db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """Build the notices the ledger calls for: records reported, adverse decisions,
    lists entered and left. Safe to run again; run it before each delivery."""
    with opened(db) as system:
        built = system.casework.sweep().built
    if as_json:
        _print_json(dict(built))
    else:
        out.print(", ".join(f"{n} {k}" for k, n in sorted(built.items())) or "no new notices")


@notices_app.command("deliver")
@handled
def notices_deliver(
    to: Annotated[
        str, typer.Option("--to", help="console, or file:PATH (JSON Lines).")
    ] = "console",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 10_000,
    db: Db = DEFAULT_DB,
) -> None:
    """Sweep, then hand undelivered notices to a channel, oldest first."""
    try:
        channel = channel_for(to, sys.stdout)
    except ValueError as error:
        raise Failure(str(error)) from None
    with opened(db) as system:
        work = system.casework
        work.sweep()
        count = work.deliver(channel, limit=limit)
    err.print(f"{count} notices delivered to {channel.name}")


@notices_app.command("list")
@handled
def notices_list(subject: Subject, kind: Kind = None, db: Db = DEFAULT_DB,
                 as_json: Json = False) -> None:  # fmt: skip
    """The notices a subject was sent (or is due to be sent)."""
    with opened(db) as system:
        row = system.subject_row(subject, kind)
        stored = system.casework.notices(row)
        system.store.log_access(row.key, system.clock(), "cli", "notice enquiry", "notices")
    views = [stored_notice_view(s) for s in stored]
    if as_json:
        _print_json(views)
        return
    table = Table("at", "kind", "title", "delivered")
    for v in views:
        table.add_row(v["at"], v["kind"], v["title"], v["delivered_at"] or "not yet")
    out.print(table if views else "no notices")


@retention_app.command("run")
@handled
def retention_run(
    apply: Annotated[
        bool, typer.Option("--apply", help="Erase them (default: a dry run).")
    ] = False,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Erase what is past each scheme's retention period; a dry run unless --apply."""
    with opened(db) as system:
        report = system.casework.retention(apply=apply)
    items = [{"record": i.record, "scheme": i.scheme, "subject": i.subject,
              "kept_until": iso(i.kept_until)} for i in report.items]  # fmt: skip
    if as_json:
        _print_json({"applied": report.applied, "by_scheme": report.by_scheme(), "removed": items,
                     "mobility": report.mobility})  # fmt: skip
        return
    verb = "erased" if apply else "would erase (dry run; --apply to erase)"
    out.print(f"{verb}: {len(items)} records")
    for scheme, count in sorted(report.by_scheme().items()):
        out.print(f"  {scheme}: {count}")
    if any(report.mobility.values()):  # bike sharing (docs/mobility.md)
        out.print("  bike sharing: " + ", ".join(f"{n} {what.replace('_', ' ')}"
                                                 for what, n in report.mobility.items()))  # fmt: skip


@app.command()
@handled
def verify(
    root: Annotated[
        str | None,
        typer.Option(help="A root printed by an earlier verify, kept outside this database."),
    ] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Check every hash chain; name each edited, removed or reordered row.

    Prints the ledger root: keep it somewhere else, and a later `verify --root`
    also catches chains rewritten with fresh hashes or cut short."""
    with opened(db) as system:
        total = sum(system.store.counts()[t] for t in ("records", "record_events"))
        with _progress(not as_json and total > 50_000) as progress:
            task = progress.add_task("verifying", total=total)
            problems = [str(p) for p in system.verify(lambda n: progress.advance(task, n))]
        current = system.ledger_root()
    if root is not None and root.strip().lower() != current:
        problems.append(
            f"the ledger root is {current}, not the {root.strip()} recorded earlier: "
            "rows were rewritten or removed since (or rows were added, if the root is old)"
        )
    if as_json:
        _print_json({"rows": total, "root": current, "problems": problems})
    elif not problems:
        out.print(f"ledger intact: {total} rows verified; root {current}")
    for problem in problems if not as_json else []:
        _stderr_line(f"tampered: {problem}")
    if problems:
        raise typer.Exit(1)


@app.command("export")
@handled
def export_command(
    subject: Annotated[str, typer.Argument(help="Identifier, e.g. cn-ric:…")],
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Also write a readable page here.")
    ] = None,
    kind: Kind = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Everything held about a subject (GDPR art. 15) as JSON, and optionally as a page."""
    from socialcredit.export import access_export, export_html

    with opened(db) as system:
        export = access_export(system, subject, kind=kind)
    if html_file is not None:
        html_file.write_text(export_html(export), encoding="utf-8")
    _print_json(export)


@app.command()
@handled
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Db = DEFAULT_DB,
) -> None:
    """Serve the HTTP API (OpenAPI at /openapi.json, interactive docs at /docs)."""
    import uvicorn

    from socialcredit.api import create_app

    system = SocialCredit.open(db)
    try:
        out.print(f"serving {db} on http://{host}:{port} (docs at /docs)")
        uvicorn.run(create_app(system), host=host, port=port, log_level="warning")
    finally:
        system.close()


@app.command()
@handled
def demo(
    db: Annotated[
        str,
        typer.Option("--db", envvar="SOCIALCREDIT_DEMO_DB", help="Where to build the demo town."),
    ] = "socialcredit-demo.db",
    people: Annotated[int, typer.Option(help="Residents.")] = 20_000,
    businesses: Annotated[
        int, typer.Option(help="Businesses (each with a legal representative).")
    ] = 1_000,
    institutions: Annotated[int, typer.Option(help="Government institutions.")] = 50,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
    as_json: Json = False,
) -> None:
    """Build a synthetic Rongcheng-like town with the shipped schemes and show what happens."""
    from socialcredit.demo import run_demo

    run_demo(db, people=people, businesses=businesses, institutions=institutions, seed=seed,
             console=out, as_json=as_json)  # fmt: skip


def main() -> None:
    os.environ.setdefault("COLUMNS", os.environ.get("COLUMNS", "120"))
    app()
