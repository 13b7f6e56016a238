"""Every page in both languages passes axe-core (through Playwright) with no
serious or critical violation, and the contest form works from the keyboard
alone."""

from __future__ import annotations

from typing import Any

import pytest
from test_journeys import sign_in

from conftest import FIRM, RESIDENT, Site, needs_chromium

pytestmark = needs_chromium

PUBLIC = [
    "/",
    "/catalogue/rongcheng-personal",
    "/catalogue/spc-defaulters",
    "/published/spc-defaulters/dishonest-defaulters",
    f"/report/{FIRM}",
    "/signin",
    "/no-such-page",
]
SIGNED_IN = {
    "resident": ["/me"],
    "court-reviewer": ["/console", "/console/statistics?scheme=rongcheng-personal"],
    "court-reporter": ["/console/import", "/console/schemes"],
    "admin": ["/console/schemes", "/console/schemes/spc-defaulters", "/console/integrity"],
}


def _violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
def test_no_page_has_a_serious_accessibility_violation(
    site: Site, browser: Any, locale: str
) -> None:
    found: dict[str, list[str]] = {}
    public = browser.new_context(locale=locale).new_page()
    for path in PUBLIC:
        public.goto(f"{site.url}{path}")
        found[path] = _violations(public)
    for who, paths in SIGNED_IN.items():
        page = browser.new_context(locale=locale).new_page()
        sign_in(page, site, who)
        for path in paths:
            page.goto(f"{site.url}{path}")
            found[f"{who}:{path}"] = _violations(page)
            found.update(_after_a_form(page, who, path))
    assert {path: v for path, v in found.items() if v} == {}


def _after_a_form(page: Any, who: str, path: str) -> dict[str, list[str]]:
    """The pages a console form leads to: a case, an import's result, a
    definition checked before it is added, verify's answer."""
    if path == "/console" and page.locator("tbody a").count():
        page.locator("tbody a").first.click()
        return {f"{who}:case": _violations(page)}
    if path == "/console/import":
        page.locator("#file").set_input_files(
            files=[{"name": "bad.jsonl", "mimeType": "application/x-ndjson", "buffer": b"{x\n"}]
        )
        page.locator("form#upload button[type=submit]").click()
        page.locator("a[download]").wait_for()
        return {f"{who}:import": _violations(page)}
    if path == "/console/schemes" and who == "admin":
        page.locator("#definition-text").fill("type: scheme\nid: x\n")
        page.locator("form#add-definition button[type=submit]").click()
        return {f"{who}:preview": _violations(page)}
    if path == "/console/integrity":
        page.locator("main form button[type=submit]").click()
        return {f"{who}:verify": _violations(page)}
    return {}


def test_the_contest_form_works_from_the_keyboard_alone(site: Site, browser: Any) -> None:
    page = browser.new_context().new_page()
    sign_in(page, site, "resident")
    statement = page.locator("#contest-statement")
    # Tab to the contest form's record choice, as a keyboard user would.
    page.locator("body").focus()
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "contest-record":
            break
    assert page.evaluate("document.activeElement.id") == "contest-record"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "contest-statement"
    page.keyboard.type("Keyboard only: the record names the wrong car.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/me?done=contest*")
    assert statement.count() == 1
    cases = page.locator("section", has=page.get_by_role("heading", name="My cases"))
    assert "contest" in cases.inner_text()
    assert RESIDENT.split(":")[1] not in page.content()
