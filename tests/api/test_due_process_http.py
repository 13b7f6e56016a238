"""Due process over HTTP, end to end, each step with the key of the role that
takes it: contests with deadlines, credit repair, rectification, erasure,
human review of a decision with an override, consent, notices and retention
(DESIGN.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from conftest import CONSENT_SCHEME, NEIGHBOUR, NOW, RESIDENT, Service, record
from socialcredit.domain.schemes.durations import Duration

PROBLEM = "application/problem+json"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def report(service: Service, who: str, *lines: dict[str, Any]) -> None:
    with service.client(who) as http:
        results = http.post("/records", json=list(lines)).json()["results"]
    assert all(r["status"] == 201 for r in results), results


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def test_a_contest_is_listed_extended_and_decided_and_the_subject_is_told_each_step(
    service: Service,
) -> None:
    report(service, "city", record("dp-c1", RESIDENT, "traffic-violation", 4))
    with service.client("resident") as http:
        problem(http.post("/records/dp-c1/contest", json={"statement": ""}), 422)
        problem(http.post("/records/dp-c1/contest", json={}), 422)
        contested = http.post(
            "/records/dp-c1/contest",
            json={"statement": "I was abroad that day.", "evidence": "passport p. 7"},
        )
        assert contested.status_code == 200, contested.text
        body = contested.json()
        assert body["id"] == "dp-c1" and body["status"] == "contested"
        case = body["case"]
        assert case["kind"] == "contest" and case["record"] == "dp-c1" and case["open"]
        assert case["authorities"] == ["rongcheng-gov"] and case["scheme"] == "rongcheng-personal"
        assert case["statement"] == "I was abroad that day." and case["evidence"] == "passport p. 7"
        assert case["subject"] == body["subject"] and RESIDENT.split(":")[1] not in str(body)
        assert (
            timedelta(days=27)
            < parse(case["due_at"]) - parse(case["opened_at"])
            < timedelta(days=32)
        )
        assert case["overdue"] is False and case["outcome"] is None
        problem(http.post("/records/dp-c1/contest", json={"statement": "again"}), 400)
        mine = http.get("/cases").json()
        assert case["id"] in {c["id"] for c in mine}
        assert http.get(f"/cases/{case['id']}").json()["statement"] == "I was abroad that day."

    with service.client("neighbour") as http:
        problem(http.get(f"/cases/{case['id']}"), 403)
        assert case["id"] not in {c["id"] for c in http.get("/cases").json()}
    with service.client("court-reviewer") as http:
        assert case["id"] not in {c["id"] for c in http.get("/cases").json()}
        problem(http.get(f"/cases/{case['id']}"), 403)
        problem(http.post(f"/cases/{case['id']}/extend", json={"reason": "busy"}), 403)
    with service.client("city") as http:
        problem(http.get("/cases"), 403)

    with service.client("city-reviewer") as http:
        listed = http.get("/cases").json()
        assert case["id"] in {c["id"] for c in listed}
        assert http.get(f"/cases/{case['id']}").json()["evidence"] == "passport p. 7"
        assert case["id"] not in {c["id"] for c in http.get("/cases?status=overdue").json()}
        real = service.system.clock.read
        service.system.clock.read = lambda: real() + timedelta(days=40)  # the operator's clock
        try:
            overdue = http.get("/cases", params={"status": "overdue"}).json()
        finally:
            service.system.clock.read = real
        [late] = [c for c in overdue if c["id"] == case["id"]]
        assert late["overdue"] is True

        problem(http.post(f"/cases/{case['id']}/extend", json={"reason": ""}), 422)
        extended = http.post(
            f"/cases/{case['id']}/extend", json={"reason": "We are waiting for camera footage."}
        ).json()
        assert extended["extended"] == "We are waiting for camera footage."
        moved = parse(extended["due_at"]) - parse(case["due_at"])
        assert timedelta(days=58) < moved < timedelta(days=63)  # two months
        again = problem(http.post(f"/cases/{case['id']}/extend", json={"reason": "more"}), 400)
        assert "already extended once" in again["detail"]

        wrong = problem(
            http.post(
                f"/cases/{case['id']}/decision", json={"outcome": "approved", "reason": "fine"}
            ),
            400,
        )
        assert "upheld, overturned" in wrong["detail"]
        decided = http.post(
            f"/cases/{case['id']}/decision",
            json={"outcome": "overturned", "reason": "The footage shows another car."},
        )
        assert decided.status_code == 200, decided.text
        assert decided.json()["outcome"] == "overturned" and decided.json()["open"] is False
        assert case["id"] not in {c["id"] for c in http.get("/cases").json()}
        assert case["id"] in {c["id"] for c in http.get("/cases?status=all").json()}
        problem(
            http.post(
                f"/cases/{case['id']}/decision",
                json={"outcome": "upheld", "reason": "changed my mind"},
            ),
            400,
        )

    with service.client("resident") as http:
        assert http.get("/records/dp-c1").json()["status"] == "overturned"
        told = [
            n for n in http.get(f"/subjects/{RESIDENT}/notices").json() if case["id"] in n["text"]
        ]
        assert [n["kind"] for n in told] == ["case_opened", "case_extended", "case_decided"]
        assert "camera footage" in told[1]["text"]
        assert "another car" in told[2]["text"] and told[2]["reasons"][0]["outcome"] == "overturned"
        assert all(n["how_to_contest"] and n["delivered_at"] is None for n in told)
        assert set(told[0]) == {
            "id",
            "kind",
            "subject",
            "at",
            "title",
            "text",
            "reasons",
            "how_to_contest",
            "delivered_at",
            "channel",
        }
        log = http.get(f"/subjects/{RESIDENT}/access-log").json()
        assert any(e["what"] == "notices" for e in log)
        reviewer = [e for e in log if e["purpose"] == "case review"]  # the reviewer's reads
        assert {e["what"] for e in reviewer} >= {"cases (open)", f"case {case['id']}"}
    with service.client("neighbour") as http:
        problem(http.get(f"/subjects/{RESIDENT}/notices"), 403)


def test_the_review_endpoint_decides_the_open_contest_case(service: Service) -> None:
    report(service, "city", record("dp-r1", RESIDENT, "traffic-violation", 3))
    with service.client("resident") as http:
        case = http.post("/records/dp-r1/contest", json={"statement": "Not my car."}).json()["case"]
    with service.client("city-reviewer") as http:
        problem(http.post("/records/dp-r1/review", json={"outcome": "uphold"}), 422)
        done = http.post(
            "/records/dp-r1/review", json={"outcome": "uphold", "reason": "The plate is yours."}
        ).json()
    assert done["status"] == "upheld"
    assert done["case"]["id"] == case["id"] and done["case"]["outcome"] == "upheld"
    assert done["case"]["reason"] == "The plate is yours."


def test_repair_too_early_names_the_date_and_a_minor_record_is_repaired_at_once(
    service: Service,
) -> None:
    report(
        service,
        "city",
        record("dp-general", RESIDENT, "contract-breach", 2),
        record("dp-minor", RESIDENT, "illegal-dumping", 2),
    )
    with service.client("neighbour") as http:
        problem(http.post("/records/dp-minor/repair", json={"statement": "Mine?"}), 403)
    with service.client("resident") as http:
        early = problem(
            http.post("/records/dp-general/repair", json={"statement": "The contract is settled."}),
            422,
        )
        reported = parse(http.get("/records/dp-general").json()["reported_at"])
        opens = Duration.parse("P3M").after(reported)  # general conduct: three months
        assert parse(early["available_from"]) == opens
        assert early["available_from"] in early["detail"] and "general" in early["detail"]
        applied = http.post(
            "/records/dp-minor/repair",
            json={"statement": "I cleaned it up the same day.", "evidence": "photo 12"},
        )
        assert applied.status_code == 201, applied.text
        case = applied.json()
        assert case["kind"] == "repair" and case["open"]
        problem(http.post("/records/dp-minor/repair", json={"statement": "again"}), 400)
    with service.client("city-reviewer") as http:
        approved = http.post(
            f"/cases/{case['id']}/decision",
            json={"outcome": "approved", "reason": "The site inspection found it clean."},
        ).json()
        assert approved["outcome"] == "approved"
        assert http.get("/records/dp-minor").json()["status"] == "repaired"


def test_rectification_replaces_a_wrong_record(service: Service) -> None:
    report(service, "city", record("dp-w1", RESIDENT, "drunk-driving", 6))
    with service.client("resident") as http:
        opened = http.post(
            "/records/dp-w1/rectification",
            json={"statement": "It was a parking ticket, not drunk driving."},
        )
        assert opened.status_code == 201, opened.text
        case = opened.json()
        assert case["kind"] == "rectification"
        problem(http.post("/records/dp-w1/rectification", json={"statement": "again"}), 400)
    garbled = {"outcome": "rectified", "reason": "x", "occurred_at": "last Tuesday"}
    with service.client("court-reviewer") as http:
        # Who may decide is asked before the terms are read: a stranger learns
        # nothing from which of its terms were malformed.
        problem(http.post(f"/cases/{case['id']}/decision", json=garbled), 403)
        problem(http.post("/cases/no-such-case/decision", json=garbled), 404)
    with service.client("city-reviewer") as http:
        assert (
            "occurred_at"
            in problem(http.post(f"/cases/{case['id']}/decision", json=garbled), 422)["detail"]
        )
        terms = problem(
            http.post(
                f"/cases/{case['id']}/decision",
                json={"outcome": "rectified", "reason": "x", "effect": "allow"},
            ),
            400,
        )
        assert "overridden decision review" in terms["detail"]
        decided = http.post(
            f"/cases/{case['id']}/decision",
            json={
                "outcome": "rectified",
                "reason": "The police report says parking.",
                "category": "traffic-violation",
            },
        ).json()
    replacement = decided["details"]["replacement"]
    with service.client("resident") as http:
        assert http.get("/records/dp-w1").json()["status"] == "overturned"
        new = http.get(f"/records/{replacement}").json()
        assert (
            new["category"] == "traffic-violation"
            and new["evidence"] == f"rectification {case['id']}"
        )


def test_a_denied_check_is_reviewed_by_a_person_and_overridden_for_a_period(
    service: Service,
) -> None:
    report(
        service,
        "court",
        record("dp-spc", RESIDENT, "able-but-refusing", 20, scheme="spc-defaulters"),
    )
    with service.client("rail") as http:
        denied = http.get(
            f"/subjects/{RESIDENT}/check", params={"action": "travel.rail.highspeed"}
        ).json()
    assert denied["effect"] == "deny"
    decision = denied["decision_id"]

    with service.client("neighbour") as http:
        problem(http.post(f"/decisions/{decision}/review", json={"statement": "Me?"}), 403)
    with service.client("resident") as http:
        problem(http.post("/decisions/no-such/review", json={"statement": "please"}), 404)
        referred = http.post(
            f"/decisions/{decision}/review",
            json={"statement": "I must travel to my mother's surgery."},
        )
        assert referred.status_code == 201, referred.text
        case = referred.json()
        assert case["kind"] == "decision_review" and case["decision"] == decision
        assert case["authorities"] == ["china-railway", "spc"]
        assert case["details"]["action"] == "travel.rail.highspeed"
        twice = problem(
            http.post(f"/decisions/{decision}/review", json={"statement": "again"}), 400
        )
        assert case["id"] in twice["detail"]

    until = (datetime.now(UTC) + timedelta(days=14)).replace(microsecond=0)
    with service.client("city-reviewer") as http:  # the city answers for neither
        problem(
            http.post(
                f"/cases/{case['id']}/decision",
                json={
                    "outcome": "overridden",
                    "reason": "x",
                    "effect": "allow",
                    "until": until.isoformat(),
                },
            ),
            403,
        )
    with service.client("court-reviewer") as http:
        missing = problem(
            http.post(
                f"/cases/{case['id']}/decision",
                json={"outcome": "overridden", "reason": "Medical need.", "effect": "allow"},
            ),
            400,
        )
        assert "until" in missing["detail"]
        problem(
            http.post(
                f"/cases/{case['id']}/decision",
                json={
                    "outcome": "overridden",
                    "reason": "Medical need.",
                    "effect": "allow",
                    "until": "soon",
                },
            ),
            422,
        )
        overridden = http.post(
            f"/cases/{case['id']}/decision",
            json={
                "outcome": "overridden",
                "effect": "allow",
                "until": until.isoformat(),
                "reason": "Medical need shown by the hospital's letter.",
            },
        )
        assert overridden.status_code == 200, overridden.text
        terms = overridden.json()["details"]["override"]
        assert terms["effect"] == "allow" and parse(terms["until"]) == until

    with service.client("rail") as http:
        later = http.get(
            f"/subjects/{RESIDENT}/check", params={"action": "travel.rail.highspeed"}
        ).json()
        assert later["effect"] == "allow"
        assert later["reasons"][0]["source"] == "override"
        assert "hospital's letter" in later["reasons"][0]["rationale"]
        assert later["reasons"][1]["effect"] == "deny"  # what the schemes said is still shown
        other = http.get(
            f"/subjects/{RESIDENT}/check", params={"action": "travel.rail.soft-sleeper"}
        ).json()
        assert other["effect"] == "deny"  # the override is for that one action only
    with service.client("resident") as http:
        told = [
            n
            for n in http.get(f"/subjects/{RESIDENT}/notices").json()
            if n["kind"] == "case_decided" and case["id"] in n["text"]
        ]
        assert told and "overridden" in told[0]["title"]


def test_consent_is_granted_and_withdrawn_in_one_call_each_and_records_stop_counting(
    service: Service,
) -> None:
    with service.client("admin") as http:
        added = http.post("/schemes", content=CONSENT_SCHEME)
        assert added.status_code == 201, added.text
    # Keys are managed by the operator (`socialcredit keys create`), not over HTTP.
    _, club = service.system.keys.create("reporter", authority="club-co", actor="cli")
    path = f"/subjects/{NEIGHBOUR}/consents"

    with service.client("neighbour") as http:
        assert http.get(path).json() == []
        problem(http.post(path, json={"scheme": "api-club", "purpose": "profiling"}), 400)
        problem(http.post(path, json={"scheme": "no-such-scheme"}), 404)
        granted = http.post(path, json={"scheme": "api-club"})
        assert granted.status_code == 201, granted.text
        assert granted.json()["active"] is True and granted.json()["purpose"] == "scoring"
        again = problem(http.post(path, json={"scheme": "api-club"}), 400)
        assert "already active" in again["detail"]
    with service.client("resident") as http:
        problem(http.post(path, json={"scheme": "api-club"}), 403)
        problem(http.delete(f"{path}/api-club/scoring"), 403)
        problem(http.get(path), 403)

    occurred = datetime.now(UTC).isoformat()
    paid = {
        "id": "dp-club-1",
        "scheme": "api-club",
        "category": "on-time",
        "subject": NEIGHBOUR,
        "occurred_at": occurred,
    }
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {club}"}) as http:
        taken = http.post("/records", json=paid)
        assert taken.status_code == 201, taken.text
    with service.client("neighbour") as http:
        [counted] = http.get(f"/subjects/{NEIGHBOUR}/scores", params={"scheme": "api-club"}).json()
        assert counted["score"] == 610
        withdrawn = http.delete(f"{path}/api-club/scoring")  # one call
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["active"] is False
        assert withdrawn.json()["periods"][0]["until"] is not None
        problem(http.delete(f"{path}/api-club/scoring"), 400)
        [after] = http.get(f"/subjects/{NEIGHBOUR}/scores", params={"scheme": "api-club"}).json()
        assert after["score"] is None
        assert after["excluded"] == [
            {"record": "dp-club-1", "category": "on-time", "reason": "no_consent"}
        ]
        [held] = http.get(path).json()
        assert (held["scheme"], held["purpose"], held["active"]) == ("api-club", "scoring", False)
        kinds = [n["kind"] for n in http.get(f"/subjects/{NEIGHBOUR}/notices").json()]
        assert kinds.count("consent_changed") == 2

    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {club}"}) as http:
        refused = http.post("/records", json={**paid, "id": "dp-club-2"})
        assert refused.status_code == 422 and "no active consent" in refused.json()["detail"]


def test_erasure_erases_under_consent_and_restricts_under_public_task(service: Service) -> None:
    # dp-club-1 was taken under consent in the test above.
    with service.client("resident") as http:
        problem(http.post("/records/dp-club-1/erasure", json={"statement": "Erase it."}), 403)
    with service.client("neighbour") as http:
        problem(http.post("/records/dp-club-1/erasure", json={"statement": ""}), 422)
        erased = http.post("/records/dp-club-1/erasure", json={"statement": "Erase it."}).json()
        assert erased["erased"] is True and erased["case"] is None
        assert "consent" in erased["why"]
        gone = http.get("/records/dp-club-1").json()
        assert gone["status"] == "erased" and gone["category"] == "" and gone["points"] == 0
        problem(http.post("/records/dp-club-1/erasure", json={"statement": "again"}), 400)

    report(service, "city", record("dp-p1", NEIGHBOUR, "traffic-violation", 5))
    with service.client("neighbour") as http:
        restricted = http.post("/records/dp-p1/erasure", json={"statement": "Delete this."}).json()
        assert restricted["erased"] is False and "public_task" in restricted["why"]
        case = restricted["case"]
        assert case["kind"] == "erasure" and case["open"]
        assert http.get("/records/dp-p1").json()["status"] == "restricted"
    with service.client("city-reviewer") as http:
        kept = http.post(
            "/records/dp-p1/review",
            json={"outcome": "uphold", "reason": "The city must keep it for its public task."},
        ).json()
    assert kept["status"] == "upheld"
    assert kept["case"]["id"] == case["id"] and kept["case"]["outcome"] == "kept"


def test_retention_is_a_dry_run_unless_applied_and_only_for_an_admin(service: Service) -> None:
    report(service, "city", record("dp-old", NEIGHBOUR, "volunteering-8h", 6 * 366))
    with service.client("city") as http:
        problem(http.post("/retention/run"), 403)
    with service.client("admin") as http:
        dry = http.post("/retention/run").json()
        assert dry["applied"] is False
        [item] = [i for i in dry["removed"] if i["record"] == "dp-old"]
        assert (
            item["scheme"] == "rongcheng-personal"
            and NEIGHBOUR.split(":")[1] not in item["subject"]
        )
        assert parse(item["kept_until"]) < NOW
        assert dry["by_scheme"]["rongcheng-personal"] >= 1
    with service.client("neighbour") as http:
        assert http.get("/records/dp-old").json()["category"] == "volunteering-8h"  # untouched
    with service.client("admin") as http:
        applied = http.post("/retention/run", params={"apply": "true"}).json()
        assert applied["applied"] is True and "dp-old" in {i["record"] for i in applied["removed"]}
        assert "dp-old" not in {i["record"] for i in http.post("/retention/run").json()["removed"]}
    with service.client("neighbour") as http:
        assert http.get("/records/dp-old").json()["status"] == "erased"


def test_a_sweep_builds_the_notices_the_ledger_calls_for_once(service: Service) -> None:
    report(service, "city", record("dp-s1", NEIGHBOUR, "illegal-dumping", 1))
    with service.client("neighbour") as http:
        problem(http.post("/notices/sweep"), 403)
    with service.client("admin") as http:
        built = http.post("/notices/sweep").json()["built"]
        assert built["record_reported"] >= 1
        assert http.post("/notices/sweep").json() == {"built": {}}  # idempotent
    with service.client("neighbour") as http:
        [told] = [
            n
            for n in http.get(f"/subjects/{NEIGHBOUR}/notices").json()
            if n["kind"] == "record_reported" and "dp-s1" in n["text"]
        ]
        assert "POST /records/dp-s1/contest" in told["how_to_contest"]
        assert told["reasons"][0]["record"] == "dp-s1"
