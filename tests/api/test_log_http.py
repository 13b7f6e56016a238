"""The transparency log over HTTP: a head and consistency proofs for anyone,
a record's inclusion proof for its subject (and admins), refused to others;
what is served checks offline."""

from __future__ import annotations

from conftest import NEIGHBOUR, RESIDENT, Service, record
from socialcredit.domain.ledger.transparency import ConsistencyProof, InclusionProof, TreeHead


def test_a_subject_gets_their_records_proof_and_it_checks(service: Service) -> None:
    with service.client("city") as city:
        assert (
            city.post(
                "/records", json=record("log-r1", RESIDENT, "traffic-violation", 3)
            ).status_code
            == 201
        )
        assert (
            city.post(
                "/records", json=record("log-n1", NEIGHBOUR, "traffic-violation", 3)
            ).status_code
            == 201
        )
    with service.client() as anyone:
        head = TreeHead.from_json(anyone.get("/log/head").json())
    head.check()
    with service.client("resident") as resident:
        served = resident.get(f"/log/proof/log-r1?size={head.size}")
        assert served.status_code == 200
        proof = InclusionProof.from_json(served.json())
        proof.check(head)
        assert proof.ref == "log-r1"
        refused = resident.get("/log/proof/log-n1")
        assert refused.status_code == 403 and "subject" in refused.json()["detail"]
        assert resident.get("/log/proof/no-such-record").status_code == 404
        too_big = resident.get(f"/log/proof/log-r1?size={head.size + 10_000}")
        assert too_big.status_code == 400 and "there is no head of" in too_big.json()["detail"]
    with service.client("admin") as admin:
        assert admin.get("/log/proof/log-n1").status_code == 200
    with service.client() as anyone:
        assert anyone.get("/log/proof/log-r1").status_code == 401


def test_anyone_gets_a_consistency_proof_between_two_heads(service: Service) -> None:
    with service.client() as anyone:
        old = TreeHead.from_json(anyone.get("/log/head").json())
    with service.client("city") as city:
        city.post("/records", json=record("log-r2", RESIDENT, "heroic-act", 2))
    with service.client() as anyone:
        body = anyone.get(f"/log/consistency?old={old.size}").json()
        assert anyone.get("/log/consistency?old=-1").status_code == 422
    new = TreeHead.from_json(body["new_head"])
    assert new.size > old.size
    ConsistencyProof.from_json(body).check(old, new)
