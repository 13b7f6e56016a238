"""The import path's spelled-out record hash must equal the generic chain hash
that ``verify`` recomputes: one format, two spellings, held equal here."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.ledger.chain import GENESIS, link_hash, record_link_hash

text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    previous=st.sampled_from([GENESIS, "ab" * 32]),
    seq=st.integers(1, 10**6),
    version=st.integers(1, 50),
    points=st.integers(-1000, 1000),
    fields=st.lists(text, min_size=9, max_size=9),
    evidence=st.none() | text,
)
def test_record_link_hash_equals_the_generic_link_hash(
    previous, seq, version, points, fields, evidence
):
    subject, record_id, scheme, category, occurred, reported, expires, reporter, _ = fields
    row = (
        subject,
        seq,
        record_id,
        scheme,
        version,
        category,
        occurred,
        reported,
        expires,
        points,
        reporter,
        evidence,
    )
    assert record_link_hash(previous, *row) == link_hash(previous, "record", row)


def test_any_change_of_a_field_or_the_previous_hash_changes_the_link() -> None:
    row = (
        "s",
        1,
        "r1",
        "civic",
        1,
        "litter",
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T00:00:00+00:00",
        "2026-01-01T00:00:00+00:00",
        -5,
        "city",
        None,
    )
    base = link_hash(GENESIS, "record", row)
    assert link_hash("1" * 64, "record", row) != base
    for index in range(len(row)):
        changed = list(row)
        changed[index] = "x" if row[index] is None else f"{row[index]}x"
        assert link_hash(GENESIS, "record", changed) != base, index
