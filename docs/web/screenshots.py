"""Take the screenshots in this folder: the main pages of the web, in English
and Simplified Chinese, at desktop and phone widths, on the test town of
tests/web (a resident caught drunk driving, a defaulter, a defaulting firm).

    .venv/bin/python docs/web/screenshots.py

Needs Chromium, and a CJK font for the Chinese pages (apt-get install
chromium fonts-noto-cjk)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "web"))
import conftest as town  # noqa: E402
from socialcredit.testing import CHROMIUM, CHROMIUM_ARGS, free_port, wait_until_up  # noqa: E402

WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-GB", "zh": "zh-CN"}


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="sc-shots-"))
    keys = town._ledger(folder / "city.db")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["SOCIALCREDIT_KEY"] = town.KEY
    server = subprocess.Popen(
        [str(town.BIN), "serve", "--db", str(folder / "city.db"), "--port", str(port)], env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        httpx.get(
            f"{url}/subjects/{town.RESIDENT}/check",
            params={"action": "civil-service.promotion"},
            headers={"Authorization": f"Bearer {keys['city-checker']}"},
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            for language, locale in LOCALES.items():
                for width, viewport in WIDTHS.items():
                    context = browser.new_context(locale=locale, viewport=viewport)
                    page = context.new_page()
                    shoot = _shooter(page, language, width)
                    page.goto(url)
                    shoot("home")
                    page.goto(f"{url}/catalogue/rongcheng-personal")
                    shoot("catalogue")
                    _sign_in(page, url, keys["resident"])
                    shoot("me")
                    context.close()
                    context = browser.new_context(locale=locale, viewport=viewport)
                    page = context.new_page()
                    shoot = _shooter(page, language, width)
                    _sign_in(page, url, keys["court-reviewer"])
                    shoot("console")
                    page.goto(f"{url}/console/statistics?scheme=rongcheng-personal")
                    shoot("statistics")
                    context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)


def _shooter(page: Page, language: str, width: str):
    def shoot(name: str) -> None:
        page.screenshot(path=str(HERE / f"{name}-{language}-{width}.png"))

    return shoot


def _sign_in(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/signin")
    page.locator("#key").fill(key)
    page.locator("main form button[type=submit]").click()


if __name__ == "__main__":
    main()
