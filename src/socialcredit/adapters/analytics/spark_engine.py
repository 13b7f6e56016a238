"""The plan on Apache Spark: in local mode on one machine (the tests), or on a
cluster through ``spark-submit`` (docs/scale.md). The statements are the
plan's, in Spark's spelling (``plan.SPARK``); each step is checkpointed, as
DuckDB keeps each step as a table.

A session is made here for local mode unless one is given (on a cluster,
the one ``spark-submit`` starts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from socialcredit.adapters.analytics.engine import SqlEngine
from socialcredit.adapters.analytics.plan import SPARK


class SparkEngine(SqlEngine):
    dialect = SPARK

    def __init__(
        self,
        session: SparkSession | None = None,
        *,
        memory_limit: str | None = None,
        cores: int = 2,
        master: str | None = None,
    ) -> None:
        # Stop at the end only a session this engine started (not spark-submit's,
        # nor one a caller had running).
        self._own = session is None and SparkSession.getActiveSession() is None
        self.session = session or local_session(
            cores=cores, memory_limit=memory_limit, master=master
        )
        # The snapshot's times are naive UTC; read and written as such.
        self.session.conf.set("spark.sql.session.timeZone", "UTC")
        self.session.conf.set("spark.sql.timestampType", "TIMESTAMP_NTZ")
        self._cached: list[str] = []
        # Every view this engine names: in a session it did not start, they would
        # outlive the run, with the subjects' keys (and an audit's attributes) in them.
        self._views: set[str] = set()

    def execute(self, sql: str) -> None:
        self.session.sql(sql)

    def keep(self, name: str, query: str) -> None:
        # A local checkpoint keeps the rows and cuts the lineage: without it each
        # step's plan would hold every step before it, and Spark's planner runs
        # out of memory long before the data does.
        frame = self.session.sql(query).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        self._views.add(name)

    def view(self, name: str, query: str) -> None:
        self.session.sql(query).createOrReplaceTempView(name)
        self._views.add(name)

    def register(self, name: str, table: pa.Table) -> None:
        frame = self.session.createDataFrame(_rows(table), schema=_spark_schema(table.schema))
        frame.createOrReplaceTempView(name)
        self._views.add(name)

    def parquet(self, paths: list[str]) -> str:
        # Spark reads Parquet through a view rather than in a FROM clause's call.
        name = f"parquet_{len(self._cached)}_{abs(hash(tuple(paths)))}"
        self.session.read.parquet(*paths).createOrReplaceTempView(name)
        self._cached.append(name)
        return name

    def fetch(self, sql: str) -> pa.Table:
        frame = self.session.sql(sql)
        found: pa.Table = pa.Table.from_pylist(
            [row.asDict(recursive=True) for row in frame.collect()],
            schema=_arrow_schema(frame.schema),
        )
        return found

    def write(self, sql: str, path: Path) -> int:
        table = self.fetch(sql)
        pq.write_table(table, path)
        return int(table.num_rows)

    def close(self) -> None:
        for name in [*self._cached, *sorted(self._views)]:
            self.session.catalog.dropTempView(name)
        if self._own:
            self.session.stop()


def local_session(
    *, cores: int = 2, memory_limit: str | None = None, master: str | None = None
) -> SparkSession:
    """A Spark session in UTC: on ``master`` (a cluster's URL) if given; else
    on the master ``spark-submit`` set, if it set one; else in local mode on
    ``cores`` cores."""
    from pyspark import SparkConf

    builder = SparkSession.builder
    if master is not None or not SparkConf().contains("spark.master"):
        builder = builder.master(master or f"local[{cores}]")
    builder = (
        builder.appName("socialcredit batch")
        .config("spark.sql.session.timeZone", "UTC")
        # Times without a zone, like the snapshot's: literals included.
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if memory_limit:
        builder = builder.config("spark.driver.memory", memory_limit)
    session: SparkSession = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    columns = [table.column(name).to_pylist() for name in table.column_names]
    return list(zip(*columns, strict=True)) if columns else []


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql import types as t

    kinds = {
        pa.string(): t.StringType(),
        pa.int64(): t.LongType(),
        pa.bool_(): t.BooleanType(),
        pa.float64(): t.DoubleType(),
        pa.timestamp("us"): t.TimestampNTZType(),
    }
    return t.StructType([t.StructField(f.name, kinds[f.type], True) for f in schema])


def _arrow_schema(schema: Any) -> pa.Schema:
    from pyspark.sql import types as t

    def arrow(kind: Any) -> pa.DataType:
        if isinstance(kind, t.StringType):
            return pa.string()
        if isinstance(kind, t.LongType | t.IntegerType):
            return pa.int64()
        if isinstance(kind, t.BooleanType):
            return pa.bool_()
        if isinstance(kind, t.DoubleType):
            return pa.float64()
        if isinstance(kind, t.TimestampNTZType | t.TimestampType):
            return pa.timestamp("us")
        if isinstance(kind, t.ArrayType):
            return pa.list_(arrow(kind.elementType))
        raise TypeError(f"no Arrow type for Spark's {kind}")

    return pa.schema([(field.name, arrow(field.dataType)) for field in schema.fields])


__all__ = ["SparkEngine", "local_session"]
