"""The plan on DuckDB, embedded: the default engine, on a laptop or a server.

DuckDB works out of core: with a memory limit it spills to a temporary
directory rather than fail (``memory_limit``)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from socialcredit.adapters.analytics.engine import SqlEngine
from socialcredit.adapters.analytics.plan import DUCKDB


class DuckDBEngine(SqlEngine):
    dialect = DUCKDB

    def __init__(
        self,
        *,
        memory_limit: str | None = None,
        temp_directory: Path | None = None,
        threads: int | None = None,
        progress: bool = False,
    ) -> None:
        self.connection = duckdb.connect()
        # Times are naive UTC in the snapshot; no session time zone may shift them.
        self.connection.execute("SET TimeZone = 'UTC'")
        if memory_limit:
            self.connection.execute(f"SET memory_limit = '{_setting(memory_limit)}'")
        if temp_directory is not None:
            self.connection.execute(f"SET temp_directory = '{_setting(str(temp_directory))}'")
        if threads:
            self.connection.execute(f"SET threads = {int(threads)}")
        self.connection.execute(f"SET enable_progress_bar = {str(progress).lower()}")
        self._registered: dict[str, pa.Table] = {}

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)

    def keep(self, name: str, query: str) -> None:
        self.connection.execute(f"CREATE OR REPLACE TEMPORARY TABLE {name} AS {query}")

    def view(self, name: str, query: str) -> None:
        self.connection.execute(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {query}")

    def register(self, name: str, table: pa.Table) -> None:
        self._registered[name] = table  # DuckDB reads it in place: keep it alive
        self.connection.register(name, table)

    def parquet(self, paths: list[str]) -> str:
        quoted = ", ".join(f"'{_setting(path)}'" for path in paths)
        return f"read_parquet([{quoted}])"

    def fetch(self, sql: str) -> pa.Table:
        relation = self.connection.sql(sql)
        # DuckDB 2 named it to_arrow_table; DuckDB 1 called it arrow.
        read = getattr(relation, "to_arrow_table", None) or relation.arrow
        found: pa.Table = read()
        return found

    def write(self, sql: str, path: Path) -> int:
        self.connection.execute(f"COPY ({sql}) TO '{_setting(str(path))}' (FORMAT parquet)")
        found = self.connection.execute(
            f"SELECT COUNT(*) FROM read_parquet('{_setting(str(path))}')"
        ).fetchone()
        return int(found[0]) if found else 0

    def close(self) -> None:
        self.connection.close()


def _setting(text: str) -> str:
    """A value spliced into a statement (a path, a size): quotes doubled."""
    return text.replace("'", "''")


__all__ = ["DuckDBEngine"]
