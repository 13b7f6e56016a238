"""The console beyond the case queue, in Chromium against a real server: a
reporter imports a file and downloads its rejects; an admin checks a scheme
before adding it and sees its versions; the grade and list charts; verify
and the ledger root; and who may open what."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_journeys import sign_in

from conftest import NOW, RESIDENT, Site, needs_chromium
from socialcredit.domain.identity import generate_ric

pytestmark = needs_chromium

# Over two of the server's import slices (5,000 lines), so the import is
# seen part-way through.
LARGE = 12_000


def _record(number: int, subject: str, scheme: str = "spc-defaulters") -> dict[str, str]:
    occurred = (NOW - timedelta(days=10, minutes=number)).isoformat()
    return {
        "id": f"up-{number}",
        "scheme": scheme,
        "category": "obstructing-enforcement",
        "subject": subject,
        "occurred_at": occurred,
        "reported_at": occurred,
    }


def _upload_file(folder: Path) -> tuple[Path, dict[str, int]]:
    """LARGE lines for the court's scheme, with a duplicate, a line that is
    not JSON, a line without a subject, and a line for the city's scheme,
    which a reporter of the court may not write to."""
    rng = random.Random(7)
    lines = [json.dumps(_record(n, "cn-ric:" + generate_ric(rng))) for n in range(LARGE)]
    lines[100] = lines[99]  # the same record again: a duplicate
    lines[2_000] = "{not json"
    missing = _record(LARGE + 1, "")
    del missing["subject"]
    lines[7_000] = json.dumps(missing)
    city = _record(LARGE + 2, RESIDENT, scheme="rongcheng-personal")
    city["category"] = "drunk-driving"
    lines[11_000] = json.dumps(city)
    path = folder / "court-batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, {"accepted": LARGE - 4, "duplicates": 1, "rejected": 3}


def _count(page: Any, name: str) -> int:
    return int(page.locator(f"#import-counts .{name}").inner_text().replace(",", ""))


def test_a_reporter_imports_a_file_and_downloads_its_rejects(site: Site, browser: Any) -> None:
    path, expected = _upload_file(site.folder)
    page = browser.new_context(accept_downloads=True).new_page()
    sign_in(page, site, "court-reporter")
    assert page.url.endswith("/console/import")
    page.get_by_label("Records file (.csv or .jsonl)").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/console/imports/**")
    assert page.locator("progress#import-progress").count() == 1
    # The page polls while the import runs, then reloads with the rejects.
    link = page.get_by_role("link", name="Download the rejected lines with their reasons")
    link.wait_for(timeout=120_000)
    counts = {name: _count(page, name) for name in expected}
    assert counts == expected
    with page.expect_download() as download:
        link.click()
    rejects = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
    assert [r["line"] for r in rejects] == [2_001, 7_001, 11_001]
    assert "not valid JSON" in rejects[0]["reason"]
    assert rejects[1]["reason"].startswith("subject:")
    assert rejects[2]["reason"].startswith("scheme:") and "spc" in rejects[2]["reason"]
    # The records are in the ledger, reported by the key's authority.
    with site.api("court-reviewer") as api:
        record = api.get("/records/up-5").json()
    assert record["reporter"] == "spc"


def test_an_import_is_seen_only_by_the_key_that_started_it(site: Site) -> None:
    with httpx.Client(base_url=site.url, follow_redirects=False) as client:
        csrf = _signed_in(client, site.keys["court-reporter"])
        files = {"file": ("one.jsonl", json.dumps(_record(99_999, RESIDENT)).encode())}
        posted = client.post("/console/import", data={"csrf": csrf}, files=files)
        assert posted.status_code == 303
        job = posted.headers["location"]
        assert client.get(job).status_code == 200
    with httpx.Client(base_url=site.url, follow_redirects=False) as other:
        _signed_in(other, site.keys["admin"])
        assert other.get(job).status_code == 403  # an admin key is not a reporter
        assert other.get(f"{job}/rejects.jsonl").status_code == 403


def test_an_upload_without_the_form_token_is_refused(site: Site) -> None:
    with httpx.Client(base_url=site.url, follow_redirects=False) as client:
        _signed_in(client, site.keys["court-reporter"])
        files = {"file": ("one.jsonl", b"{}")}
        refused = client.post("/console/import", data={"csrf": "forged"}, files=files)
    assert refused.status_code == 403


SCHEME = """\
type: scheme
id: blood-donors
title: Blood donors' honour roll
authority: {id: county-health, name: County health bureau, kind: government}
context: civic
lawful_basis: public_task
subjects: [person]
retention: P3Y
score: {base: 100}
categories:
  - {code: blood, title: Blood donation, points: 10, severity: minor, validity: P1Y,
     data_categories: [user.health], legal_basis: "County health bureau notice"}
