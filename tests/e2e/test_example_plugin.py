"""The example plugin of docs/plugins.md, loaded the way any plugin is: through
an entry point of the ``socialcredit`` group, found on the path like an
installed package's. It brings its own table, service, command and part of
the access export, and its records go through the core's rules."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialcredit import bootstrap
from socialcredit.adapters.shipped import shipped_scheme_files
from socialcredit.domain.identity import generate_ric
from socialcredit.entrypoints.views import export_html, export_view
from socialcredit.errors import UsageError
from socialcredit.hooks import new_plugin_manager
from socialcredit.testing import location

EXAMPLE = Path(__file__).parents[2] / "examples" / "volunteer_hours"
BIN = Path(sys.executable).parent / "socialcredit"
KEY = {"SOCIALCREDIT_KEY": "ab" * 32}
RESIDENT = "cn-ric:" + generate_ric(__import__("random").Random(8))


def _installed(folder: Path) -> Path:
    """A folder that holds the example's package metadata, as pip would write it."""
    info = folder / "socialcredit_volunteer_hours-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: socialcredit-volunteer-hours\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[socialcredit]\nvolunteer_hours = volunteer_hours.plugin\n"
    )
    return folder


def test_the_plugin_loads_through_its_entry_point_and_works_through_the_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.syspath_prepend(str(_installed(tmp_path / "site")))
    manager = new_plugin_manager()
    manager.load_setuptools_entrypoints("socialcredit")
    assert manager.get_plugin("volunteer_hours") is not None
    assert manager.get_plugin("mobility") is not None  # the pilots are found the same way

    services = bootstrap.open(
        location(tmp_path / "city.db"),
        create=True,
        clock=lambda: datetime(2025, 6, 1, tzinfo=UTC),
        env=KEY,
        plugins=manager,
    )
    assert ("volunteer-hours", 1) in services.migrated
    services.definitions.add_files(shipped_scheme_files())
    centre = services.plugin("volunteer-hours")

    assert centre.give(RESIDENT, 5, centre="harbour-centre", actor="cli") == 0  # type: ignore[attr-defined]
    assert centre.give(RESIDENT, 4, centre="harbour-centre", actor="cli") == 1  # type: ignore[attr-defined]
    assert centre.give(RESIDENT, 2, centre="harbour-centre", actor="cli") == 1  # type: ignore[attr-defined]
    with pytest.raises(UsageError, match="hours: 30"):
        centre.give(RESIDENT, 30, centre="harbour-centre", actor="cli")  # type: ignore[attr-defined]

    _, [personal] = services.checks.scores(RESIDENT, scheme="rongcheng-personal", actor="cli")
    assert personal.explanation.score == 1002  # one volunteering record, +2
    assert [c.category for c in personal.explanation.counted] == ["volunteering-8h"]
    held = services.export.access_export(RESIDENT, actor="cli")
    assert [row["hours"] for row in export_view(held)["volunteer_hours"]["hours"]] == [5, 4, 2]
    assert "Volunteer hours" in export_html(held)
    assert services.integrity.verify() == []
    services.close()


def test_the_plugins_command_runs_in_the_installed_cli(tmp_path: Path) -> None:
    if os.environ.get("SOCIALCREDIT_TEST_PG"):
        pytest.skip("the command line's ledger here is a SQLite file")
    site = _installed(tmp_path / "site")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env.update(
        SOCIALCREDIT_DB=str(tmp_path / "city.db"),
        SOCIALCREDIT_KEY="ab" * 32,
        PYTHONPATH=os.pathsep.join([str(EXAMPLE), str(site)]),
    )

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(BIN), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    assert "volunteer-hours 1" in run("init")
    run("schemes", "add", *map(str, shipped_scheme_files()))
    assert "1 volunteering records" in run(
        "volunteer", "give", RESIDENT, "--hours", "8", "--centre", "harbour-centre"
    )
    assert '"score": 1002' in run("score", RESIDENT, "--scheme", "rongcheng-personal", "--json")


def test_every_call_the_plugin_guide_names_exists(tmp_path: Path) -> None:
    """docs/plugins.md lists the use cases a plugin may call: each must be there,
    so the guide cannot drift from the code it describes."""
    guide = (Path(__file__).parents[2] / "docs" / "plugins.md").read_text("utf-8")
    named = sorted(set(re.findall(r"`services\.(\w+)\.(\w+)\(", guide)))
    assert len(named) >= 6, named
    services = bootstrap.open(str(tmp_path / "city.db"), create=True)
    try:
        for use_case, method in named:
            assert callable(getattr(getattr(services, use_case), method)), (use_case, method)
    finally:
        services.close()
