"""API keys: shown once, kept only as a hash, scoped by role, revocable at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_support import people, shipped_system, sql

from socialcredit.domain.access import (
    AccessDenied,
    Principal,
    may_check,
    may_read_subject,
    may_report,
    may_review,
)
from socialcredit.errors import UsageError
from socialcredit.services.keys import AuthenticationFailed


def test_a_key_authenticates_until_revoked_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    system = shipped_system(path)
    key, token = system.keys.create("checker", authority="china-railway", actor="cli")

    principal = system.keys.authenticate(token)

    assert principal == Principal(key.id, "checker", "china-railway", None)
    secret = token.split("_", 2)[2]  # sck_<id>_<secret>; the id has no underscore
    dump = "\n".join(str(row) for row in sql(path, "SELECT * FROM api_keys"))
    assert secret not in dump and key.id in dump
    system.keys.revoke(key.id, actor="cli")
    with pytest.raises(AuthenticationFailed, match="revoked"):
        system.keys.authenticate(token)
    with pytest.raises(UsageError, match="already revoked"):
        system.keys.revoke(key.id, actor="cli")


@pytest.mark.parametrize(
    "token",
    ["", "Bearer x", "sck_", "sck_abc", "sck_abc_def", "xsck_a_b", "sck_000000000000_" + "A" * 43],
)
def test_malformed_or_unknown_keys_fail_authentication(tmp_path: Path, token: str) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    with pytest.raises(AuthenticationFailed):
        system.keys.authenticate(token)


def test_a_wrong_secret_for_a_real_key_id_fails(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    key, token = system.keys.create("admin", actor="cli")
    forged = f"sck_{key.id}_{'B' * 43}"
    assert forged != token
    with pytest.raises(AuthenticationFailed, match="not valid"):
        system.keys.authenticate(forged)


@pytest.mark.parametrize(
    ("role", "options", "message"),
    [
        ("checker", {}, "give --authority"),
        ("admin", {"authority": "caac"}, "leave out --authority"),
        ("reporter", {"authority": "nobody"}, "unknown authority 'nobody'"),
        ("subject", {}, "names its --subject"),
        (
            "reviewer",
            {"authority": "spc", "subject": "cn-ric:11010519491231002X"},
            "names its --subject",
        ),
        ("owner", {}, "not one of admin, reporter, checker, reviewer, subject"),
    ],
)
def test_keys_are_refused_when_their_scope_does_not_fit_the_role(
    tmp_path: Path, role: str, options: dict[str, str], message: str
) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    with pytest.raises(UsageError, match=message):
        system.keys.create(role, **options, actor="cli")
    assert system.uow.keys.keys() == []


def test_the_roles_rules_on_the_shipped_schemes(tmp_path: Path) -> None:
    system = shipped_system(tmp_path / "ledger.db")
    schemes = system.definitions.registry.current_schemes
    index = system.definitions.registry.index
    court_reporter = Principal("k1", "reporter", "spc")
    rail_checker = Principal("k2", "checker", "china-railway")
    [resident, neighbour] = people(2, seed=91)
    own = system.subjects.identify(resident).key
    resident_key = Principal("k3", "subject", None, own)

    may_report(court_reporter, schemes["spc-defaulters"])
    with pytest.raises(AccessDenied, match="may not report to 'rongcheng-personal'"):
        may_report(court_reporter, schemes["rongcheng-personal"])
    may_check(rail_checker, "travel.rail.highspeed", index)  # through the 2016 memorandum
    with pytest.raises(AccessDenied, match=r"may not check 'welfare\.benefit'"):
        may_check(rail_checker, "welfare.benefit", index)
    with pytest.raises(AccessDenied, match="needs a checker key"):
        may_check(court_reporter, "travel.rail.highspeed", index)
    may_review(Principal("k4", "reviewer", "spc"), schemes["spc-defaulters"])
    with pytest.raises(AccessDenied, match="may not review"):
        may_review(Principal("k5", "reviewer", "caac"), schemes["spc-defaulters"])
    may_read_subject(resident_key, own)
    with pytest.raises(AccessDenied, match="only its own"):
        may_read_subject(resident_key, system.subjects.identify(neighbour).key)
    may_read_subject(Principal("k6", "admin"), own, also=("admin", "reviewer"))
    with pytest.raises(AccessDenied):
        may_read_subject(rail_checker, own, also=("admin", "reviewer"))
