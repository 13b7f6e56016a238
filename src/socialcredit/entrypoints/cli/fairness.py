"""``socialcredit audit``: turn the fairness audit on or off, and report who a
scheme's bottom grades and black lists fall on."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from socialcredit.domain.fairness import Interval
from socialcredit.entrypoints.cli.common import (
    CLI_ACTOR,
    DEFAULT_DB,
    Db,
    Json,
    handled,
    moment,
    opened,
    out,
    print_json,
)
from socialcredit.entrypoints.cli.population import Engine, SnapshotDir
from socialcredit.entrypoints.views import fairness_view
from socialcredit.services.fairness import FairnessReport

audit_app = typer.Typer(
    help="The fairness audit: who grades and lists fall on, by age, sex and region.",
    no_args_is_help=True,
)


@audit_app.command("on")
@handled
def turn_on(db: Db = DEFAULT_DB) -> None:
    """Derive, from now on, the coarse attributes the audit groups people by
    (decade of birth, sex, prefecture of registration) from each resident ID
    read by an import, an enrolment or a link. People already held get theirs
    when their ID is next read."""
    with opened(db) as services:
        changed = services.fairness.turn_on(actor=CLI_ACTOR)
    out.print("the fairness audit is on" + ("" if changed else " (it was already)"))


@audit_app.command("off")
@handled
def turn_off(db: Db = DEFAULT_DB) -> None:
    """Stop deriving attributes, and delete every one kept."""
    with opened(db) as services:
        deleted = services.fairness.turn_off()
    out.print(f"the fairness audit is off; the attributes of {deleted} people were deleted")


@audit_app.command("status")
@handled
def status(db: Db = DEFAULT_DB, as_json: Json = False) -> None:
    """Whether the audit is on, since when, and how many people's attributes it holds."""
    with opened(db) as services:
        since, people = services.fairness.status()
    if as_json:
        print_json({"on": since is not None, "since": since, "people": people})
        return
    out.print(f"on since {since}; attributes of {people} people" if since else "off")


@audit_app.command("fairness")
@handled
def fairness(
    scheme: Annotated[str, typer.Argument(help="The scheme to audit, e.g. rongcheng-personal.")],
    at: Annotated[str, typer.Option("--at", help="Audit at this UTC time (ISO-8601).")],
    by: Annotated[
        str,
        typer.Option(
            help="Dimensions, comma-separated: sex, age_band, region, province, "
            "registered; a+b crosses two."
        ),
    ] = "sex,age_band,region",
    home: Annotated[
        str | None,
        typer.Option(
            help="The GB/T 2260 prefix 'registered here' means (default: the most "
            "common prefecture)."
        ),
    ] = None,
    bottom: Annotated[
        str | None,
        typer.Option(
            help="The bottom grades, comma-separated (default: the grades a measure "
            "acts on against the subject)."
        ),
    ] = None,
    k: Annotated[int, typer.Option(help="Suppress groups smaller than this.")] = 20,
    engine: Engine = "duckdb",
    snapshot_dir: SnapshotDir = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """For each group: its size, its grades, its share in the bottom grades and
    on each black list, its mean score, and the disparate-impact ratio of its
    favourable outcome (in no bottom grade, on no black list) against the most
    favoured group, flagged below 0.8. Shares carry 95 % intervals; groups
    under k are suppressed."""
    when = moment(at)
    assert when is not None
    grades = [g.strip() for g in bottom.split(",")] if bottom is not None else None
    with opened(db) as services:
        report = services.fairness.audit(
            scheme, when, by, home=home, bottom=grades, k=k, engine=engine, snapshot=snapshot_dir
        )
    if as_json:
        print_json(fairness_view(report))
        return
    _print(report)


def _share(value: float | None, interval: Interval | None) -> str:
    if value is None:
        return "-"
    shown = f"{value:.1%}"
    return f"{shown} ({interval.low:.1%}-{interval.high:.1%})" if interval else shown


def _print(report: FairnessReport) -> None:
    out.print(
        f"[bold]{report.scheme}[/] at {report.at.isoformat()}: {report.subjects} subjects "
        f"enrolled, {report.with_attributes} with audit attributes; bottom grades: "
        f"{', '.join(report.bottom_grades) or 'none'}; black lists: "
        f"{', '.join(report.black_lists) or 'none'}; groups under {report.k} suppressed",
        highlight=False,
    )
    for found in report.dimensions:
        table = Table(
            "group",
            "n",
            "bottom (95% CI)",
            *report.black_lists,
            "mean score",
            "impact ratio (95% CI)",
            title=f"by {found.dimension}",
            title_justify="left",
        )
        for group in found.groups:
            if group.suppressed:
                table.add_row(group.group, f"<{report.k}", "suppressed")
                continue
            lists = [
                _share(*group.list_shares.get(name, (0.0, None))) for name in report.black_lists
            ]
            mean = f"{group.mean_score:.1f}" if group.mean_score is not None else "-"
            ratio = "-" if group.impact_ratio is None else f"{group.impact_ratio:.3f}"
            if group.impact_interval:
                ratio += f" ({group.impact_interval.low:.2f}-{group.impact_interval.high:.2f})"
            if group.most_favoured:
                ratio += " most favoured"
            if group.flagged:
                ratio = f"[red]{ratio} below 4/5[/]"
            table.add_row(
                group.group,
                str(group.subjects),
                _share(group.bottom_share, group.bottom_interval),
                *lists,
                mean,
                ratio,
            )
        out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


__all__ = ["register"]
