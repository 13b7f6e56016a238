"""Every role against every protected endpoint: who may, and who is refused with which status."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import CONSENT_SCHEME, NEIGHBOUR, RESIDENT, Service, record

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

STATEMENT = {"statement": "This record is wrong."}
CASE_LISTERS = {"admin", "city-reviewer", "court-reviewer", "resident", "neighbour"}
# Records each role gets its own copy of, so that the allowed one finds it fresh.
PER_ROLE = {
    "contest": "traffic-violation",
    "repair": "illegal-dumping",
    "rectify": "traffic-violation",
    "erase": "traffic-violation",
}

# (name, method, path, body, roles that may call it); {role} and the ids the
# fixture makes ({decision}, {case}, {decide}) are filled in per call.
ENDPOINTS: list[tuple[str, str, str, Any, set[str]]] = [
    ("add scheme", "POST", "/schemes", "scheme", {"admin"}),
    ("report", "POST", "/records", "record", {"city"}),
    ("read record", "GET", "/records/matrix-base", None, {"city", "city-reviewer", "resident"}),
    (
        "prove record",
        "GET",
        "/log/proof/matrix-base",
        None,
        {"admin", "city", "city-reviewer", "resident"},
    ),
    ("contest", "POST", "/records/matrix-contest-{role}/contest", STATEMENT, {"resident"}),
    (
        "review",
        "POST",
        "/records/matrix-review/review",
        {"outcome": "uphold", "reason": "ok"},
        {"city-reviewer"},
    ),
    ("repair", "POST", "/records/matrix-repair-{role}/repair", STATEMENT, {"resident"}),
    (
        "rectification",
        "POST",
        "/records/matrix-rectify-{role}/rectification",
        STATEMENT,
        {"resident"},
    ),
    ("erasure", "POST", "/records/matrix-erase-{role}/erasure", STATEMENT, {"resident"}),
    ("decision review", "POST", "/decisions/{decision}/review", STATEMENT, {"resident"}),
    ("list cases", "GET", "/cases?status=all", None, CASE_LISTERS),
    ("show case", "GET", "/cases/{case}", None, {"admin", "city-reviewer", "resident"}),
    (
        "extend case",
        "POST",
        "/cases/{case}/extend",
        {"reason": "Waiting for footage."},
        {"city-reviewer"},
    ),
    (
        "decide case",
        "POST",
        "/cases/{decide}/decision",
        {"outcome": "upheld", "reason": "ok"},
        {"city-reviewer"},
    ),
    (
        "grant consent",
        "POST",
        f"/subjects/{RESIDENT}/consents",
        {"scheme": "matrix-club"},
        {"resident"},
    ),
    (
        "withdraw consent",
        "DELETE",
        f"/subjects/{RESIDENT}/consents/matrix-club/marketing",
        None,
        {"resident"},
    ),
    ("consents", "GET", f"/subjects/{RESIDENT}/consents", None, {"resident"}),
    ("notices", "GET", f"/subjects/{RESIDENT}/notices", None, {"resident"}),
    ("sweep notices", "POST", "/notices/sweep", None, {"admin"}),
    ("retention", "POST", "/retention/run", None, {"admin"}),
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
def seeded(service: Service) -> tuple[Service, dict[str, str]]:
    with service.client("admin") as http:
        club = CONSENT_SCHEME.replace("api-club", "matrix-club")
        assert http.post("/schemes", content=club).status_code == 201
    with service.client("city") as http:
        lines = [
            record("matrix-base", RESIDENT, "traffic-violation", 9),
            record("matrix-review", RESIDENT, "traffic-violation", 8),
            record("matrix-case", RESIDENT, "traffic-violation", 8),
            record("matrix-decide", RESIDENT, "traffic-violation", 8),
        ]
        lines += [
            record(f"matrix-{name}-{role}", RESIDENT, category, 7)
            for name, category in PER_ROLE.items()
            for role in ROLES
        ]
        assert all(r["status"] == 201 for r in http.post("/records", json=lines).json()["results"])
    with service.client("court") as http:
        spc = record("matrix-spc", RESIDENT, "able-but-refusing", 9, scheme="spc-defaulters")
        assert http.post("/records", json=spc).status_code == 201
    with service.client("rail") as http:
        denied = http.get(f"/subjects/{RESIDENT}/check?action=travel.rail.highspeed").json()
        assert denied["effect"] == "deny"
    ids = {"decision": denied["decision_id"]}
    with service.client("resident") as http:
        for name in ("review", "case", "decide"):
            done = http.post(f"/records/matrix-{name}/contest", json=STATEMENT)
            assert done.status_code == 200
            ids[name] = done.json()["case"]["id"]
        consent = {"scheme": "matrix-club", "purpose": "marketing"}
        assert http.post(f"/subjects/{RESIDENT}/consents", json=consent).status_code == 201
    return service, ids


def _call(
    service: Service,
    ids: dict[str, str],
    who: str | None,
    method: str,
    path: str,
    body: Any,
    n: int,
) -> int:
    path = path.format(role=who, **ids)
    if body == "scheme":
        body = SCHEME_TEXT.format(n=n)
    elif body == "record":
        body = record(f"matrix-report-{n}", NEIGHBOUR, "volunteering-8h", 1)
    with service.client(who) as http:
        if method in ("GET", "DELETE"):
            return http.request(method, path).status_code
        if isinstance(body, str):
            return http.post(path, content=body).status_code
        return http.post(path, json=body).status_code


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "allowed"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_each_role_is_allowed_or_refused_with_a_plain_reason(
    seeded: tuple[Service, dict[str, str]],
    name: str,
    method: str,
    path: str,
    body: Any,
    allowed: set[str],
) -> None:
    service, ids = seeded
    seen = {}
    for n, who in enumerate([None, "revoked", *ROLES]):
        seen[who] = _call(service, ids, who, method, path, body, n)
    assert seen[None] == 401 and seen["revoked"] == 401
    refused = {who for who, status in seen.items() if status == 403}
    passed = {who for who, status in seen.items() if status < 400}
    assert passed == allowed, seen
    assert refused == set(ROLES) - allowed, seen
