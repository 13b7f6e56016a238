"""The GB/T 2260 administrative division codes that open a resident ID.

The table, with the years each code was in use and the names of provinces and
prefectures, is python-stdnum's ``cn/loc.dat`` (compiled by its maintainers
from the lists Wikipedia keeps of every vintage of GB/T 2260). It is read, not
copied: a new release of stdnum brings new codes with it.

A code is accepted if it was in use in *any* vintage of the table. stdnum's
own check also asks that the code existed in the year of birth; this one does
not, because the code is that of the place of registration when the ID was
issued, so an older person's code may be younger than they are.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

__all__ = ["Region", "RegionTable", "region_table"]

# "[1988-1993]三河县" or "[1984-]太子河区" or "北京市"; several names are comma-separated.
_DATED_NAME = re.compile(r"(?:\[(\d{4})?-(\d{4})?\])?([^,\[]+)")
_LINE = re.compile(r'^(\s*)(\d+) (?:province|county)="([^"]*)"')


@dataclass(frozen=True, slots=True)
class Region:
    """Where a resident ID says its holder was first registered, coarsely:
    the province and the prefecture (the county is not kept)."""

    province: str  # 2 digits
    prefecture: str  # 4 digits
    province_name: str
    prefecture_name: str


@dataclass(frozen=True)
class RegionTable:
    codes: frozenset[str]  # every 6-digit code used in any vintage
    names: dict[str, str]  # 2-, 4- and 6-digit code -> its latest name

    def known(self, code: str) -> bool:
        return code in self.codes

    def region(self, code: str) -> Region:
        """The province and prefecture of a known 6-digit code."""
        province, prefecture = code[:2], code[:4]
        return Region(
            province,
            prefecture,
            self.names.get(province, province),
            self.prefecture_name(prefecture),
        )

    def prefecture_name(self, prefecture: str) -> str:
        name = self.names.get(prefecture + "00")
        if name is None or name in ("市辖区", "县"):
            # A municipality's districts: the municipality itself is the prefecture.
            return self.names.get(prefecture[:2], prefecture)
        return name


def _latest_name(text: str) -> str:
    names = [match.group(3).strip() for match in _DATED_NAME.finditer(text)]
    return names[-1] if names else text


def parse_table(text: str) -> RegionTable:
    """Read stdnum's ``loc.dat``: a province line ``NN province="…"`` and below
    it the indented 4-digit rest of each 6-digit code."""
    codes: set[str] = set()
    names: dict[str, str] = {}
    province = ""
    for line in text.splitlines():
        found = _LINE.match(line)
        if found is None:
            continue
        indent, digits, name = found.groups()
        if not indent:
            province = digits
            names[province] = _latest_name(name)
            continue
        code = province + digits
        codes.add(code)
        names[code] = _latest_name(name)
    return RegionTable(frozenset(codes), names)


# Residence permits for residents of Hong Kong, Macao and Taiwan (issued since
# 2018 under the State Council's 港澳台居民居住证申领发放办法) carry an 18-digit
# number that opens with 810000, 820000 or 830000. stdnum's table has the first
# two as the regions' own codes, not the third.
PERMIT_CODES = {"810000": "香港特别行政区", "820000": "澳门特别行政区", "830000": "台湾省"}


@functools.cache
def region_table() -> RegionTable:
    """The table, read once from the installed python-stdnum, with the
    residence permits' codes."""
    data = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    table = parse_table(data)
    names = {**table.names, **{code: name for code, name in PERMIT_CODES.items()}}
    names.setdefault("83", PERMIT_CODES["830000"])
    return RegionTable(table.codes | PERMIT_CODES.keys(), names)
