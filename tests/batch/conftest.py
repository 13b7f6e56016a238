"""A Spark session in local mode, made once for the batch tests that need it.

Spark needs PySpark and a Java runtime. Where they are missing the Spark tests
are skipped, unless ``SOCIALCREDIT_REQUIRE_SPARK=1`` (CI sets it), which makes
a missing Spark an error rather than a quiet skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    missing = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing = "PySpark is not installed (pip install 'socialcredit[spark]')"
    if missing is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing = "no Java runtime (apt-get install default-jre-headless)"
    if missing is not None:
        if os.environ.get("SOCIALCREDIT_REQUIRE_SPARK") == "1":
            pytest.fail(f"SOCIALCREDIT_REQUIRE_SPARK=1 but {missing}")
        pytest.skip(missing)
    from socialcredit.adapters.analytics.spark_engine import local_session

    session = local_session(cores=2)
    try:
        yield session
    finally:
        session.stop()
