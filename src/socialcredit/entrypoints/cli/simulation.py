"""``socialcredit simulate``: a scheme's population under the version in force
and under a proposed version, as a table, JSON, or a self-contained HTML
report with its charts drawn on the server (SVG, no script, no network)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from jinja2 import Environment, select_autoescape
from rich.table import Table

from socialcredit.domain.schemes.durations import Duration, DurationError
from socialcredit.domain.times import parse_time
from socialcredit.entrypoints.cli.common import (
    DEFAULT_DB,
    Db,
    Json,
    handled,
    moment,
    opened,
    out,
    print_json,
)
from socialcredit.errors import UsageError

MAX_INSTANTS = 240  # twenty years of months

REPORT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Simulation: {{ s.scheme }}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; } th, td { border: 1px solid #d0d5dd; padding: 4px 8px; text-align: right; }
th { background: #f4f6f8; } td.text { text-align: left; } td.same { background: #eef3f8; } .bar { fill: #1d4f91; } .label { font-size: 12px; }
</style></head><body>
<h1>Simulation: {{ s.scheme }}</h1>
<p>At {{ s.at.isoformat() }}, the population under the version in force and under the proposal
<code>{{ source }}</code>, as if the proposal had always been the rule. Nothing was added to the ledger.</p>
<h2>Grade transitions</h2>
<table><caption>Subjects, by grade in force (rows) and proposed (columns)</caption>
<tr><th></th>{% for g in grades %}<th scope="col">{{ g }}</th>{% endfor %}</tr>
{% for before in grades %}<tr><th scope="row">{{ before }}</th>
{% for after in grades %}<td{% if before == after %} class="same"{% endif %}>{{ matrix.get((before, after), 0) }}</td>{% endfor %}</tr>{% endfor %}
</table>
<h2>Grades, in force and proposed</h2>
<svg width="{{ 140 + 2 * width }}" height="{{ 24 * grades | length + 30 }}" role="img" aria-label="Subjects per grade, in force and proposed" xmlns="http://www.w3.org/2000/svg">
{% for g in grades %}{% set y = 24 * loop.index0 + 20 %}
<text x="0" y="{{ y + 12 }}" class="label">{{ g }}</text>
<rect x="40" y="{{ y }}" width="{{ (width * totals_before.get(g, 0) / top) | round(1) }}" height="9" class="bar" opacity="0.5"></rect>
<rect x="40" y="{{ y + 9 }}" width="{{ (width * totals_after.get(g, 0) / top) | round(1) }}" height="9" class="bar"></rect>
<text x="{{ 50 + width }}" y="{{ y + 12 }}" class="label">{{ totals_before.get(g, 0) }} → {{ totals_after.get(g, 0) }}</text>
{% endfor %}
<text x="40" y="12" class="label">light: in force; dark: proposed</text>
</svg>
<h2>List entries</h2>
<table><tr><th>list</th><th>gained</th><th>lost</th></tr>
{% for list_id, gained, lost in s.lists %}<tr><td class="text">{{ list_id }}</td><td>{{ gained }}</td><td>{{ lost }}</td></tr>{% else %}<tr><td colspan="3">no list</td></tr>{% endfor %}
</table>
<h2>What drives the change</h2>
<table><tr><th>category</th><th>subjects whose points changed</th><th>change in points, all subjects</th></tr>
{% for category, changed, points in s.categories if changed %}<tr><td class="text">{{ category }}</td><td>{{ changed }}</td><td>{{ points }}</td></tr>{% else %}<tr><td colspan="3">no category changes anyone's points</td></tr>{% endfor %}
</table>
<p>Categories in which no subject's points change are not shown.</p>
<h2>Consequences</h2>
<table><tr><th>action</th><th>effect</th><th>in force</th><th>proposed</th></tr>
{% for action, sides in s.consequences.items() %}{% for effect in effects(sides) %}
<tr><td class="text">{{ action }}</td><td class="text">{{ effect }}</td><td>{{ sides.get("before", {}).get(effect, 0) }}</td><td>{{ sides.get("after", {}).get(effect, 0) }}</td></tr>
{% endfor %}{% endfor %}
</table>
</body></html>
"""


