"""The SQLite spellings the PostgreSQL store rewrites, and nothing else."""

from __future__ import annotations

from socialcredit.adapters.db.postgres import translate as _translate


def test_placeholders_and_upserts_are_rewritten_outside_literals_only() -> None:
    assert _translate("SELECT a FROM t WHERE b = ? AND c LIKE 'x%?'") == [
        "SELECT a FROM t WHERE b = %s AND c LIKE 'x%%?'"
    ]
    assert _translate("INSERT OR IGNORE INTO subjects VALUES (?, ?, ?)") == [
        "INSERT INTO subjects VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
    ]
    assert _translate("INSERT OR REPLACE INTO chain_heads VALUES (?, ?, ?)") == [
        "INSERT INTO chain_heads VALUES (%s, %s, %s) ON CONFLICT (subject) "
        "DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash"
    ]
    assert (
        _translate("BEGIN IMMEDIATE")[0] == "BEGIN"
        and "pg_advisory_xact_lock" in _translate("BEGIN IMMEDIATE")[1]
    )
    assert _translate("SELECT COUNT(*) FROM records") == ["SELECT COUNT(*) FROM records"]
