"""The demo's synthetic town: residents, businesses with their legal
representatives, institutions, and a year of records drawn from each scheme's
own categories under a handful of personas (the ordinary, the civic, the
troubled, the serious, the dishonest)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from socialcredit.domain.identity import generate_ric, generate_uscc
from socialcredit.domain.schemes.compiled import CompiledScheme
from socialcredit.domain.schemes.models import Category

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
LIST_ONLY_SHARE = {"person": 0.02, "business": 0.05, "institution": 0.04}

# Where residents were first registered (the GB/T 2260 code their resident ID
# opens with), as shares of the town. AN ASSUMPTION, with no source: most
# registered in Rongcheng, some elsewhere in Weihai, in Shandong and further
# away; Lhasa is there to show a group too small to report. No other draw
# depends on it, nor on the birth date or the sex (docs/population.md).
REGISTRATION: dict[str, float] = {
    "371082": 0.745,  # Rongcheng
    "371002": 0.04,  # Weihai, Huancui district
    "371003": 0.03,  # Weihai, Wendeng district
    "371083": 0.03,  # Rushan
    "370602": 0.03,  # Yantai, Zhifu district
    "370202": 0.02,  # Qingdao, Shinan district
    "370102": 0.02,  # Jinan, Lixia district
    "230102": 0.02,  # Harbin, Daoli district
    "410102": 0.02,  # Zhengzhou, Zhongyuan district
    "220102": 0.02,  # Changchun, Nanguan district
    "110105": 0.02,  # Beijing, Chaoyang district
    "540102": 0.005,  # Lhasa, Chengguan district
}


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


def build_town(rng: random.Random, people: int, businesses: int, institutions: int) -> Town:
    regions, shares = list(REGISTRATION), list(REGISTRATION.values())
    residents = _unique(
        lambda: "cn-ric:" + generate_ric(rng, region=rng.choices(regions, shares)[0]), people
    )
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
            continue  # the commercial pilots bring their own data (their plugins' demo steps)
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


__all__ = ["REGISTRATION", "YEAR", "Town", "build_town", "generate_records"]
