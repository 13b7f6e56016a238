"""The web's journeys end to end, in Chromium against a real server: the
public finds a defaulter and a business report; a resident sees why a
promotion was denied and contests the record; a reviewer overturns it in the
console; the resident's next check is allowed, and the reviewer's read is in
the resident's access log."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import DEFAULTER, FIRM, RESIDENT, Site, needs_chromium

pytestmark = needs_chromium


def sign_in(page: Any, site: Site, who: str) -> None:
    """Sign in as ``who``, whatever the page's language."""
    page.goto(f"{site.url}/signin")
    page.locator("#key").fill(site.keys[who])
    page.locator("main form button[type=submit]").click()


def test_the_public_finds_a_defaulter_and_a_business_report(site: Site, browser: Any) -> None:
    page = browser.new_page()
    page.goto(site.url)
    page.get_by_role("link", name="List of dishonest judgment defaulters", exact=True).click()
    page.get_by_label("Find an identifier").fill(DEFAULTER)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr")
    assert rows.count() == 1
    masked = rows.first.locator("code").inner_text()
    assert "*" in masked and DEFAULTER.split(":")[1] not in page.content()
    page.goto(f"{site.url}/report/{FIRM}")
    assert page.get_by_role("heading", name="Public credit report").is_visible()
    assert "dishonest-defaulters" in page.locator("table").first.inner_text()
    # A person gets no public report.
    response = page.goto(f"{site.url}/report/{RESIDENT}")
    assert response is not None and response.status == 403
    page.close()


def test_a_resident_contests_a_denial_and_a_reviewer_overturns_it(site: Site, browser: Any) -> None:
    with site.api("city-checker") as api:
        denied = api.get(
            f"/subjects/{RESIDENT}/check", params={"action": "civil-service.promotion"}
        ).json()
    assert denied["effect"] == "deny"

    resident = browser.new_context().new_page()
    sign_in(resident, site, "resident")
    assert resident.url.endswith("/me")
    decisions = resident.locator(
        "section", has=resident.get_by_role("heading", name="Decisions about me")
    )
    assert "civil-service.promotion" in decisions.inner_text()
    assert "grade C" in decisions.inner_text() or "C" in decisions.inner_text()
    score_before = resident.locator("p.score strong").first.inner_text()

    form = resident.locator("form#contest")
    form.get_by_label("Record").select_option("w-drunk")
    form.get_by_label("Your statement").fill("The breath test was never calibrated.")
    form.get_by_role("button", name="Contest a record").click()
    assert "/me?done=contest" in resident.url
    assert resident.locator("p.score strong").first.inner_text() != score_before
    cases = resident.locator("section", has=resident.get_by_role("heading", name="My cases"))
    assert "contest" in cases.inner_text() and "open" in cases.inner_text()

    reviewer = browser.new_context().new_page()
    sign_in(reviewer, site, "city-reviewer")
    assert reviewer.url.endswith("/console")
    reviewer.locator("tbody a").first.click()
    assert "The breath test was never calibrated." in reviewer.content()
    reviewer.get_by_label("overturned", exact=False).check()
    reviewer.get_by_label("Reason (the subject reads it)").fill(
        "The device had no calibration record."
    )
    reviewer.get_by_role("button", name="Decide").click()
    assert "/console?done=" in reviewer.url

    with site.api("city-checker") as api:
        allowed = api.get(
            f"/subjects/{RESIDENT}/check", params={"action": "civil-service.promotion"}
        ).json()
    assert allowed["effect"] == "allow"
    resident.reload()
    reads = resident.locator(
        "section", has=resident.get_by_role("heading", name="Who read my data")
    )
    assert "@rongcheng-gov" in reads.inner_text() and "web:key:" in reads.inner_text()
    cases = resident.locator("section", has=resident.get_by_role("heading", name="My cases"))
    assert "overturned" in cases.inner_text()


def test_a_form_without_its_token_is_refused(site: Site, browser: Any) -> None:
    page = browser.new_context().new_page()
    sign_in(page, site, "resident")
    response = page.request.post(
        f"{site.url}/me/contest", form={"record": "w-drunk", "statement": "again"}
    )
    assert response.status == 403
    assert "did not come from this site" in response.text()


def test_a_wrong_key_and_the_role_limits(site: Site, browser: Any) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{site.url}/signin")
    page.get_by_label("Key").fill("sck_nothing_here")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That key is not valid")
    sign_in(page, site, "resident")
    response = page.goto(f"{site.url}/console")
    assert response is not None and response.status == 403
    reviewer = browser.new_context().new_page()
    sign_in(reviewer, site, "court-reviewer")
    # The court's reviewer sees only the court's cases: none of the city's.
    assert "No open case." in reviewer.content() or "w-drunk" not in reviewer.content()
    response = reviewer.goto(f"{site.url}/me")
    assert response is not None and response.status == 403
    checker = browser.new_context().new_page()
    checker.goto(f"{site.url}/signin")
    checker.get_by_label("Key").fill(site.keys["city-checker"])
    checker.get_by_role("button", name="Sign in").click()
    assert "reporter, reviewer and admin keys" in checker.get_by_role("alert").inner_text()


def test_the_pages_in_chinese_and_english(site: Site, browser: Any) -> None:
    chinese = browser.new_context(locale="zh-CN").new_page()
    chinese.goto(site.url)
    assert chinese.locator("html").get_attribute("lang") == "zh-Hans"
    assert chinese.get_by_role("heading", name="评价体系与公示名单").is_visible()
    chinese.get_by_role("link", name="English").click()
    assert chinese.locator("html").get_attribute("lang") == "en"
    assert chinese.get_by_role("heading", name="Schemes and published lists").is_visible()


@pytest.mark.parametrize("path", ["/", "/catalogue/rongcheng-personal"])
def test_security_headers(site: Site, browser: Any, path: str) -> None:
    page = browser.new_page()
    response = page.goto(f"{site.url}{path}")
    assert response is not None
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
