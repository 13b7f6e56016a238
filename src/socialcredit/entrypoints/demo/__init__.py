"""``socialcredit demo``: a synthetic Rongcheng-like town run through the shipped schemes.

Residents, businesses (each with a legal representative) and government
institutions get a year of records drawn from each scheme's own categories,
a few contests, reviews and repairs; the plugins add their pilots (a
Sesame-style scorecard, a bike share); then the demo shows each scheme's grade
distribution, the list counts and a handful of check decisions with their
reasons, and due process at work. Everything goes through the same use cases
as the CLI and the HTTP API.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from socialcredit import bootstrap
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.bootstrap import Services
from socialcredit.entrypoints.demo.audit import fairness_showcase
from socialcredit.entrypoints.demo.showcase import (
    NOTICES_SUFFIX,
    rights_showcase,
    summarise,
    year_of_due_process,
)
from socialcredit.entrypoints.demo.town import YEAR, Town, build_town, generate_records
from socialcredit.errors import UsageError
from socialcredit.hooks import DemoContext, plugin_manager

DEMO_ACTOR = "demo-registry"  # who the demo's enrolments and links are recorded by


@dataclass
class DemoStats:
    records: int = 0
    events: int = 0
    rejected: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def run_demo(
    db: str,
    *,
    people: int,
    businesses: int,
    institutions: int,
    seed: int,
    console: Console,
    as_json: bool = False,
) -> dict[str, Any]:
    started = time.perf_counter()
    rng = random.Random(seed)
    _fresh(db)
    services = bootstrap.open(db, create=True)
    bootstrap.mark_demo(services)
    stats = DemoStats()
    try:
        now = services.clock()
        quiet = as_json
        say = (lambda *a, **k: None) if quiet else console.print
        say(f"[bold]socialcredit demo[/]: a synthetic Rongcheng-like town in {db}")
        added = services.definitions.add_files(shipped_scheme_files())
        say(f"loaded {len(added)} shipped definitions: {', '.join(a.id for a in added)}")
        # The operator turns the fairness audit on before anyone is enrolled, so
        # that every resident's coarse attributes are derived as their ID is read.
        services.fairness.turn_on(actor=DEMO_ACTOR)
        town = build_town(rng, people, businesses, institutions)
        # The town's schemes have run for a year: everyone was enrolled, and it was
        # known, then (an enrolment counts for answers from when it was known).
        with services.clock.held_at(now - YEAR):
            _enrol_everyone(services, town, now - YEAR)
        links = [(b, p, now - YEAR * 3) for b, p in town.representative.items()]
        services.subjects.add_links(links, reporter=DEMO_ACTOR)
        say(
            f"{len(town.people):,} residents, {len(town.businesses):,} businesses with their "
            f"legal representatives, {len(town.institutions):,} institutions"
        )
        schemes = [h.current for h in services.definitions.registry.schemes.values()]
        lines = list(enumerate(generate_records(rng, town, schemes, now), 1))
        stats.timings["import_s"] = _import(services, lines, stats, console, quiet)
        rate = stats.records / max(stats.timings["import_s"], 1e-9)
        say(
            f"imported {stats.records:,} records in {stats.timings['import_s']:.1f} s "
            f"({rate:,.0f}/s), rejected {stats.rejected}"
        )
        reported = [line for _, line in lines]
        stats.events = year_of_due_process(services, rng, reported, now)
        say(f"{stats.events} contests, reviews and repairs recorded")
        t0 = time.perf_counter()
        pilots = _pilots(services, town, rng, now, say)
        stats.timings["pilots_s"] = time.perf_counter() - t0
        # Ask as of now, after every write: links, records and events are all known by then.
        summary = summarise(services, town, services.clock(), console, quiet)
        t0 = time.perf_counter()
        summary["pilots"] = pilots
        summary["due_process"] = rights_showcase(services, reported, summary, db, console, quiet)
        summary["fairness"] = fairness_showcase(services, services.clock(), say)
        stats.timings["due_process_s"] = time.perf_counter() - t0
        stats.timings["total_s"] = time.perf_counter() - started
        summary.update(
            records=stats.records,
            events=stats.events,
            rejected=stats.rejected,
            timings={k: round(v, 2) for k, v in stats.timings.items()},
            db=db,
        )
        _explore(summary, town, db, say)
        if as_json:
            sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return summary
    finally:
        services.close()


def _import(
    services: Services,
    lines: list[tuple[int, dict[str, str]]],
    stats: DemoStats,
    console: Console,
    quiet: bool,
) -> float:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, disable=quiet, transient=True) as progress:
        task = progress.add_task("importing a year of records", total=len(lines))
        t0 = time.perf_counter()
        report = services.imports.import_records(
            lines, progress=lambda n: progress.advance(task, n)
        )
        elapsed = time.perf_counter() - t0
    stats.records, stats.rejected = report.accepted, len(report.rejected)
    return elapsed


def _pilots(
    services: Services, town: Town, rng: random.Random, now: datetime, say: Any
) -> dict[str, Any]:
    """The plugins' demo steps, in their order (the commercial pilots)."""
    context = DemoContext(services, town.people, rng, now, say)
    steps = [step for found in plugin_manager().hook.demo_steps() for step in found or ()]
    return {step.name: step.run(context) for step in sorted(steps, key=lambda s: s.order)}


