"""What the demo shows: a few contests, reviews and repairs over the year; each
scheme's grade distribution and list counts; check decisions that show each
mechanism (memorandum, legal representative, grades, caps); and due process
as a subject and a reviewer meet it."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from socialcredit.adapters.delivery import FileChannel
from socialcredit.bootstrap import Services
from socialcredit.domain.ledger.records import EventKind
from socialcredit.domain.times import iso
from socialcredit.entrypoints.demo.town import Town
from socialcredit.entrypoints.views import check_view, describe_reason
from socialcredit.errors import RepairRefused

# Actions the examples prefer to show, most telling first.
SHOWCASE_ACTIONS = (
    "travel.air.ticket",
    "travel.rail.highspeed",
    "welfare.benefit",
    "fee.heating",
    "service.hall.queue",
    "public.disclosure",
)
NOTICES_SUFFIX = ".notices.jsonl"


def year_of_due_process(
    services: Services, rng: random.Random, lines: list[dict[str, str]], now: datetime
) -> int:
    """Some subjects contest records; reviewers uphold or overturn; some repair."""
    events = 0
    for line in rng.sample(lines, k=min(len(lines), max(1, len(lines) // 200))):
        contested_at = datetime.fromisoformat(line["reported_at"]) + timedelta(
            days=rng.randint(1, 20)
        )
        if contested_at >= now:
            continue
        services.records.add_event(
            line["id"], "contested", actor="subject", reason="I was not there", at=contested_at
        )
        events += 1
        decided_at = contested_at + timedelta(days=rng.randint(5, 30))
        if decided_at < now and rng.random() < 0.7:
            outcome: EventKind = "overturned" if rng.random() < 0.4 else "upheld"
            services.records.add_event(
                line["id"], outcome, actor="reviewer", reason="reviewed the evidence", at=decided_at
            )
            events += 1
    return events


def rights_showcase(
    services: Services,
    lines: list[dict[str, str]],
    summary: dict[str, Any],
    db: str,
    console: Console,
    quiet: bool,
) -> dict[str, Any]:
    """Due process, as a subject and a reviewer meet it: a denied check referred
    to a person and overridden, a contest with its deadline, a repair applied
    for too early, and the notices everyone is sent."""
    say = (lambda *a, **k: None) if quiet else console.print
    work = services.casework
    shown: dict[str, Any] = {}
    say("\n[bold]Due process[/] (every step logged, every subject told)")
    denied = next((e for e in summary["examples"] if e["decision"]["effect"] == "deny"), None)
    if denied is not None:
        view = denied["decision"]
        case = work.refer_decision(
            view["decision_id"], "I must travel to my mother's surgery.", actor="subject"
        )
        reviewer = f"reviewer@{case.authorities[0]}"
        work.decide(
            case.id,
            "overridden",
            "The hospital's letter shows a medical need.",
            actor=reviewer,
            effect="allow",
            until=services.clock() + timedelta(days=7),
        )
        again = services.checks.check(
            denied["identifier"], view["action"], actor="demo", purpose="demonstration"
        ).decision
        say(
            f"  {view['subject']} asked a person to review the refusal of {view['action']}; "
            f"{reviewer} overrode it for 7 days: now [bold]{again.effect}[/]",
            highlight=False,
        )
        shown["override"] = {"case": case.id, "action": view["action"], "now": again.effect}
    recent = sorted(lines, key=lambda line: line["reported_at"])[-1]
    contest = work.contest(recent["id"], "I was not there that day.", actor="subject")
    say(
        f"  record {recent['id']} contested: it stops counting at once; a reviewer must answer "
        f"by {iso(contest.due_at)}",
        highlight=False,
    )
    shown["contest"] = {"case": contest.id, "due_at": iso(contest.due_at)}
    serious = _recent_serious(services, lines)
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
    built = services.notices.sweep().built
    outbox = db + NOTICES_SUFFIX
    delivered = services.notices.deliver(FileChannel(outbox), limit=1_000_000)
    say(
        f"  {delivered:,} notices sent to {outbox}: "
        + ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n in sorted(built.items())),
        highlight=False,
    )
    shown["notices"] = dict(built)
    return shown


def _recent_serious(services: Services, lines: list[dict[str, str]]) -> str | None:
    """A serious record of a person's, reported in the last months: too early to repair."""
    for line in sorted(lines, key=lambda line: line["reported_at"], reverse=True):
        history = services.definitions.registry.schemes[line["scheme"]]
        category = history.current.categories.get(line["category"])
        if (
            category is not None
            and category.severity == "serious"
            and category.points < 0
            and history.current.scored
            and line["subject"].startswith("cn-ric:")
        ):
            return line["id"]
    return None


def summarise(
    services: Services, town: Town, now: datetime, console: Console, quiet: bool
) -> dict[str, Any]:
    grades: dict[str, Counter[str]] = {}
    lists: Counter[tuple[str, str, str]] = Counter()
    by_list: dict[tuple[str, str], list[str]] = {}
    by_grade: dict[tuple[str, str], list[str]] = {}
    capped: list[str] = []
    for scheme_id, history in sorted(services.definitions.registry.schemes.items()):
        for subject, evaluation in services.checks.evaluate_scheme(scheme_id, now):
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
    examples = _examples(services, town, now, by_list, by_grade, capped)
    if not quiet:
        console.print("\n[bold]Check decisions[/] (each one logged with its id and reasons)")
        for example in examples:
            view = example["decision"]
            factor = f" x{view['factor']:g}" if view["factor"] is not None else ""
            console.print(
                f"\n[bold]{example['why']}[/]\n  {view['subject']} asks {view['action']}: "
                f"[bold]{view['effect']}{factor}[/]",
                highlight=False,
            )
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
    services: Services,
    town: Town,
    now: datetime,
    by_list: dict[tuple[str, str], list[str]],
    by_grade: dict[tuple[str, str], list[str]],
    capped: list[str],
) -> list[dict[str, Any]]:
    """A handful of decisions that show each mechanism: memorandum, legal
    representative, grade rewards and penalties, and an unrestricted action."""
    key_to_id = {
        services.subjects.identify(s).key: s
        for s in [*town.people, *town.businesses, *town.institutions]
    }
    index = services.definitions.registry.index
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
        if services.subjects.identify(firm).key in defaulting_firms:
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
        actions = [
            a
            for a in _showcase_first(index.actions)
            for s in index.sources(a)
            if s.scheme == "rongcheng-personal" and s.grades and grade in s.grades
        ]
        if keys and actions:
            wanted.append((label, key_to_id[keys[0]], actions[0]))
    if capped:
        wanted.append(("grade capped by drunk driving", key_to_id[capped[0]], "public.disclosure"))
    restricted = {k for keys in by_list.values() for k in keys}
    ordinary = next(
        (p for p in town.people if services.subjects.identify(p).key not in restricted), None
    )
    wanted.append(("an ordinary resident", ordinary, "travel.rail.highspeed"))
    examples = []
    for why, identifier, action in wanted:
        if identifier is None:
            continue
        result = services.checks.check(
            identifier, action, at=now, actor="demo", purpose="demonstration"
        )
        examples.append({"why": why, "identifier": identifier, "decision": check_view(result)})
    return examples


__all__ = [
    "NOTICES_SUFFIX",
    "SHOWCASE_ACTIONS",
    "rights_showcase",
    "summarise",
    "year_of_due_process",
]
