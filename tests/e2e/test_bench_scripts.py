"""The core benchmarks run end to end on a small ledger and print what their
docstrings promise: one JSON line with the issue's keys, figures that add up.

Timings are never asserted (they belong to the benchmarks, not the tests);
only that the scripts still run against the code and report every figure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "bench"
SMALL = ["--records", "6000", "--subjects", "600", "--samples", "60"]


def _run(script: str, arguments: list[str] = SMALL) -> dict[str, Any]:
    """The script's one JSON line."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    found: dict[str, Any] = json.loads(lines[0])
    return found


def test_the_core_benchmark_reports_every_figure_the_issue_names() -> None:
    found = _run("core.py")
    keys = {
        "import_records_per_s",
        "score_p50_us",
        "score_p99_us",
        "check_p50_us",
        "check_p99_us",
        "baseline_sqlite_insert_rows_per_s",
        "baseline_sqlite_lookup_p50_us",
    }
    assert keys <= found.keys()
    assert found["records"] == 6000
    assert all(isinstance(found[key], int | float) and found[key] > 0 for key in keys)


def test_the_stage_benchmark_accounts_for_each_stage_of_a_check() -> None:
    found = _run("check_stages.py")
    stages = found["stages_p50_us"]
    assert isinstance(stages, dict)
    assert set(stages) == {
        "read",
        "evaluate",
        "links",
        "decide",
        "override",
        "reasons",
        "audit_write",
    }
    assert found["checks"] == 60
    assert all(value > 0 for value in stages.values())
    check = found["check_p50_us"]
    assert isinstance(check, float) and all(value < check for value in stages.values())
    assert found["baseline_sqlite_lookup_p50_us"] > 0  # type: ignore[operator]


def test_the_web_benchmark_reports_render_times_and_its_baseline() -> None:
    found = _run("web.py", ["--people", "600", "--requests", "20"])
    for page in ("me", "console", "baseline_api_scores"):
        assert 0 < found[page]["p50_ms"] <= found[page]["p99_ms"], found
    assert found["me_to_baseline_p50"] > 0 and found["requests"] == 20


def test_the_batch_benchmark_reports_every_figure_the_issue_names() -> None:
    small = ["--records", "20000", "--subjects", "2000", "--samples", "100", "--no-spark"]
    found = _run("batch.py", small)
    keys = {
        "batch_duckdb_s",
        "baseline_duckdb_groupby_s",
        "batch_spark_local_s",
        "per_subject_engine_subjects_per_s",
        "peak_rss_mb",
    }
    assert keys <= set(found)
    assert found["records"] == 20000 and 0 < found["evaluations"] <= 2000 * 9
    assert found["batch_spark_local_s"] is None  # --no-spark
