"""``socialcredit demo``: a synthetic Rongcheng-like town run through the shipped schemes.

Residents, businesses (each with a legal representative) and government
institutions get a year of records drawn from each scheme's own categories,
a few contests, reviews and repairs; then the demo shows each scheme's grade
distribution, the list counts and a handful of check decisions with their
reasons. Everything goes through the same application layer as the CLI.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from socialcredit.app import SocialCredit, UsageError, utc_now
from socialcredit.delivery import FileChannel
from socialcredit.demo_pilots import bike_share_pilot, sesame_pilot
from socialcredit.domain.identity import generate_ric, generate_uscc
from socialcredit.domain.ledger.records import EventKind
from socialcredit.domain.schemes.compiled import CompiledScheme
from socialcredit.domain.schemes.models import Category
from socialcredit.errors import RepairRefused, StoreError
from socialcredit.shipped import shipped_scheme_files
from socialcredit.store.sqlite import SQLiteStore
from socialcredit.views import check_view, iso

YEAR = timedelta(days=365)

# Persona mixes: (share of the population, records per year, weights of
# (bonus, minor deduction, general deduction, serious deduction)).
PERSONAS: dict[str, tuple[float, tuple[int, int], tuple[float, float, float, float]]] = {
    "ordinary": (0.645, (0, 3), (0.4, 0.6, 0.0, 0.0)),
    "civic": (0.15, (3, 12), (0.9, 0.1, 0.0, 0.0)),
    "troubled": (0.15, (2, 6), (0.1, 0.4, 0.5, 0.0)),
    "serious": (0.05, (2, 6), (0.1, 0.2, 0.3, 0.4)),
    "dishonest": (0.005, (8, 16), (0.0, 0.1, 0.3, 0.6)),
}
# Actions the examples prefer to show, most telling first.
SHOWCASE_ACTIONS = (
    "travel.air.ticket", "travel.rail.highspeed", "welfare.benefit", "fee.heating",
    "service.hall.queue", "public.disclosure",
)  # fmt: skip
LIST_ONLY_SHARE = {"person": 0.02, "business": 0.05, "institution": 0.04}


@dataclass
class Town:
    people: list[str]
    businesses: list[str]
    institutions: list[str]
    representative: dict[str, str]  # business -> person

    def of_kind(self, kind: str) -> list[str]:
        return {
            "person": self.people,
            "business": self.businesses,
            "institution": self.institutions,
        }[kind]


@dataclass
class DemoStats:
    records: int = 0
    events: int = 0
    rejected: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def build_town(rng: random.Random, people: int, businesses: int, institutions: int) -> Town:
    residents = _unique(lambda: "cn-ric:" + generate_ric(rng), people)
    firms = _unique(lambda: "cn-uscc:" + generate_uscc(rng, first="9"), businesses)
    bodies = _unique(lambda: "cn-uscc:" + generate_uscc(rng, first="1"), institutions)
    representative = {firm: rng.choice(residents) for firm in firms} if residents else {}
    return Town(residents, firms, bodies, representative)


def _unique(make: Any, count: int) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[make()] = None
    return list(seen)


def generate_records(
    rng: random.Random, town: Town, schemes: list[CompiledScheme], now: datetime
) -> Iterator[dict[str, str]]:
    """A year of records for every scheme, drawn from the scheme's own categories."""
    serial = 0
    for scheme in schemes:
        definition = scheme.definition
        if definition.authority.kind == "commercial":
            continue  # the commercial pilots bring their own data (demo_pilots.py)
        pools = _category_pools(list(scheme.categories.values()))
        for kind in definition.subjects:
            for subject in town.of_kind(kind):
                for category in _draw(rng, pools, scored=scheme.scored, kind=kind):
                    serial += 1
                    occurred = now - YEAR * rng.random()
                    reported = min(now, occurred + timedelta(days=7) * rng.random())
                    yield {
                        "id": f"demo-{serial:07d}",
                        "scheme": definition.id,
                        "category": category.code,
                        "subject": subject,
                        "occurred_at": occurred.isoformat(),
                        "reported_at": reported.isoformat(),
                        "reporter": definition.authority.id,
                        "evidence": f"case/{definition.id}/{serial}",
                    }


