"""``socialcredit score``, ``check``, ``lists``, ``export`` and ``verify``:
what the ledger says, each read logged by the use case that makes it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from socialcredit.domain.times import iso
from socialcredit.entrypoints.cli.common import (
    CLI_ACTOR,
    DEFAULT_DB,
    At,
    Db,
    Json,
    Kind,
    handled,
    moment,
    opened,
    out,
    print_json,
    progress_bar,
    stderr_line,
)
from socialcredit.entrypoints.views import (
    check_view,
    describe_reason,
    export_html,
    export_view,
    listed_view,
    score_view,
)
from socialcredit.errors import UsageError

Identifier = Annotated[str, typer.Argument(help="Identifier, e.g. cn-ric:…")]


@handled
def score(
    subject: Identifier,
    scheme: Annotated[str | None, typer.Option(help="One scheme; default every scheme.")] = None,
    at: At = None,
    kind: Kind = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """A subject's score, grade and every reason behind them."""
    with opened(db) as services:
        row, evaluations = services.checks.scores(
            subject, scheme=scheme, at=moment(at), kind=kind, actor=CLI_ACTOR
        )
    views = [score_view(e, row.masked) for e in evaluations]
    if as_json:
        print_json(views[0] if scheme is not None else views)
        return
    if not views:
        out.print(f"{row.masked} is not enrolled in any scheme")
    for view in views:
        print_score(view)


def print_score(view: dict[str, Any]) -> None:
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
        status = f"excluded: {excluded['reason']}"
        table.add_row(excluded["record"], excluded["category"], "", status)
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
        until = entry["until"] or "the grade changes"
        where = f"{entry['scheme']}/{entry['list']}"
        out.print(f"  on {entry['kind']} list {where} since {entry['since']} until {until}")


@handled
def check(
    subject: Identifier,
    action: Annotated[str, typer.Argument(help="Action, e.g. travel.rail.highspeed")],
    at: At = None,
    kind: Kind = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """Whether a consequence applies to a subject, with every reason. Logged."""
    with opened(db) as services:
        result = services.checks.check(subject, action, at=moment(at), kind=kind, actor=CLI_ACTOR)
        known_action = services.checks.governs(action)
    view = check_view(result)
    if as_json:
        print_json(view)
        return
    print_decision(view)
    if not known_action:
        stderr_line(f"note: no scheme or memorandum has a measure on {action!r}")


def print_decision(view: dict[str, Any]) -> None:
    factor = f" x{view['factor']:g}" if view["factor"] is not None else ""
    out.print(
        f"{view['subject']} {view['action']}: [bold]{view['effect']}{factor}[/]  "
        f"(decision {view['decision_id']})"
    )
    if not view["reasons"]:
        out.print("  no measure applies: the action is not restricted")
    for reason in view["reasons"]:
        out.print("  - " + describe_reason(reason), highlight=False)


@handled
def lists(
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
        raise UsageError(
            f"{which!r}: give SCHEME or SCHEME/LIST, e.g. spc-defaulters/dishonest-defaulters"
        )
    with opened(db) as services:
        entries = services.checks.lists(
            scheme or None, list_id or None, at=moment(at), actor=CLI_ACTOR
        )
    if as_json:
        print_json([listed_view(e) for e in entries])
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
        records = ", ".join(e.entry.records[:3]) + (" …" if len(e.entry.records) > 3 else "")
        until = iso(e.entry.until) or "while graded"
        table.add_row(e.subject, e.kind, iso(e.entry.since), until, records)
    out.print(table)


@handled
def export(
    subject: Identifier,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Also write a readable page here.")
    ] = None,
    kind: Kind = None,
    db: Db = DEFAULT_DB,
) -> None:
    """Everything held about a subject (GDPR art. 15) as JSON, and optionally as a page."""
    with opened(db) as services:
        held = services.export.access_export(subject, kind=kind, actor=CLI_ACTOR)
    if html_file is not None:
        html_file.write_text(export_html(held), encoding="utf-8")
    print_json(export_view(held))


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
    with opened(db) as services:
        integrity = services.integrity
        total = integrity.chained_rows()
        with progress_bar(not as_json and total > 50_000) as progress:
            task = progress.add_task("verifying", total=total)
            found = integrity.check(root, lambda n: progress.advance(task, n))
    problems, current = found.problems, found.root
    if as_json:
        print_json({"rows": total, "root": current, "problems": problems})
    elif not problems:
        out.print(f"ledger intact: {total} rows verified; root {current}")
    for problem in problems if not as_json else []:
        stderr_line(f"tampered: {problem}")
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(score)
    app.command()(check)
    app.command("lists")(lists)
    app.command("export")(export)
    app.command()(verify)
