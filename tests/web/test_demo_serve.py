"""``socialcredit demo --serve``: after the demo, the web on the demo town, with
a subject key for the resident the demo showed denied, reviewer and reporter
keys of the authority that denied them, and an admin key, each with the page to open."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from conftest import BIN
from socialcredit.testing import free_port

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SOCIALCREDIT_TEST_PG")), reason="the demo runs on its own SQLite file"
)


def test_the_demo_serves_the_web_and_prints_keys_to_sign_in_with(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    command = [str(BIN), "demo", "--db", str(tmp_path / "demo.db"), "--people", "400"]
    command += ["--businesses", "40", "--institutions", "5", "--serve", "--port", str(port)]
    server = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    printed: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while not any(line.startswith("  admin key:") for line in printed):
            line = server.stdout.readline()  # type: ignore[union-attr]
            if (not line and server.poll() is not None) or time.monotonic() > deadline:
                raise AssertionError("".join(printed))
            printed.append(line)
        text = "".join(printed)
        keys = dict(re.findall(r"^  (\w+) key: (sck_\S+)", text, re.M))
        assert set(keys) == {"subject", "reviewer", "reporter", "admin"}, text
        url = f"http://127.0.0.1:{port}"
        assert f"the public portal:  {url}/" in text
        for _ in range(100):
            try:
                home = httpx.get(url + "/", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert home.status_code == 200 and "Schemes and published lists" in home.text
        with httpx.Client(base_url=url, timeout=30) as browser:
            csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/signin").text)
            assert csrf is not None
            signed = browser.post("/signin", data={"key": keys["subject"], "csrf": csrf[1]})
            assert signed.headers["location"] == "/me"
            me = browser.get("/me")
            assert me.status_code == 200 and "deny" in me.text  # the denial, with its reasons
    finally:
        server.terminate()
        server.wait(timeout=30)
