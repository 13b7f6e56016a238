"""``socialcredit init`` and ``socialcredit schemes``: the database, and the
scheme and memorandum definitions it holds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from socialcredit.adapters.files.definitions import validate_files
from socialcredit.domain.compliance import (
    PROFILES,
    THIS_PLATFORM,
    Finding,
    Platform,
    has_errors,
    legal_findings,
    lint,
)
from socialcredit.domain.times import iso
from socialcredit.entrypoints.cli.common import (
    CLI_ACTOR,
    DEFAULT_DB,
    At,
    Db,
    Json,
    handled,
    moment,
    opened,
    out,
    print_json,
    stderr_line,
)
from socialcredit.entrypoints.views import definition_summary, definition_view
from socialcredit.errors import DefinitionErrors, UsageError

schemes_app = typer.Typer(help="Add, list, show and lint scheme definitions.", no_args_is_help=True)

Files = Annotated[list[Path], typer.Argument(help="Definition files (YAML).")]
SchemeId = Annotated[str, typer.Argument(metavar="ID")]


@handled
def init(db: Db = DEFAULT_DB) -> None:
    """Create the database (idempotent) and its identifier key beside it."""
    with opened(db, create=True) as services:
        migrated = services.migrated
    if migrated:
        applied = ", ".join(
            str(version) if track == "core" else f"{track} {version}" for track, version in migrated
        )
        out.print(f"{db}: schema migrations applied: {applied}")
    else:
        out.print(f"{db}: the schema is up to date")


@schemes_app.command("add")
@handled
def schemes_add(files: Files, db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """Validate definitions and add them; an existing id gets a new version. All or nothing."""
    with opened(db) as services:
        added = services.definitions.add_files(files)
    if as_json:
        print_json(
            [{"id": a.id, "type": a.type, "version": a.version, "file": a.source} for a in added]
        )
        return
    for item in added:
        out.print(f"added {item.type} [bold]{item.id}[/] version {item.version}  ({item.source})")


@schemes_app.command("lint")
@handled
def schemes_lint(
    files: Files,
    profile: Annotated[
        str | None,
        typer.Option(help="Also check against the law: eu (AI Act, GDPR) or cn (credit repair)."),
    ] = None,
    check_reviewers: Annotated[
        bool,
        typer.Option(
            "--check-reviewers",
            help="Report authorities with no reviewer key in the ledger (for a ledger served "
            "over HTTP; at the command line its operators answer every case).",
        ),
    ] = False,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Validate definitions without adding them, and with --profile lint them.
    Memoranda are checked against the schemes in the same call and, if the
    database exists, those already added. Exits non-zero on any error."""
    if profile is not None and profile not in PROFILES:
        raise UsageError(f"--profile: {profile!r} is not one of {', '.join(PROFILES)}")
    known: dict[str, Any] = {}
    platform = THIS_PLATFORM
    if check_reviewers and not Path(db).exists():
        raise UsageError(f"--check-reviewers: no ledger at {db} to read the keys of")
    if Path(db).exists():
        with opened(db) as services:
            known = dict(services.definitions.registry.current_schemes)
            if check_reviewers:
                platform = Platform(reviewers=services.keys.reviewing_authorities())
    try:
        loaded = validate_files(files, known)
    except DefinitionErrors as failure:
        if profile is None:
            raise
        invalid: list[tuple[str, list[Finding], str | None]] = [
            (e.source, legal_findings((p.path, p.message) for p in e.problems), str(e))
            for e in failure.errors
        ]
        _report_lint(invalid, as_json)
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
        (i.source, lint(i.definition, profile, schemes, platform), None) for i in loaded
    ]
    _report_lint(results, as_json)
    if any(has_errors(found) for _, found, _ in results):
        raise typer.Exit(1)


def _report_lint(results: list[tuple[str, list[Finding], str | None]], as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {
                    "file": source,
                    "invalid": invalid,
                    "findings": [
                        {
                            "severity": f.severity,
                            "rule": f.rule,
                            "provision": f.provision,
                            "path": f.path,
                            "message": f.message,
                            "fix": f.fix,
                        }
                        for f in found
                    ],
                }
                for source, found, invalid in results
            ]
        )
        return
    for source, found, invalid in results:
        if invalid:
            for line in invalid.splitlines():
                stderr_line(f"invalid: {line}")
        for finding in found:
            sys.stdout.write(f"{source}: {finding}\n    fix: {finding.fix} [{finding.rule}]\n")
        if not found and not invalid:
            out.print(f"no findings: {source}")


@schemes_app.command("paperwork")
@handled
def schemes_paperwork(
    scheme_id: SchemeId,
    kind: Annotated[
        str, typer.Option("--kind", help="ropa (GDPR art. 30 record) or dpia (art. 35 draft).")
    ] = "ropa",
    db: Db = DEFAULT_DB,
) -> None:
    """Write a record of processing or a DPIA draft for a scheme, as Markdown."""
    from socialcredit.domain.compliance.paperwork import dpia_draft, record_of_processing

    if kind not in ("ropa", "dpia"):
        raise UsageError(f"--kind: {kind!r} is not one of ropa, dpia")
    with opened(db) as services:
        scheme = services.definitions.scheme(scheme_id)
        memoranda = services.definitions.memoranda()
    write = record_of_processing if kind == "ropa" else dpia_draft
    sys.stdout.write(write(scheme, memoranda))


@schemes_app.command("list")
@handled
def schemes_list(db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """Every scheme and memorandum with its latest version."""
    with opened(db) as services:
        rows = services.definitions.latest()
    if as_json:
        print_json([definition_summary(r) for r in rows])
        return
    table = Table("id", "type", "version", "added", title="Definitions")
    for row in rows:
        table.add_row(row.id, row.type, str(row.version), iso(row.added_at))
    out.print(table)


@schemes_app.command("show")
@handled
def schemes_show(
    scheme_id: SchemeId,
    version: Annotated[
        int | None, typer.Option(help="A given version; default the latest.")
    ] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Print a definition as it was added."""
    with opened(db) as services:
        found = services.definitions.versions(scheme_id)
        row = services.definitions.version(scheme_id, version)
    if as_json:
        print_json(definition_view(row, [r.version for r in found]))
        return
    out.print(f"# {row.id} version {row.version} of {len(found)}, added {iso(row.added_at)}")
    sys.stdout.write(row.text if row.text.endswith("\n") else row.text + "\n")


@schemes_app.command("rescore")
@handled
def schemes_rescore(
    scheme_id: SchemeId,
    version: Annotated[
        int | None, typer.Option(help="Version whose points apply; default the latest.")
    ] = None,
    at: At = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the log.")] = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Count older records with a newer version's points from now (or --at) on. Logged."""
    with opened(db) as services:
        target, when, written = services.definitions.rescore(
            scheme_id, version=version, at=moment(at), actor=CLI_ACTOR, reason=reason
        )
    already = "" if written else " already (nothing written)"
    out.print(
        f"{scheme_id}: records of earlier versions{already} count with version {target}'s points "
        f"from {iso(when)}"
    )


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.add_typer(schemes_app, name="schemes")
