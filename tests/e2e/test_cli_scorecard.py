"""``socialcredit scorecard synthetic`` and ``scorecard fit``, run as the installed command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from socialcredit.adapters.shipped import shipped_scheme_files, shipped_schemes_dir

BIN = Path(sys.executable).parent / "socialcredit"
TEMPLATE = shipped_schemes_dir() / "sesame-credit.yaml"


def run(folder: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env.update(SOCIALCREDIT_DB=str(folder / "ledger.db"), SOCIALCREDIT_KEY="ef" * 32)
    done = subprocess.run(
        [str(BIN), *args], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, (args, done.stdout, done.stderr)
    return done


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = tmp_path_factory.mktemp("scorecard")
    made = run(found, "scorecard", "synthetic", "people.csv", "--rows", "6000", "--seed", "9")
    assert made.stdout.strip() == "wrote 6000 rows to people.csv"
    return found


def test_fit_writes_a_scheme_and_reports_discrimination(folder: Path) -> None:
    args = ["scorecard", "fit", "people.csv", "--target", "bad", "--template", str(TEMPLATE)]
    report = json.loads(run(folder, *args, "--seed", "4", "--json").stdout)
    assert report["out"] == "people.scheme.yaml"
    train, test = report["metrics"]
    assert (train["split"], test["split"]) == ("train", "test")
    assert (train["rows"], test["rows"]) == (4200, 1800)
    assert 0.75 < test["auc"] < 0.9
    assert test["gini"] == pytest.approx(2 * test["auc"] - 1)
    assert abs(test["auc_points"] - test["auc"]) < 0.005
    assert [f["factor"] for f in report["factors"]][:2] == ["on-time-ratio", "account-age"]

    written = folder / "people.scheme.yaml"
    data = yaml.safe_load(written.read_text())
    assert data["score"] == {"base": report["base"], "min": 350, "max": 950}
    assert data["id"] == "sesame-credit" and data["recompute"] == "monthly"
    first = report["factors"][0]
    assert [b["points"] for b in data["scorecard"]["dimensions"][0]["factors"][0]["bins"]] == (
        first["points"]
    )
    # The fitted file is a valid scheme: it lints, and it adds as a new version.
    assert "error" not in run(folder, "schemes", "lint", "--profile", "eu", str(written)).stdout
    run(folder, "init")
    run(folder, "schemes", "add", *map(str, shipped_scheme_files()))
    added = run(folder, "schemes", "add", str(written), "--json").stdout
    assert json.loads(added)[0]["version"] == 2


def test_fit_prints_tables_for_people(folder: Path) -> None:
    done = run(
        folder,
        "scorecard",
        "fit",
        "people.csv",
        "--target",
        "bad",
        "--template",
        str(TEMPLATE),
        "--out",
        "mine.yaml",
        "--pdo",
        "40",
        "--anchor",
        "600:20",
    )
    out = done.stdout
    assert "wrote mine.yaml" in out
    assert "PDO 40" in out
    for heading in ("split", "AUC", "Gini", "test", "train", "dimension", "factor", "IV"):
        assert heading in out
    assert (folder / "mine.yaml").exists()


def test_fit_errors_are_one_line(folder: Path) -> None:
    missing = run(
        folder,
        "scorecard",
        "fit",
        "people.csv",
        "--target",
        "default",
        "--template",
        str(TEMPLATE),
        code=1,
    )
    assert missing.stderr.splitlines() == [
        "error: people.csv: no column 'default' (the template's factor ids and the target)"
    ]
    plain = shipped_schemes_dir() / "rongcheng-personal.yaml"
    refused = run(
        folder,
        "scorecard",
        "fit",
        "people.csv",
        "--target",
        "bad",
        "--template",
        str(plain),
        code=1,
    )
    assert refused.stderr.startswith("error: ") and "is not a scorecard scheme" in refused.stderr
    (folder / "copy.yaml").write_text(TEMPLATE.read_text())
    same = run(
        folder,
        "scorecard",
        "fit",
        "people.csv",
        "--target",
        "bad",
        "--template",
        "copy.yaml",
        "--out",
        "copy.yaml",
        code=1,
    )
    assert "is the template" in same.stderr
    bad_anchor = run(
        folder,
        "scorecard",
        "fit",
        "people.csv",
        "--target",
        "bad",
        "--template",
        str(TEMPLATE),
        "--anchor",
        "600",
        code=1,
    )
    assert bad_anchor.stderr.strip() == "error: --anchor: '600' is not SCORE:ODDS, e.g. 600:20"
