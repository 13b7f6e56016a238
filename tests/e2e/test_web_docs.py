"""docs/web.md lists every page the web serves, and every path it lists is
served: the table cannot drift from the routes."""

from __future__ import annotations

import re
from pathlib import Path

from socialcredit import bootstrap
from socialcredit.entrypoints.api import create_app
from socialcredit.entrypoints.web import is_web_path

DOC = Path(__file__).resolve().parents[2] / "docs" / "web.md"


def _paths(routes: object) -> set[str]:
    found: set[str] = set()
    for route in routes:  # type: ignore[attr-defined]
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found |= _paths(inner.routes)
        elif getattr(route, "methods", None) and is_web_path(route.path):
            found.add(route.path)
    return found


def test_the_pages_table_names_every_route_of_the_web(tmp_path: Path) -> None:
    with bootstrap.open(str(tmp_path / "city.db"), create=True) as services:
        served = _paths(create_app(services).routes)
    rows = re.findall(r"^\| (`/[^|]*`) \|", DOC.read_text("utf-8"), re.M)
    documented = {path for row in rows for path in re.findall(r"`(/[^`]*)`", row)}
    # The four rights over a record are one route, /me/{right}.
    rights = {"/me/contest", "/me/repair", "/me/rectify", "/me/erase"}
    assert rights <= documented
    documented = (documented - rights) | {"/me/{right}"}
    normal = {re.sub(r"\{[^}]+\}", "{}", p) for p in documented}
    assert normal == {re.sub(r"\{[^}]+\}", "{}", p) for p in served}
