"""Every role against every protected endpoint: who may, and who is refused with which status."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import NEIGHBOUR, RESIDENT, Service, record

ROLES = [
    "admin",
    "court",
    "city",
    "rail",
    "city-reviewer",
    "court-reviewer",
    "resident",
    "neighbour",
]
SCHEME_TEXT = (
    "type: scheme\nid: matrix-{n}\ntitle: M\nauthority: {{id: m, name: M}}\ncontext: civic\n"
    "lawful_basis: public_task\nsubjects: [person]\nretention: P1Y\n"
)

# (name, method, path, body, roles that may call it)
ENDPOINTS: list[tuple[str, str, str, Any, set[str]]] = [
    ("add scheme", "POST", "/schemes", "scheme", {"admin"}),
    ("report", "POST", "/records", "record", {"city"}),
    ("read record", "GET", "/records/matrix-base", None, {"city", "city-reviewer", "resident"}),
    ("contest", "POST", "/records/matrix-contest-{role}/contest", {}, {"resident"}),
    ("review", "POST", "/records/matrix-review/review", {"outcome": "uphold"}, {"city-reviewer"}),
    ("enrol", "POST", f"/subjects/{NEIGHBOUR}/enrol", {"scheme": "rongcheng-personal"}, {"city"}),
    (
        "scores",
        "GET",
        f"/subjects/{RESIDENT}/scores",
        None,
        {"admin", "city-reviewer", "court-reviewer", "resident"},
    ),
    ("check", "GET", f"/subjects/{RESIDENT}/check?action=travel.rail.highspeed", None, {"rail"}),
    ("decisions", "GET", f"/subjects/{RESIDENT}/decisions", None, {"resident"}),
    ("access log", "GET", f"/subjects/{RESIDENT}/access-log", None, {"resident"}),
    ("export", "GET", f"/subjects/{RESIDENT}/export", None, {"resident"}),
]


@pytest.fixture(scope="module")
def seeded(service: Service) -> Service:
    with service.client("city") as http:
        lines = [
            record("matrix-base", RESIDENT, "traffic-violation", 9),
            record("matrix-review", RESIDENT, "traffic-violation", 8),
        ]
        lines += [
            record(f"matrix-contest-{role}", RESIDENT, "traffic-violation", 7) for role in ROLES
        ]
        assert all(r["status"] == 201 for r in http.post("/records", json=lines).json()["results"])
    with service.client("resident") as http:
        assert http.post("/records/matrix-review/contest", json={}).status_code == 200
    return service


def _call(service: Service, who: str | None, method: str, path: str, body: Any, n: int) -> int:
    path = path.format(role=who)
    if body == "scheme":
        body = SCHEME_TEXT.format(n=n)
    elif body == "record":
        body = record(f"matrix-report-{n}", NEIGHBOUR, "volunteering-8h", 1)
    with service.client(who) as http:
        if method == "GET":
            return http.get(path).status_code
        if isinstance(body, str):
            return http.post(path, content=body).status_code
        return http.post(path, json=body).status_code


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "allowed"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_each_role_is_allowed_or_refused_with_a_plain_reason(
    seeded: Service, name: str, method: str, path: str, body: Any, allowed: set[str]
) -> None:
    seen = {}
    for n, who in enumerate([None, "revoked", *ROLES]):
        seen[who] = _call(seeded, who, method, path, body, n)
    assert seen[None] == 401 and seen["revoked"] == 401
    refused = {who for who, status in seen.items() if status == 403}
    passed = {who for who, status in seen.items() if status < 400}
    assert passed == allowed, seen
    assert refused == set(ROLES) - allowed, seen
