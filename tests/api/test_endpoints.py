"""One test per endpoint, over real HTTP on loopback."""

from __future__ import annotations

from conftest import FIRM, NEIGHBOUR, RESIDENT, Service, record

PROBLEM = "application/problem+json"


def test_health_and_the_openapi_schema_are_public(service: Service) -> None:
    with service.client() as http:
        assert http.get("/health").json()["status"] == "ok"
        schema = http.get("/openapi.json").json()
        assert "/subjects/{identifier}/check" in schema["paths"]
        docs = http.get("/docs")
        assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
        assert "cdn" not in docs.text.lower()  # works without internet
        assert http.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_schemes_are_listed_and_shown_publicly(service: Service) -> None:
    with service.client() as http:
        ids = {s["id"] for s in http.get("/schemes").json()}
        assert {"rongcheng-personal", "spc-defaulters", "ndrc-2016-141"} <= ids
        shown = http.get("/schemes/spc-defaulters").json()
        assert shown["type"] == "scheme" and "dishonest-defaulters" in shown["text"]
        missing = http.get("/schemes/nope")
        assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM


def test_an_admin_adds_a_scheme_and_a_bad_one_names_the_field(service: Service) -> None:
    text = (
        "type: scheme\nid: api-village\ntitle: Village\nauthority: {id: village, name: Village}\n"
        "context: civic\nlawful_basis: public_task\nsubjects: [person]\nretention: P1Y\n"
        "categories:\n  - {code: help, title: Help, points: 1, severity: minor, validity: P5}\n"
    )
    with service.client("admin") as http:
        bad = http.post("/schemes", content=text)
        assert bad.status_code == 422
        assert {
            "field": "categories[0].validity",
            "rule": "'P5' is not an ISO-8601 duration",
        } in bad.json()["errors"]
        good = http.post("/schemes", content=text.replace("P5}", "P5Y}"))
        assert good.status_code == 201 and good.json()[0]["id"] == "api-village"


def test_reporting_is_idempotent_and_conflicts_give_409(service: Service) -> None:
    line = record("api-r1", RESIDENT, "traffic-violation", 10)
    with service.client("city") as http:
        created = http.post("/records", json=line)
        assert created.status_code == 201 and created.json()["subject"].startswith("cn-ric:")
        again = http.post("/records", json=line)
        assert again.status_code == 200 and again.json()["id"] == "api-r1"
        conflict = http.post("/records", json={**line, "category": "drunk-driving"})
        assert conflict.status_code == 409 and conflict.json()["errors"][0]["field"] == "id"


def test_a_batch_keeps_its_good_items_and_reports_each_bad_one(service: Service) -> None:
    batch = [
        record("api-b1", NEIGHBOUR, "volunteering-8h", 3),
        {**record("api-b2", NEIGHBOUR, "volunteering-8h", 2), "category": "nope"},
        record(
            "api-b3", NEIGHBOUR, "able-but-refusing", 2, scheme="spc-defaulters"
        ),  # not the city's
        "not an object",
    ]
    with service.client("city") as http:
        results = http.post("/records", json=batch).json()["results"]
    assert [r["status"] for r in results] == [201, 422, 403, 422]
    assert results[1]["errors"][0] == {
        "field": "category",
        "rule": "scheme 'rongcheng-personal' has no category 'nope'",
    }


def test_a_record_is_read_by_its_subject_and_not_by_a_neighbour(service: Service) -> None:
    with service.client("city") as http:
        http.post("/records", json=record("api-r2", RESIDENT, "traffic-violation", 5))
    with service.client("resident") as http:
        assert http.get("/records/api-r2").json()["status"] == "standing"
    with service.client("neighbour") as http:
        assert http.get("/records/api-r2").status_code == 403


def test_the_subject_contests_and_a_reviewer_of_the_scheme_decides(service: Service) -> None:
    with service.client("city") as http:
        http.post("/records", json=record("api-r3", RESIDENT, "traffic-violation", 4))
    with service.client("resident") as http:
        contested = http.post("/records/api-r3/contest", json={"statement": "I was abroad"})
        assert contested.json()["status"] == "contested"
        case = contested.json()["case"]
        assert case["kind"] == "contest" and case["statement"] == "I was abroad"
    with service.client("court-reviewer") as http:
        refused = http.post("/records/api-r3/review", json={"outcome": "overturn", "reason": "x"})
        assert refused.status_code == 403
    with service.client("city-reviewer") as http:
        decided = http.post(
            "/records/api-r3/review", json={"outcome": "overturn", "reason": "alibi"}
        ).json()
        assert decided["status"] == "overturned"
        assert decided["case"]["id"] == case["id"] and decided["case"]["outcome"] == "overturned"
        again = http.post("/records/api-r3/review", json={"outcome": "uphold", "reason": "no"})
        assert (
            again.status_code == 400
            and "only a contested or restricted record" in again.json()["detail"]
        )


