"""A person uses the API from the /docs page in a real browser (Debian's
Chromium driven by Playwright): authorise with a key, try the check
operation, and read the decision with its reasons."""

from __future__ import annotations

import pytest

from conftest import RESIDENT, Service, record
from socialcredit.testing import CHROMIUM, CHROMIUM_ARGS


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_a_check_can_be_tried_from_the_docs_page(service: Service) -> None:
    from playwright.sync_api import expect, sync_playwright

    with service.client("court") as http:
        http.post(
            "/records",
            json=record("docs-spc", RESIDENT, "able-but-refusing", 20, scheme="spc-defaulters"),
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.goto(f"{service.url}/docs")
            page.locator("button.authorize").first.click()
            page.locator(".auth-container input").first.fill(service.keys["rail"])
            page.locator(".auth-btn-wrapper button.authorize").click()
            page.locator("button.btn-done").click()
            operation = page.locator(".opblock", has_text="/subjects/{identifier}/check")
            operation.locator(".opblock-summary").click()
            operation.locator("button.try-out__btn").click()
            operation.locator('input[placeholder="identifier"]').fill(RESIDENT)
            operation.locator('input[placeholder="action"]').fill("travel.rail.highspeed")
            operation.locator("button.execute").click()
            response = operation.locator(
                ".live-responses-table tr.response .response-col_status"
            ).first
            expect(response).to_have_text("200", timeout=15_000)
            body = operation.locator(".live-responses-table").inner_text()
            assert '"effect": "deny"' in body and "dishonest-defaulters" in body
            page.screenshot(path=str(service.folder / "docs-check.png"), full_page=False)
        finally:
            browser.close()
