"""Every read of a subject's data is logged, with the right actor, whatever the
way in: this walks every command of the installed CLI and every GET route of
the HTTP API (plugins' included). Each is either a read, run here and held to
a new row in its subject's access log (or, for a check, its decision), or is
named below with the reason it shows no subject's data. A new command or route
that is neither fails here until it is placed."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main

from socialcredit import bootstrap
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.bootstrap import Services
from socialcredit.domain.identity import generate_ric, generate_uscc
from socialcredit.entrypoints.api import create_app
from socialcredit.entrypoints.cli.main import app as cli_app
from socialcredit.testing import serving

BIN = Path(sys.executable).parent / "socialcredit"
KEY = "ef" * 32
NOW = datetime.now(UTC).replace(microsecond=0)
_rng = random.Random(404)
RESIDENT, RIDER, REPORTER = ("cn-ric:" + generate_ric(_rng) for _ in range(3))
FIRM = "cn-uscc:" + generate_uscc(_rng, first="9")
CONSENT_SCHEME = Path(__file__).parents[1] / "data" / "deposit-club.yaml"
BAY = [[122.40, 37.15], [122.41, 37.15], [122.41, 37.16], [122.40, 37.16], [122.40, 37.15]]
ZONES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"id": "bay-1", "kind": "parking"},
            "geometry": {"type": "Polygon", "coordinates": [BAY]},
        }
    ],
}

# Commands that show no subject's data, and why. Everything else must be a read below.
NOT_READS = {
    "init": "creates the database",
    "schemes add": "definitions, not subjects",
    "schemes lint": "definitions",
    "schemes list": "definitions",
    "schemes show": "definitions",
    "schemes paperwork": "a scheme's record of processing",
    "schemes rescore": "a scheme's points; logged as a rescoring",
    "records import": "a write; what it refuses is the reporter's own lines",
    "enrol": "a write, answered with the masked identifier given",
    "link": "a write",
    "keys create": "a write; shows the key's own masked subject",
    "keys list": "keys and the masked subject each belongs to, no data about them",
    "keys revoke": "a write",
    "keys rotate": "a write; shows the new key's own masked subject",
    "contest": "a write, answered with the case it opened (chained, with its actor)",
    "review": "a write, answered with the case it decided",
    "repair": "a write, answered with the case it opened",
    "rectify": "a write, answered with the case it opened",
    "erase": "a write, answered with the case it opened",
    "refer": "a write, answered with the case it opened",
    "cases extend": "a write, answered with the case it extended",
    "cases decide": "a write, answered with the case it decided",
    "consent grant": "a write",
    "consent withdraw": "a write",
    "notices sweep": "builds notices; shows counts",
    "notices deliver": "hands notices to a channel; shows a count",
    "retention run": "an operator's sweep; each erasure is a chained event with its actor",
    "verify": "walks the chains; names broken rows, not data",
    "snapshot": "the ledger as Parquet for the operator's engines: keyed hashes only, shown to no one",
    "batch evaluate": "every subject evaluated into the operator's files, by keyed hash; shows counts",
    "batch check": "counts of decisions over the whole population; no subject shown or decided",
    "simulate": "counts of grades, list entries and effects under two versions; no subject shown",
    "audit on": "turns the fairness audit on; reads no subject",
    "audit off": "deletes the audit's attributes; shows no subject",
    "audit status": "whether the audit is on, and how many people it holds attributes of",
    "audit fairness": "counts per group of 20 or more; no subject shown or decided",
    "serve": "starts the HTTP service",
    "demo": "builds its own ledger",
    "scorecard fit": "labelled data in a file, no ledger",
    "scorecard synthetic": "made-up data",
    "mobility zones import": "zones, not subjects",
    "mobility trips import": "a write; what it refuses is the operator's own lines",
    "mobility report": "a write, answered with the report it filed",
    "mobility reports verify": "a write, answered with the report it decided",
    "mobility reports reject": "a write, answered with the report it decided",
    "mobility positions add": "a write",
    "log head": "the log's size and root: hashes only",
    "log consistency": "hashes of the log's subtrees, no entry's content or subject",
    "log publish": "a head appended to a file: hashes only",
    "log check": "checks files offline; opens no ledger",
    "log witness": "checks and cosigns heads offline; opens no ledger",
}
# GET routes that show no subject's data.
NOT_READ_ROUTES = {
    "/health": "the service's state",
    "/schemes": "definitions",
    "/schemes/{scheme_id}": "definitions",
    "/openapi.json": "the API's description",
    "/docs": "the API's documentation",
    "/redoc": "the API's documentation",
    "/": "the web's home: the schemes and the names of the published lists",
    "/catalogue/{scheme_id}": "a scheme as the public reads it",
    "/signin": "the sign-in form",
    "/lang/{locale}": "the language switch",
    "/console/import": "the import form, and the key's own imports",
    "/console/imports/{job_id}": "an import's counts and refused lines: what the key sent",
    "/console/imports/{job_id}/status": "an import's progress",
    "/console/imports/{job_id}/rejects.jsonl": "an import's refused lines: what the key sent",
    "/console/schemes": "definitions",
    "/console/schemes/{definition_id}": "definitions",
    "/console/statistics": "counts per grade and list: no subject's data",
    "/console/integrity": "the verify form",
    "/log/head": "the log's size and root: hashes only",
    "/log/consistency": "hashes of the log's subtrees, no entry's content or subject",
}


@dataclass
class Ledger:
    folder: Path
    db: Path
    record: str  # a record of RESIDENT's
    case: str  # a case of RESIDENT's
    keys: dict[str, tuple[str, str]]  # name -> (token, the actor the audit log names)

    def open(self) -> Services:
        return bootstrap.open(str(self.db), env={"SOCIALCREDIT_KEY": KEY})

    def reads(self, identifier: str) -> list[tuple[str, str, str]]:
        """(actor, purpose, what) of every read of the subject, oldest first."""
        with self.open() as services:
            key = services.subjects.identify(identifier).key
            return [(by, why, what) for _, by, why, what in services.uow.audit.access_log(key)]

    def decisions(self, identifier: str) -> list[tuple[str, str]]:
        with self.open() as services:
            key = services.subjects.identify(identifier).key
            return [(d.asked_by, d.action) for d in services.uow.audit.decisions(key)]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    folder = tmp_path_factory.mktemp("reads")
    db = folder / "city.db"
    with bootstrap.open(str(db), create=True, env={"SOCIALCREDIT_KEY": KEY}) as services:
        services.definitions.add_files([*shipped_scheme_files(), CONSENT_SCHEME])
        lines = [
            _line("r1", RESIDENT, "traffic-violation", 3),
            _line("d1", RESIDENT, "able-but-refusing", 5, scheme="spc-defaulters"),
            _line("f1", FIRM, "able-but-refusing", 6, scheme="spc-defaulters"),
        ]
        services.imports.import_records(enumerate(lines, 1))
        services.consents.set(RESIDENT, "deposit-club", "scoring", True, actor="setup")
        case = services.casework.contest("r1", "I was not there.", actor="setup")
        services.notices.sweep()
        rides = services.plugin("mobility")
        rides.add_zones("mobike-2018", ZONES, actor="setup")  # type: ignore[attr-defined]
        trip = {
            "id": "t1",
            "rider": RIDER,
            "bike": "b1",
            "started_at": (NOW - timedelta(hours=2, minutes=10)).isoformat(),
            "ended_at": (NOW - timedelta(hours=2)).isoformat(),
            "start_lon": 122.401,
            "start_lat": 37.151,
            "end_lon": 122.405,
            "end_lat": 37.155,
        }
        rides.import_trips([(1, trip)], scheme="mobike-2018")  # type: ignore[attr-defined]
        rides.reports.file("t1", REPORTER, "On the pavement.", actor="setup")  # type: ignore[attr-defined]
        keys = {}
        for name, role, authority, subject in (
            ("resident", "subject", None, RESIDENT),
            ("city-reviewer", "reviewer", "rongcheng-gov", None),
            ("rail", "checker", "china-railway", None),
            ("admin", "admin", None, None),
        ):
            stored, token = services.keys.create(
                role, authority=authority, subject=subject, actor="setup"
            )
            actor = f"key:{stored.id}" + (f"@{authority}" if authority else "")
            keys[name] = (token, actor)
    return Ledger(folder, db, "r1", case.id, keys)


def _line(id: str, subject: str, category: str, days: int, scheme: str = "rongcheng-personal"):
    occurred = NOW - timedelta(days=days)
    return {
        "id": id,
        "scheme": scheme,
        "category": category,
        "subject": subject,
        "occurred_at": occurred.isoformat(),
        "reported_at": (occurred + timedelta(hours=1)).isoformat(),
        "reporter": "test",
    }


# -- the command line -------------------------------------------------------------------


def _commands(group: Any, prefix: str = "") -> Iterator[str]:
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):  # a group of commands
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield prefix + name


# Each read: its arguments, the subject whose log must grow, and the purpose logged.
CLI_READS = {
    "score": ([RESIDENT], RESIDENT, "score enquiry"),
    "lists": (["spc-defaulters/dishonest-defaulters"], RESIDENT, "list enquiry"),
    "export": ([RESIDENT], RESIDENT, "access request (art. 15)"),
    "cases list": (["--status", "all"], RESIDENT, "case review"),
    "cases show": (["CASE"], RESIDENT, "case review"),
    "consent list": ([RESIDENT], RESIDENT, "consent enquiry"),
    "notices list": ([RESIDENT], RESIDENT, "notice enquiry"),
    "mobility reports list": (["--status", "all"], RIDER, "report review"),
    "log prove": (["r1"], RESIDENT, "inclusion proof"),
}
CLI_DECISIONS = {"check": [RESIDENT, "travel.air.ticket"]}


def test_every_command_is_a_read_or_says_why_not() -> None:
    commands = set(_commands(typer.main.get_command(cli_app)))  # type: ignore[arg-type]
    placed = set(NOT_READS) | set(CLI_READS) | set(CLI_DECISIONS)
    assert commands - placed == set(), "commands neither logged as reads nor said not to read"
    assert placed - commands == set(), "commands named here that the CLI lacks"


@pytest.mark.parametrize("command", sorted(CLI_READS))
def test_every_command_that_reads_logs_the_read_as_the_cli(ledger: Ledger, command: str) -> None:
    arguments, subject, purpose = CLI_READS[command]
    arguments = [ledger.case if a == "CASE" else a for a in arguments]
    before = ledger.reads(subject)
    _cli(ledger, *command.split(), *arguments)
    new = ledger.reads(subject)[len(before) :]
    assert [(by, why) for by, why, _ in new] == [("cli", purpose)], new


def test_a_check_from_the_cli_is_logged_as_a_decision_of_the_cli(ledger: Ledger) -> None:
    before = ledger.decisions(RESIDENT)
    _cli(ledger, "check", *CLI_DECISIONS["check"])
    assert ledger.decisions(RESIDENT)[len(before) :] == [("cli", "travel.air.ticket")]


def _cli(ledger: Ledger, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env.update(SOCIALCREDIT_DB=str(ledger.db), SOCIALCREDIT_KEY=KEY)
    done = subprocess.run(
        [str(BIN), *args], env=env, cwd=ledger.folder, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, (args, done.stdout, done.stderr)


# -- the HTTP API ---------------------------------------------------------------------------

# Each read: the path, the key, the subject whose log must grow, and the purpose logged.
HTTP_READS = {
    "/records/{record_id}": ("/records/r1", "resident", RESIDENT, "record enquiry"),
    "/cases": ("/cases?status=all", "city-reviewer", RESIDENT, "case review"),
    "/cases/{case_id}": ("/cases/CASE", "resident", RESIDENT, "subject access"),
    "/subjects/{identifier}/scores": (
        f"/subjects/{RESIDENT}/scores",
        "resident",
        RESIDENT,
        "score enquiry",
    ),
    "/subjects/{identifier}/decisions": (
        f"/subjects/{RESIDENT}/decisions",
        "resident",
        RESIDENT,
        "subject access",
    ),
    "/subjects/{identifier}/access-log": (
        f"/subjects/{RESIDENT}/access-log",
        "resident",
        RESIDENT,
        "subject access",
    ),
    "/subjects/{identifier}/export": (
        f"/subjects/{RESIDENT}/export",
        "resident",
        RESIDENT,
        "access request (art. 15)",
    ),
    "/subjects/{identifier}/consents": (
        f"/subjects/{RESIDENT}/consents",
        "resident",
        RESIDENT,
        "subject access",
    ),
    "/subjects/{identifier}/notices": (
        f"/subjects/{RESIDENT}/notices",
        "resident",
        RESIDENT,
        "subject access",
    ),
    "/lists/{scheme_id}/{list_id}": (
        "/lists/spc-defaulters/dishonest-defaulters",
        None,
        RESIDENT,
        "publication",
    ),
    "/mobility/reports": ("/mobility/reports?status=all", "admin", RIDER, "report review"),
    "/log/proof/{record_id}": ("/log/proof/r1", "resident", RESIDENT, "inclusion proof"),
}
HTTP_DECISIONS = {"/subjects/{identifier}/check": f"/subjects/{RESIDENT}/check"}


@pytest.fixture(scope="module")
def api(ledger: Ledger) -> Iterator[str]:
    with ledger.open() as services, serving(services) as url:
        yield url


def _get_paths(routes: Any) -> Iterator[str]:
    """Every GET route, those of included routers too (the web's are left out
    of the OpenAPI schema)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _get_paths(inner.routes)
        elif "GET" in (getattr(route, "methods", None) or ()):
            yield route.path


