"""The coarse attributes a fairness audit groups people by, derived from a
resident ID at intake: the decade of birth, the sex and the prefecture of
first registration (GB 11643-1999 puts all three in the ID).

They are kept apart from everything that scores (an import-linter contract
keeps scoring and sanctions from importing this package), and only while an
operator has the audit turned on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from socialcredit.domain.fairness.figures import SEPARATOR
from socialcredit.domain.identity.identifiers import RIC, Identifier
from socialcredit.domain.identity.regions import region_table

__all__ = [
    "DIMENSIONS",
    "AuditAttributes",
    "audit_attributes",
    "group_label",
    "parse_dimensions",
]


@dataclass(frozen=True, slots=True)
class AuditAttributes:
    subject: str  # the keyed hash
    birth_decade: int  # 1980 for anyone born 1980-1989
    sex: str  # "female" or "male"
    prefecture: str  # GB/T 2260, 4 digits: the province is its first two


def audit_attributes(identifier: Identifier, subject_key: str) -> AuditAttributes | None:
    """What the audit keeps of a person's resident ID; None for any other identifier."""
    if identifier.namespace != RIC:
        return None
    value = identifier.value
    year = int(value[6:10])
    # GB 11643-1999: the 17th digit (the last of the order code) is odd for men.
    sex = "male" if int(value[16]) % 2 else "female"
    return AuditAttributes(subject_key, year - year % 10, sex, value[:4])


# What `--by` may name; "a+b" crosses two of them.
DIMENSIONS = ("sex", "age_band", "region", "province", "registered")


def parse_dimensions(text: str) -> list[tuple[str, ...]]:
    """``sex,age_band,sex+region`` -> [("sex",), ("age_band",), ("sex", "region")]."""
    found: list[tuple[str, ...]] = []
    for part in (p.strip() for p in text.split(",")):
        names = tuple(n.strip() for n in part.split("+"))
        unknown = [n for n in names if n not in DIMENSIONS]
        if not part or unknown:
            shown = unknown[0] if unknown else part
            raise ValueError(f"{shown!r} is not one of {', '.join(DIMENSIONS)} (or a+b)")
        if names not in found:
            found.append(names)
    return found


def group_label(
    attributes: AuditAttributes, dimension: tuple[str, ...], at: datetime, home: str
) -> str:
    """The group one person falls in, for one dimension, at ``at``."""
    return SEPARATOR.join(_one(attributes, name, at, home) for name in dimension)


def _one(attributes: AuditAttributes, name: str, at: datetime, home: str) -> str:
    if name == "sex":
        return attributes.sex
    if name == "age_band":
        decade = attributes.birth_decade
        # Born in the decade: the youngest turns (at.year - decade - 9) this year.
        youngest, oldest = max(0, at.year - decade - 10), at.year - decade
        return f"born {decade}s (aged {youngest}-{oldest})"
    table = region_table()
    prefecture = attributes.prefecture
    if name == "province":
        return f"{prefecture[:2]} {table.names.get(prefecture[:2], '')}".strip()
    if name == "region":
        province, city = table.names.get(prefecture[:2], ""), table.prefecture_name(prefecture)
        return f"{prefecture} {province}" if city == province else f"{prefecture} {province} {city}"
    return "registered here" if prefecture.startswith(home) else "registered elsewhere"