def _category_pools(categories: list[Category]) -> list[list[Category]]:
    """Bonus, minor, general and serious deductions; list-only schemes use all."""
    bonus = [c for c in categories if c.points > 0]
    minus = {
        s: [c for c in categories if c.points < 0 and c.severity == s]
        for s in ("minor", "general", "serious")
    }
    return [
        bonus,
        minus["minor"],
        minus["general"],
        minus["serious"],
        [c for c in categories if c.points == 0],
    ]


def _draw(
    rng: random.Random, pools: list[list[Category]], *, scored: bool, kind: str
) -> list[Category]:
    if not scored:
        triggers = pools[4]
        return [rng.choice(triggers)] if triggers and rng.random() < LIST_ONLY_SHARE[kind] else []
    roll, persona = rng.random(), "ordinary"
    for name, (share, _, _) in PERSONAS.items():
        if roll < share:
            persona = name
            break
        roll -= share
    _, (low, high), weights = PERSONAS[persona]
    if kind != "person":
        low, high = low + 2, high + 4  # organisations are reported on more often
    drawn = []
    for _ in range(rng.randint(low, high)):
        pool = rng.choices(pools[:4], weights=weights)[0]
        if pool:
            # smaller items are more common than large ones
            drawn.append(rng.choices(pool, weights=[1 / max(1, abs(c.points)) for c in pool])[0])
    return drawn


def run_demo(
    db: str, *, people: int, businesses: int, institutions: int, seed: int,
    console: Console, as_json: bool = False,
) -> dict[str, Any]:  # fmt: skip
    started = time.perf_counter()
    rng = random.Random(seed)
    _fresh(db)
    system = SocialCredit.open(db, create=True)
    system.store.set_meta("demo", "1")
    stats = DemoStats()
    try:
        now = utc_now()
        quiet = as_json
        say = (lambda *a, **k: None) if quiet else console.print
        say(f"[bold]socialcredit demo[/]: a synthetic Rongcheng-like town in {db}")
        added = system.add_definitions(shipped_scheme_files())
        say(f"loaded {len(added)} shipped definitions: {', '.join(a.id for a in added)}")
        town = build_town(rng, people, businesses, institutions)
        _enrol_everyone(system, town, now - YEAR)
        system.add_links(
            [(b, p, now - YEAR * 3) for b, p in town.representative.items()], "demo-registry"
        )
        say(f"{len(town.people):,} residents, {len(town.businesses):,} businesses with their legal "
            f"representatives, {len(town.institutions):,} institutions")  # fmt: skip
        schemes = [h.current for h in system.registry.schemes.values()]
        lines = list(enumerate(generate_records(rng, town, schemes, now), 1))
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=console, disable=quiet, transient=True) as progress:  # fmt: skip
            task = progress.add_task("importing a year of records", total=len(lines))
            t0 = time.perf_counter()
            report = system.import_records(lines, progress=lambda n: progress.advance(task, n))
            stats.timings["import_s"] = time.perf_counter() - t0
        stats.records, stats.rejected = report.accepted, len(report.rejected)
        say(f"imported {report.accepted:,} records in {stats.timings['import_s']:.1f} s "
            f"({report.accepted / max(stats.timings['import_s'], 1e-9):,.0f}/s), rejected {len(report.rejected)}")  # fmt: skip
        stats.events = _due_process(system, rng, [line for _, line in lines], now)
        say(f"{stats.events} contests, reviews and repairs recorded")
        t0 = time.perf_counter()
        pilots = {
            "sesame": sesame_pilot(system, town.people, rng, now, say),
            "bike_share": bike_share_pilot(system, town.people, rng, now, say),
        }
        stats.timings["pilots_s"] = time.perf_counter() - t0
        # Ask as of now, after every write: links, records and events are all known by then.
        summary = _summarise(system, town, utc_now(), console, quiet)
        t0 = time.perf_counter()
        summary["pilots"] = pilots
        summary["due_process"] = _rights_showcase(system, [line for _, line in lines], summary,
                                                  db, console, quiet)  # fmt: skip
        stats.timings["due_process_s"] = time.perf_counter() - t0
        stats.timings["total_s"] = time.perf_counter() - started
        summary.update(records=stats.records, events=stats.events, rejected=stats.rejected,
                       timings={k: round(v, 2) for k, v in stats.timings.items()}, db=db)  # fmt: skip
        say(f"\ndone in {stats.timings['total_s']:.1f} s. Explore it:")
        example = summary["examples"][0]["identifier"] if summary["examples"] else town.people[0]
        command = _command_name()
        for hint in (f"{command} score {example} --db {db}",
                     f"{command} lists --db {db}",
                     f"{command} verify --db {db}"):  # fmt: skip
            say(f"  {hint}", highlight=False, markup=False)
        if as_json:
            sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return summary
    finally:
        system.close()


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
    if Path(db).exists():
        try:
            is_demo = SQLiteStore(db).meta("demo") == "1"
        except StoreError:
            is_demo = False
        if not is_demo:
            raise UsageError(f"refusing to replace {db}: it is not a demo database")
    for suffix in ("", "-wal", "-shm", NOTICES_SUFFIX):
        Path(db + suffix).unlink(missing_ok=True)


