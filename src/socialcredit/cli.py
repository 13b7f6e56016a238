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
from socialcredit.identity import IdentifierError, KeyProblem
from socialcredit.intake import RecordError, parse_time
from socialcredit.ledger.model import EventKind
from socialcredit.ledger.store import StoredKey
from socialcredit.readers import count_lines
from socialcredit.schemes.linter import PROFILES, Finding, has_errors, legal_findings, lint
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
app.add_typer(schemes_app, name="schemes")
app.add_typer(keys_app, name="keys")
app.add_typer(records_app, name="records")


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


def _at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value, "--at")
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
    from socialcredit.schemes.paperwork import dpia_draft, record_of_processing

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


# -- record events -----------------------------------------------------------------

Reason = Annotated[str | None, typer.Option("--reason", help="Why, in a sentence.")]


def _write_event(
    db: str, record: str, kind: EventKind, reason: str | None, effect: str = ""
) -> None:
    with opened(db) as system:
        event = system.record_event(record, kind, reason=reason)
    out.print(f"record {record} {kind} at {iso(event.at)}" + (f": {effect}" if effect else ""))


@app.command()
@handled
def contest(
    record: Annotated[str, typer.Argument(help="Record id.")],
    reason: Reason = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Contest a record: its effect freezes until a reviewer decides."""
    _write_event(db, record, "contested", reason, "it no longer counts until reviewed")


@app.command()
@handled
def review(
    record: Annotated[str, typer.Argument(help="Record id.")],
    uphold: Annotated[bool, typer.Option("--uphold", help="The record stands.")] = False,
    overturn: Annotated[bool, typer.Option("--overturn", help="The record is set aside.")] = False,
    reason: Reason = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Decide a contested record: --uphold or --overturn."""
    if uphold == overturn:
        raise Failure("give exactly one of --uphold or --overturn")
    _write_event(db, record, "upheld" if uphold else "overturned", reason)


@app.command()
@handled
def repair(
    record: Annotated[str, typer.Argument(help="Record id.")],
    reason: Reason = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Mark a record as repaired: it stops counting and ends the list entries it caused."""
    _write_event(db, record, "repaired", reason, "it stops counting and ends its list entries")


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
