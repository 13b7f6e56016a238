"""Whole-population evaluation on analytics engines: the ledger written as
Parquet (``snapshot``), the scoring semantics written once as SQL generated
from the compiled schemes (``plan``), and the engines that run it (DuckDB,
embedded; Apache Spark, local or on a cluster)."""