def test_every_get_route_is_a_read_or_says_why_not(ledger: Ledger) -> None:
    with ledger.open() as services:
        app = create_app(services)
    # Every documented route, and the few the schema leaves out (the docs themselves).
    routes = {path for path, operations in app.openapi()["paths"].items() if "get" in operations}
    routes |= set(_get_paths(app.routes))
    placed = set(NOT_READ_ROUTES) | set(HTTP_READS) | set(HTTP_DECISIONS) | set(WEB_READS)
    assert routes - placed == set(), "GET routes neither logged as reads nor said not to read"
    assert placed - routes == set(), "routes named here that the API lacks"


@pytest.mark.parametrize("route", sorted(HTTP_READS))
def test_every_route_that_reads_logs_the_read_as_the_key(
    ledger: Ledger, api: str, route: str
) -> None:
    path, key, subject, purpose = HTTP_READS[route]
    token, actor = ledger.keys[key] if key else ("", "public")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    before = ledger.reads(subject)
    answer = httpx.get(api + path.replace("CASE", ledger.case), headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    new = ledger.reads(subject)[len(before) :]
    assert [(by, why) for by, why, _ in new] == [(actor, purpose)], new


def test_a_refused_read_logs_nothing(ledger: Ledger, api: str) -> None:
    """A key that may not read the record gets 403, and nothing is logged as read."""
    token, _ = ledger.keys["rail"]
    before = ledger.reads(RESIDENT)
    answer = httpx.get(f"{api}/records/r1", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert ledger.reads(RESIDENT) == before


def test_a_check_over_http_is_logged_as_a_decision_of_the_key(ledger: Ledger, api: str) -> None:
    token, actor = ledger.keys["rail"]
    before = ledger.decisions(RESIDENT)
    path = HTTP_DECISIONS["/subjects/{identifier}/check"]
    answer = httpx.get(
        f"{api}{path}",
        params={"action": "travel.rail.highspeed"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    assert ledger.decisions(RESIDENT)[len(before) :] == [(actor, "travel.rail.highspeed")]


# -- the web ----------------------------------------------------------------------------------

# Each page that reads: its path, the key signed in (None: the public), the
# subject whose log must grow, and the purposes logged, in order.
WEB_READS = {
    "/published/{scheme_id}/{list_id}": (
        "/published/spc-defaulters/dishonest-defaulters",
        None,
        RESIDENT,
        ("publication",),
    ),
    "/report/{identifier}": (f"/report/{FIRM}", None, FIRM, ("publication",)),
    "/me": ("/me", "resident", RESIDENT, ("subject access (web)",)),
    "/me/export.json": ("/me/export.json", "resident", RESIDENT, ("access request (art. 15)",)),
    "/me/proof/{record_id}.json": (
        "/me/proof/r1.json",
        "resident",
        RESIDENT,
        ("inclusion proof",),
    ),
    "/console": ("/console", "city-reviewer", RESIDENT, ("case review",)),
    # The case, then the record it is about.
    "/console/cases/{case_id}": (
        "/console/cases/CASE",
        "city-reviewer",
        RESIDENT,
        ("case review", "case review"),
    ),
}


def _web_client(api: str, ledger: Ledger, key: str | None) -> httpx.Client:
    """A browser's session: signed in with the key, if one is named."""
    client = httpx.Client(base_url=api, timeout=30)
    if key is not None:
        form = client.get("/signin").text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed = client.post("/signin", data={"key": ledger.keys[key][0], "csrf": csrf})
        assert signed.status_code in (200, 303), signed.text
    return client


@pytest.mark.parametrize("route", sorted(WEB_READS))
def test_every_page_that_reads_logs_the_read_as_the_key_through_the_web(
    ledger: Ledger, api: str, route: str
) -> None:
    path, key, subject, purposes = WEB_READS[route]
    actor = "web" if key is None else "web:" + ledger.keys[key][1]
    client = _web_client(api, ledger, key)
    try:
        before = ledger.reads(subject)
        answer = client.get(path.replace("CASE", ledger.case))
        assert answer.status_code == 200, answer.text
    finally:
        client.close()
    new = ledger.reads(subject)[len(before) :]
    assert [(by, why) for by, why, _ in new] == [(actor, p) for p in purposes], new