@handled
def simulate(
    proposal: Annotated[
        Path, typer.Option("--proposal", help="A scheme's proposed version (YAML).")
    ],
    at: Annotated[
        str | None, typer.Option("--at", help="Compare at this UTC time (ISO-8601).")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", help="With --to and --step: the grade distribution over time."),
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="The last instant (ISO-8601).")] = None,
    step: Annotated[str | None, typer.Option("--step", help="e.g. P1M, P7D.")] = None,
    engine: Annotated[str, typer.Option(help="duckdb (embedded) or spark.")] = "duckdb",
    snapshot_dir: Annotated[
        Path | None, typer.Option("--snapshot", help="A snapshot; default a fresh one of --db.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write a self-contained HTML report here.")
    ] = None,
    db: Db = DEFAULT_DB,
    as_json: Json = False,
) -> None:
    """What would change if a scheme's proposed version had always been in force:
    grade transitions, list entries gained and lost, the categories that drive
    the change, and the consequences per action. The proposal is not added."""
    try:
        text = proposal.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--proposal: cannot read {proposal} ({error.strerror})") from None
    if start is not None or end is not None or step is not None:
        instants = _instants(start, end, step)
        with opened(db) as services:
            scheme, now, proposed = services.population.grades_over_time(
                text, str(proposal), instants, engine=engine, snapshot=snapshot_dir
            )
        _print_over_time(scheme, instants, now, proposed, as_json)
        return
    when = moment(at)
    if when is None:
        raise UsageError("--at: give the instant to compare at (or --from, --to and --step)")
    with opened(db) as services:
        found = services.population.simulate(
            text, str(proposal), when, engine=engine, snapshot=snapshot_dir
        )
    if html is not None:
        html.write_text(_report(found, str(proposal)), encoding="utf-8")
    if as_json:
        print_json(_view(found))
        return
    _print(found)
    if html is not None:
        out.print(f"report: {html}", highlight=False)


def _instants(start: str | None, end: str | None, step: str | None) -> list[datetime]:
    """--from, then every --step after it, up to --to."""
    if start is None or end is None or step is None:
        raise UsageError("--from, --to, --step: give all three, e.g. --step P1M")
    first, last = parse_time(start, "--from"), parse_time(end, "--to")
    try:
        every = Duration.parse(step)
    except DurationError as error:
        raise UsageError(f"--step: {error}") from None
    if every.after(first) <= first:
        raise UsageError(f"--step: {step!r} must be longer than nothing")
    if last < first:
        raise UsageError("--to: must not be before --from")
    found: list[datetime] = []
    n = 0
    while (instant := _nth(first, every, n)) <= last:
        if len(found) >= MAX_INSTANTS:
            raise UsageError(f"--step: more than {MAX_INSTANTS} instants from --from to --to")
        found.append(instant)
        n += 1
    return found


def _nth(first: datetime, every: Duration, n: int) -> datetime:
    # Counted from --from each time, so that month ends do not drift (Jan 31, Feb 28, Mar 31).
    return Duration(every.months * n, every.span * n, every.text).after(first)


def _print_over_time(
    scheme: str,
    instants: list[datetime],
    now: list[dict[str, int]],
    proposed: list[dict[str, int]],
    as_json: bool,
) -> None:
    rows: list[dict[str, Any]] = [
        {"at": instant.isoformat(), "in_force": a, "proposed": b}
        for instant, a, b in zip(instants, now, proposed, strict=True)
    ]
    if as_json:
        print_json({"scheme": scheme, "over_time": rows})
        return
    grades = sorted({g for row in rows for side in ("in_force", "proposed") for g in row[side]})
    table = Table("at", *grades, title=f"{scheme}: subjects per grade, in force → proposed")
    for row in rows:
        cells = [f"{row['in_force'].get(g, 0)} → {row['proposed'].get(g, 0)}" for g in grades]
        table.add_row(row["at"], *cells)
    out.print(table)


def _view(found: Any) -> dict[str, Any]:
    return {
        "scheme": found.scheme,
        "at": found.at.isoformat(),
        "transitions": [{"before": b, "after": a, "subjects": n} for b, a, n in found.transitions],
        "lists": [{"list": i, "gained": g, "lost": lost} for i, g, lost in found.lists],
        "categories": [
            {"category": c, "subjects_changed": n, "points_change": p}
            for c, n, p in found.categories
        ],
        "consequences": found.consequences,
    }


def _print(found: Any) -> None:
    moved = sum(n for b, a, n in found.transitions if b != a)
    total = sum(n for _, _, n in found.transitions)
    out.print(f"{found.scheme}: {moved} of {total} subjects change grade", highlight=False)
    table = Table("in force", "proposed", "subjects")
    for before, after, count in found.transitions:
        if before != after:
            table.add_row(before, after, str(count))
    out.print(table)
    for list_id, gained, lost in found.lists:
        out.print(f"list {list_id}: +{gained} −{lost}", highlight=False)
    for category, changed, points in found.categories[:5]:
        if changed:
            out.print(
                f"category {category}: {changed} subjects, {points:+d} points", highlight=False
            )


def _report(found: Any, source: str) -> str:
    seen = {g for b, a, _ in found.transitions for g in (b, a)}
    grades = [g for g in found.grades if g in seen] + (["-"] if "-" in seen else [])
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    for b, a, n in found.transitions:
        before[b] = before.get(b, 0) + n
        after[a] = after.get(a, 0) + n
    environment = Environment(autoescape=select_autoescape(default=True))
    return environment.from_string(REPORT).render(
        s=found,
        source=source,
        grades=grades,
        matrix={(b, a): n for b, a, n in found.transitions},
        totals_before=before,
        totals_after=after,
        top=max([*before.values(), *after.values(), 1]),
        width=300,
        effects=lambda sides: sorted({e for side in sides.values() for e in side}),
    )


def register(app: typer.Typer) -> None:
    app.command()(simulate)


__all__ = ["register"]