def test_a_reporter_enrols_a_subject_in_its_own_scheme(service: Service) -> None:
    with service.client("city") as http:
        done = http.post(f"/subjects/{NEIGHBOUR}/enrol", json={"scheme": "rongcheng-personal"})
        assert done.status_code == 200 and done.json()["subject"].endswith(NEIGHBOUR[-4:])
    with service.client("court") as http:
        assert (
            http.post(
                f"/subjects/{NEIGHBOUR}/enrol", json={"scheme": "rongcheng-personal"}
            ).status_code
            == 403
        )


def test_scores_come_with_their_reasons_for_the_subject(service: Service) -> None:
    with service.client("resident") as http:
        views = http.get(
            f"/subjects/{RESIDENT}/scores", params={"scheme": "rongcheng-personal"}
        ).json()
    [view] = views
    assert view["scheme"] == "rongcheng-personal" and view["score"] is not None
    assert {"record": "api-r3", "category": "traffic-violation", "reason": "overturned"} in view[
        "excluded"
    ]


def test_a_checker_gets_a_logged_decision_the_subject_can_read(service: Service) -> None:
    with service.client("court") as http:
        http.post(
            "/records",
            json=record("api-spc", FIRM, "able-but-refusing", 30, scheme="spc-defaulters"),
        )
        http.post(
            "/records",
            json=record("api-spc2", RESIDENT, "able-but-refusing", 30, scheme="spc-defaulters"),
        )
    with service.client("rail") as http:
        decision = http.get(
            f"/subjects/{RESIDENT}/check", params={"action": "travel.rail.highspeed"}
        ).json()
        assert decision["effect"] == "deny" and decision["reasons"]
        assert (
            http.get(
                f"/subjects/{RESIDENT}/check", params={"action": "welfare.benefit"}
            ).status_code
            == 403
        )
    with service.client("resident") as http:
        logged = http.get(f"/subjects/{RESIDENT}/decisions").json()
        assert decision["decision_id"] in {d["decision_id"] for d in logged}
        log = http.get(f"/subjects/{RESIDENT}/access-log").json()
        assert any(entry["purpose"] == "score enquiry" for entry in log)


def test_published_lists_show_masked_identifiers_only(service: Service) -> None:
    with service.client() as http:
        entries = http.get("/lists/spc-defaulters/dishonest-defaulters").json()
        assert entries and all("*" in e["subject"] for e in entries)
        assert RESIDENT.split(":")[1] not in str(entries)
        assert http.get("/lists/spc-defaulters/nope").status_code == 404
        # no such list is said before a malformed ``at`` is
        assert http.get("/lists/spc-defaulters/nope?at=soon").status_code == 404
        assert http.get("/lists/spc-defaulters/dishonest-defaulters?at=soon").status_code == 422


def test_a_subject_exports_what_is_held_as_json_and_as_a_page(service: Service) -> None:
    with service.client("resident") as http:
        data = http.get(f"/subjects/{RESIDENT}/export").json()
        page = http.get(f"/subjects/{RESIDENT}/export", params={"format": "html"})
    assert data["subject"]["identifier"].endswith(RESIDENT[-4:]) and data["records"]
    assert (
        page.headers["content-type"].startswith("text/html") and "What is held about" in page.text
    )
    assert RESIDENT.split(":")[1] not in page.text


def test_a_reporter_cannot_reach_another_scheme_by_spelling_its_name_differently(
    service: Service,
) -> None:
    line = record("api-sneak", NEIGHBOUR, "able-but-refusing", 3, scheme=" spc-defaulters ")
    with service.client("city") as http:
        refused = http.post("/records", json=line)
    assert refused.status_code == 403
    with service.client("court") as http:
        taken = http.post(
            "/records",
            json={
                **record("api-own", NEIGHBOUR, "able-but-refusing", 3, scheme="spc-defaulters"),
                "reporter": "someone else",
            },
        )
    assert taken.status_code == 201 and taken.json()["reporter"] == "spc"  # the key's authority
