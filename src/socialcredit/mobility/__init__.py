"""Bike sharing: parking zones, trip-end verdicts, rider reports, and location
kept no finer than the purpose needs (docs/mobility.md).

``zones``, ``verdicts``, ``cells`` and ``trips`` are pure; ``service`` applies
them to a ledger.
"""
