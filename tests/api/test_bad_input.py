"""Bad input gets a problem document naming the field and rule, never a 500."""

from __future__ import annotations

from conftest import RESIDENT, Service, record
from socialcredit.entrypoints.api.app import MAX_BODY_BYTES
from socialcredit.entrypoints.api.routers.records import MAX_BATCH

PROBLEM = "application/problem+json"


def test_malformed_bodies_and_parameters_are_4xx_problems(service: Service) -> None:
    cases = [
        ("city", "POST", "/records", b"{not json", 400),
        ("city", "POST", "/records", b"[]", 400),
        ("city", "POST", "/records", b'{"id": "x"}', 422),
        ("city-reviewer", "POST", "/records/none/review", b'{"outcome": "maybe"}', 422),
        ("resident", "GET", f"/subjects/{RESIDENT}/scores?at=yesterday", None, 422),
        ("resident", "GET", "/subjects/cn-ric:110105194912310021/scores", None, 422),
        ("rail", "GET", f"/subjects/{RESIDENT}/check", None, 422),
        ("admin", "POST", "/schemes", b"type: [", 422),
        ("resident", "POST", "/records/%00/contest", b'{"statement": "x"}', 422),
        ("resident", "POST", "/records/none/contest", b'{"statement": "a\\u0000b"}', 422),
        ("resident", "POST", "/records/none/repair", b'{"statement": ""}', 422),
        ("resident", "GET", "/cases/%01", None, 422),
        ("resident", "GET", "/cases?status=closed", None, 422),
        (
            "city-reviewer",
            "POST",
            "/cases/none/decision",
            b'{"outcome": "upheld", "reason": "r", "factor": 1e999}',
            422,
        ),
        (
            "city-reviewer",
            "POST",
            "/cases/none/decision",
            b'{"outcome": "maybe", "reason": "r"}',
            422,
        ),
        ("admin", "POST", "/retention/run?apply=perhaps", None, 422),
    ]
    for who, method, path, body, status in cases:
        with service.client(who) as http:
            response = http.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["status"] == status and problem["detail"]


def test_an_identifier_with_a_bad_check_character_names_it_masked(service: Service) -> None:
    with service.client("resident") as http:
        problem = http.get("/subjects/cn-ric:110105194912310021/scores").json()
    assert problem["errors"][0]["field"] == "identifier"
    assert "check character" in problem["detail"] and "19491231" not in problem["detail"]


def test_oversized_bodies_are_refused_before_they_are_read(service: Service) -> None:
    with service.client("city") as http:
        response = http.post("/records", content=b" " * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413 and response.headers["content-type"] == PROBLEM


def test_a_batch_over_the_limit_is_refused_whole(service: Service) -> None:
    with service.client("city") as http:
        response = http.post("/records", json=[{}] * (MAX_BATCH + 1))
    assert response.status_code == 400 and "1 to 10000" in response.json()["detail"]


def test_a_padded_record_id_is_stored_and_answered_trimmed(service: Service) -> None:
    with service.client("city") as http:
        sent = http.post("/records", json=record("  api-padded  ", RESIDENT, "volunteering-8h", 3))
    assert sent.status_code == 201, sent.text
    assert sent.json()["id"] == "api-padded"