def _explore(summary: dict[str, Any], town: Town, db: str, say: Any) -> None:
    say(f"\ndone in {summary['timings']['total_s']:.1f} s. Explore it:")
    example = summary["examples"][0]["identifier"] if summary["examples"] else town.people[0]
    command = _command_name()
    hints = (
        f"{command} score {example} --db {db}",
        f"{command} lists --db {db}",
        f"{command} verify --db {db}",
    )
    for hint in hints:
        say(f"  {hint}", highlight=False, markup=False)


def demo_keys(services: Services, summary: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Keys to try the web with: the resident the demo showed denied, a reviewer
    and a reporter of the authority whose measure denied them, and an admin. Each is created
    in the demo ledger, shown once, with the page to open."""
    denied = next((e for e in summary["examples"] if e["decision"]["effect"] == "deny"), None)
    keys: dict[str, tuple[str, str]] = {}
    create = services.keys.create
    if denied is not None:
        keys["subject"] = (
            create("subject", subject=denied["identifier"], actor=DEMO_ACTOR)[1],
            "/me",
        )
        reasons = denied["decision"]["reasons"]
        authority = next((r["authority"] for r in reasons if r["effect"] == "deny"), None)
        if authority is not None:
            keys["reviewer"] = (
                create("reviewer", authority=authority, actor=DEMO_ACTOR)[1],
                "/console",
            )
            keys["reporter"] = (
                create("reporter", authority=authority, actor=DEMO_ACTOR)[1],
                "/console/import",
            )
    keys["admin"] = (create("admin", actor=DEMO_ACTOR)[1], "/console")
    return keys


def command_name() -> str:
    return _command_name()


def _command_name() -> str:
    """How the user can type the CLI from here: plain ``socialcredit`` when it
    is on the PATH, else its path inside the virtual environment."""
    if shutil.which("socialcredit"):
        return "socialcredit"
    installed = Path(sys.executable).parent / "socialcredit"
    try:
        return str(installed.relative_to(Path.cwd()))
    except ValueError:
        return str(installed)


def _fresh(db: str) -> None:
    """Remove an earlier demo database, and refuse to touch anything else."""
    if Path(db).exists() and not bootstrap.is_demo(db):
        raise UsageError(f"refusing to replace {db}: it is not a demo database")
    for suffix in ("", "-wal", "-shm", NOTICES_SUFFIX):
        Path(db + suffix).unlink(missing_ok=True)


def _enrol_everyone(services: Services, town: Town, at: datetime) -> None:
    """Residents, businesses and institutions are enrolled in the city schemes
    that rate them, so someone with no records still has the base score."""
    for history in services.definitions.registry.schemes.values():
        definition = history.current.definition
        if definition.score is None or definition.authority.kind == "commercial":
            continue  # a company's customers sign up themselves (the plugins' demo steps)
        for kind in definition.subjects:
            rows = [services.subjects.identify(subject, kind) for subject in town.of_kind(kind)]
            services.subjects.enrol_many(rows, definition.id, at=at, actor=DEMO_ACTOR)


__all__ = ["build_town", "command_name", "demo_keys", "generate_records", "run_demo"]