"""


def test_an_admin_checks_a_scheme_before_adding_it(site: Site, browser: Any) -> None:
    page = browser.new_context().new_page()
    sign_in(page, site, "admin")
    page.goto(f"{site.url}/console/schemes")
    page.get_by_label("Or paste its text").fill(SCHEME)
    page.get_by_role("button", name="Check and lint").click()
    findings = page.locator("section", has=page.get_by_role("heading", name="Checked against"))
    # Health data with no art. 9(2) condition: an error, with how to fix it.
    assert "GDPR art. 9" in findings.inner_text() and "How to fix:" in findings.inner_text()
    with site.api("admin") as api:
        assert api.get("/schemes/blood-donors").status_code == 404  # not added yet
    page.get_by_role("button", name="Add it").click()
    assert "/console/schemes/blood-donors?added=1" in page.url
    assert "Added as version 1." in page.inner_text("main")
    # A second version, with the condition named, shows next to the first.
    page.goto(f"{site.url}/console/schemes")
    fixed = SCHEME.replace(
        '"County health bureau notice"}',
        '"County health bureau notice", special_condition: {condition: explicit-consent}}',
    )
    page.get_by_label("Or paste its text").fill(fixed)
    page.get_by_role("button", name="Check and lint").click()
    page.get_by_role("button", name="Add it").click()
    versions = page.get_by_role("table", name="Versions").locator("tbody tr")
    assert versions.count() == 2


def test_an_invalid_definition_is_shown_with_its_problems_and_cannot_be_added(
    site: Site, browser: Any
) -> None:
    page = browser.new_context().new_page()
    sign_in(page, site, "admin")
    page.goto(f"{site.url}/console/schemes")
    page.get_by_label("Or paste its text").fill(SCHEME.replace("retention: P3Y\n", ""))
    page.get_by_role("button", name="Check and lint").click()
    assert "It cannot be added" in page.inner_text("main")
    assert "retention" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name="Add it").count() == 0


def test_the_grade_and_list_charts(site: Site, browser: Any) -> None:
    page = browser.new_context().new_page()
    sign_in(page, site, "court-reviewer")
    page.goto(f"{site.url}/console/statistics?scheme=spc-defaulters")
    for summary in page.locator("figure.bars summary").all():
        summary.click()  # the numbers behind each chart
    lists = page.get_by_role("table", name="Subjects on each list")
    row = lists.locator("tr", has=page.get_by_role("rowheader", name="dishonest-defaulters"))
    assert int(row.locator("td").inner_text().replace(",", "")) >= 2
    assert page.locator("figure.bars svg rect.bar").count() >= 1
    page.goto(f"{site.url}/console/statistics?scheme=rongcheng-personal")
    page.locator("figure.bars summary").first.click()
    grades = page.get_by_role("table", name="Subjects by grade")
    assert grades.locator("tr").count() == 6  # AAA, AA, A, B, C, D


def test_an_admin_verifies_the_ledger(site: Site, browser: Any) -> None:
    page = browser.new_context().new_page()
    sign_in(page, site, "admin")
    page.goto(f"{site.url}/console/integrity")
    page.get_by_role("button", name="Verify").click()
    assert "The ledger is intact" in page.inner_text("main")
    root = page.locator("code.root").inner_text()
    assert len(root) == 64
    page.get_by_label("A ledger root kept earlier (optional)").fill("00" * 32)
    page.get_by_role("button", name="Verify").click()
    assert "not the " + "00" * 32 in page.inner_text("main")


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("resident", "/console/import", 403),
        ("resident", "/console/schemes", 403),
        ("court-reporter", "/console", 403),
        ("court-reporter", "/console/statistics", 403),
        ("court-reviewer", "/console/import", 403),
        ("court-reviewer", "/console/integrity", 403),
        ("court-reporter", "/console/schemes", 200),
        ("admin", "/console/integrity", 200),
    ],
)
def test_each_role_opens_only_its_pages(site: Site, who: str, path: str, status: int) -> None:
    with httpx.Client(base_url=site.url, follow_redirects=False) as client:
        _signed_in(client, site.keys[who])
        assert client.get(path).status_code == status


def test_only_an_admin_adds_a_definition(site: Site) -> None:
    with httpx.Client(base_url=site.url, follow_redirects=False) as client:
        csrf = _signed_in(client, site.keys["court-reviewer"])
        refused = client.post("/console/schemes/add", data={"csrf": csrf, "text": SCHEME})
    assert refused.status_code == 403


def _signed_in(client: httpx.Client, key: str) -> str:
    """Sign ``client`` in with ``key``; the session's form token."""
    form = client.get("/signin")
    csrf = _token(form.text)
    answer = client.post("/signin", data={"key": key, "csrf": csrf, "next": ""})
    assert answer.status_code == 303, answer.text
    return _token(client.get("/signin").text)


def _token(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