def _enrol_everyone(system: SocialCredit, town: Town, at: datetime) -> None:
    """Residents, businesses and institutions are enrolled in the city schemes
    that rate them, so someone with no records still has the base score."""
    for history in system.registry.schemes.values():
        definition = history.current.definition
        if definition.score is None or definition.authority.kind == "commercial":
            continue  # a company's customers sign up themselves (demo_pilots.py)
        for kind in definition.subjects:
            rows = [system.subject_row(subject, kind) for subject in town.of_kind(kind)]
            system.store.enrol_many(rows, definition.id, at, "demo-registry")


def _due_process(
    system: SocialCredit, rng: random.Random, lines: list[dict[str, str]], now: datetime
) -> int:
    """Some subjects contest records; reviewers uphold or overturn; some repair."""
    events = 0
    for line in rng.sample(lines, k=min(len(lines), max(1, len(lines) // 200))):
        contested_at = datetime.fromisoformat(line["reported_at"]) + timedelta(
            days=rng.randint(1, 20)
        )
        if contested_at >= now:
            continue
        system.record_event(
            line["id"], "contested", actor="subject", reason="I was not there", at=contested_at
        )
        events += 1
        decided_at = contested_at + timedelta(days=rng.randint(5, 30))
        if decided_at < now and rng.random() < 0.7:
            outcome: EventKind = "overturned" if rng.random() < 0.4 else "upheld"
            system.record_event(
                line["id"], outcome, actor="reviewer", reason="reviewed the evidence", at=decided_at
            )
            events += 1
    return events


NOTICES_SUFFIX = ".notices.jsonl"


def _rights_showcase(
    system: SocialCredit, lines: list[dict[str, str]], summary: dict[str, Any], db: str,
    console: Console, quiet: bool,
) -> dict[str, Any]:  # fmt: skip
    """Due process, as a subject and a reviewer meet it: a denied check referred
    to a person and overridden, a contest with its deadline, a repair applied
    for too early, and the notices everyone is sent."""
    say = (lambda *a, **k: None) if quiet else console.print
    work = system.casework
    shown: dict[str, Any] = {}
    say("\n[bold]Due process[/] (every step logged, every subject told)")
    denied = next((e for e in summary["examples"] if e["decision"]["effect"] == "deny"), None)
    if denied is not None:
        view = denied["decision"]
        case = work.refer_decision(view["decision_id"], "I must travel to my mother's surgery.",
                                   actor="subject")  # fmt: skip
        reviewer = f"reviewer@{case.authorities[0]}"
        work.decide(case.id, "overridden", "The hospital's letter shows a medical need.",
                    actor=reviewer, effect="allow", until=system.clock() + timedelta(days=7))  # fmt: skip
        again = system.check(denied["identifier"], view["action"], actor="demo",
                             purpose="demonstration").decision  # fmt: skip
        say(f"  {view['subject']} asked a person to review the refusal of {view['action']}; "
            f"{reviewer} overrode it for 7 days: now [bold]{again.effect}[/]", highlight=False)  # fmt: skip
        shown["override"] = {"case": case.id, "action": view["action"], "now": again.effect}
    recent = sorted(lines, key=lambda line: line["reported_at"])[-1]
    contest = work.contest(recent["id"], "I was not there that day.", actor="subject")
    say(f"  record {recent['id']} contested: it stops counting at once; a reviewer must answer "
        f"by {iso(contest.due_at)}", highlight=False)  # fmt: skip
    shown["contest"] = {"case": contest.id, "due_at": iso(contest.due_at)}
    serious = _recent_serious(system, lines)
    if serious is not None:
        try:
            work.apply_for_repair(serious, "I have paid and corrected it.", actor="subject")
        except RepairRefused as refused:
            say(
                f"  repair of {serious} refused for now: possible from {iso(refused.opens_at)} "
                "(serious conduct stays published for at least a year)",
                highlight=False,
            )
            shown["repair_refused_until"] = iso(refused.opens_at)
    built = work.sweep().built
    outbox = db + NOTICES_SUFFIX
    delivered = work.deliver(FileChannel(outbox), limit=1_000_000)
    say(f"  {delivered:,} notices sent to {outbox}: "
        + ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n in sorted(built.items())),
        highlight=False)  # fmt: skip
    shown["notices"] = dict(built)
    return shown


def _recent_serious(system: SocialCredit, lines: list[dict[str, str]]) -> str | None:
    """A serious record of a person's, reported in the last months: too early to repair."""
    for line in sorted(lines, key=lambda line: line["reported_at"], reverse=True):
        history = system.registry.schemes[line["scheme"]]
        category = history.current.categories.get(line["category"])
        if (
            category is not None and category.severity == "serious" and category.points < 0
            and history.current.scored and line["subject"].startswith("cn-ric:")
        ):  # fmt: skip
            return line["id"]
    return None


def _summarise(
    system: SocialCredit, town: Town, now: datetime, console: Console, quiet: bool
) -> dict[str, Any]:
    grades: dict[str, Counter[str]] = {}
    lists: Counter[tuple[str, str, str]] = Counter()
    by_list: dict[tuple[str, str], list[str]] = {}
    by_grade: dict[tuple[str, str], list[str]] = {}
    capped: list[str] = []
    for scheme_id, history in sorted(system.registry.schemes.items()):
        for subject, evaluation in system.evaluate_scheme(scheme_id, now):
            e = evaluation.explanation
            if e.grade is not None:
                grades.setdefault(scheme_id, Counter())[e.grade] += 1
                by_grade.setdefault((scheme_id, e.grade), []).append(subject.key)
                if e.cap is not None and e.band != e.grade:
                    capped.append(subject.key)
            for entry in evaluation.entries:
                lists[(entry.scheme, entry.list, entry.kind)] += 1
                by_list.setdefault((entry.scheme, entry.list), []).append(subject.key)
        order = [g.name for g in history.current.definition.grades]
        if scheme_id in grades and not quiet:
            _grade_table(console, scheme_id, order, grades[scheme_id])
    if not quiet:
        table = Table("scheme", "list", "kind", "entries", title="Red and black lists today")
        for (sid, lid, kind), n in sorted(lists.items()):
            table.add_row(sid, lid, kind, f"{n:,}")
        console.print(table)
    examples = _examples(system, town, now, by_list, by_grade, capped)
    if not quiet:
        console.print("\n[bold]Check decisions[/] (each one logged with its id and reasons)")
        from socialcredit.cli import describe_reason

        for example in examples:
            view = example["decision"]
            factor = f" x{view['factor']:g}" if view["factor"] is not None else ""
            console.print(f"\n[bold]{example['why']}[/]\n  {view['subject']} asks {view['action']}: "
                          f"[bold]{view['effect']}{factor}[/]", highlight=False)  # fmt: skip
            for reason in view["reasons"][:4]:
                console.print("   - " + describe_reason(reason), highlight=False, markup=False)
            if not view["reasons"]:
                console.print("   - no measure applies: the action is not restricted")
    return {
        "grades": {s: dict(c) for s, c in grades.items()},
        "lists": {f"{s}/{lst}": n for (s, lst, _), n in sorted(lists.items())},
        "examples": examples,
    }


def _grade_table(console: Console, scheme_id: str, order: list[str], counts: Counter[str]) -> None:
    total = sum(counts.values())
    table = Table(
        "grade", "subjects", "share", title=f"{scheme_id}: grade distribution", min_width=50
    )
    for grade in order:
        n = counts.get(grade, 0)
        table.add_row(grade, f"{n:,}", f"{100 * n / total:5.1f}%  " + "█" * round(40 * n / total))
    console.print(table)


def _showcase_first(actions: list[str]) -> list[str]:
    rank = {action: n for n, action in enumerate(SHOWCASE_ACTIONS)}
    return sorted(actions, key=lambda a: (rank.get(a, len(rank)), a))


def _examples(
    system: SocialCredit, town: Town, now: datetime,
    by_list: dict[tuple[str, str], list[str]], by_grade: dict[tuple[str, str], list[str]],
    capped: list[str],
) -> list[dict[str, Any]]:  # fmt: skip
    """A handful of decisions that show each mechanism: memorandum, legal
    representative, grade rewards and penalties, and an unrestricted action."""
    key_to_id = {
        system.subject_row(s).key: s for s in [*town.people, *town.businesses, *town.institutions]
    }
    index = system.registry.index
    wanted: list[tuple[str, str | None, str]] = []
    for (scheme, list_id), keys in sorted(by_list.items()):
        persons = [k for k in keys if key_to_id.get(k, "").startswith("cn-ric:")]
        for action in _showcase_first(index.actions):
            sources = [s for s in index.sources(action) if s.scheme == scheme and s.list == list_id]
            if persons and any(s.memorandum for s in sources):
                wanted.append(
                    (
                        f"on {scheme}/{list_id}, restricted through a memorandum",
                        key_to_id[persons[0]],
                        action,
                    )
                )
                break
    defaulting_firms = {
        k for (s, _), keys in by_list.items() if s == "spc-defaulters" for k in keys
    }
    for firm, person in town.representative.items():
        if system.subject_row(firm).key in defaulting_firms:
            wanted.append(
                (
                    "legal representative of a business on the defaulter list",
                    person,
                    "travel.rail.highspeed",
                )
            )
            break
    for grade, label in (("AAA", "a model resident (AAA)"), ("D", "a resident graded D")):
        keys = by_grade.get(("rongcheng-personal", grade), [])
        actions = [a for a in _showcase_first(index.actions) for s in index.sources(a)
                   if s.scheme == "rongcheng-personal" and s.grades and grade in s.grades]  # fmt: skip
        if keys and actions:
            wanted.append((label, key_to_id[keys[0]], actions[0]))
    if capped:
        wanted.append(("grade capped by drunk driving", key_to_id[capped[0]], "public.disclosure"))
    restricted = {k for keys in by_list.values() for k in keys}
    ordinary = next((p for p in town.people if system.subject_row(p).key not in restricted), None)
    wanted.append(("an ordinary resident", ordinary, "travel.rail.highspeed"))
    examples = []
    for why, identifier, action in wanted:
        if identifier is None:
            continue
        result = system.check(identifier, action, at=now, actor="demo", purpose="demonstration")
        examples.append({"why": why, "identifier": identifier,
                         "decision": check_view(result.decision_id, result.subject, result.decision)})  # fmt: skip
    return examples


__all__ = ["build_town", "generate_records", "iso", "run_demo"]
