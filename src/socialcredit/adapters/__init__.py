"""The world outside the use cases: the database (``db``), files of records
and definitions (``files``), the identifier key file, notice channels, and
where the shipped schemes live."""
