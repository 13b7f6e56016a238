"""Bike sharing: parking zones, trip-end verdicts, rider reports, and location
kept no finer than the purpose needs (docs/mobility.md). A plugin (``plugin``).

``zones``, ``verdicts``, ``cells`` and ``trips`` are pure; ``service`` applies
them to a ledger through its public services; ``store`` keeps the plugin's own
tables; ``cli`` and ``api`` add its commands and routes.
"""
