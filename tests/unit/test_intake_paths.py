"""The import's fast path must agree with the fully checked path: on any line
it either gives up or returns exactly what the checked path returns."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scheme
from socialcredit.domain.identity import Pseudonymiser
from socialcredit.domain.intake import RecordError, RecordIntake
from socialcredit.domain.registry import Registry
from socialcredit.domain.schemes.compiled import SchemeHistory

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
CIVIC = scheme(
    """\
    score: {base: 100}
    categories:
      - {code: litter, title: Littering, points: -5, severity: minor, validity: P1Y}
      - {code: help, title: Helping, points: 2, severity: minor, validity: P30D}
      - {code: odd, title: Odd, points: 1, severity: minor, validity: PT36H}
    """
)
REGISTRY = Registry({"civic": SchemeHistory.of([(1, CIVIC)])}, {})

times = st.sampled_from(
    [
        "2025-01-31T10:00:00+00:00",
        "2025-01-31T10:00:00.250000+00:00",
        "2025-01-31T10:00:00.000000+00:00",
        "2025-01-31T18:00:00+08:00",
        "2025-01-31",
        "2025-01-31 10:00:00+00:00",
        "2025-01-31T10:00:00Z",
        "2025-13-01T10:00:00+00:00",
        "2024-02-29T23:59:59.999999+00:00",
        "2026-01-01T00:00:00+00:00",
        " 2025-01-31T10:00:00+00:00",
        "",
        "yesterday",
    ]
)
texts = st.sampled_from(["police", " police", "police ", "", "   ", "po\x1flice", "case/1", None])
lines = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["r1", "r 1", "", "x" * 201, "r2"]),
        "scheme": st.sampled_from(["civic", "civic ", "nope"]),
        "category": st.sampled_from(["litter", "help", "odd", "unknown"]),
        "subject": st.sampled_from(
            [
                "cn-ric:11010519491231002X",
                "cn-ric:11010519491231002x",
                " cn-ric:11010519491231002X",
                "cn-ric:110105194912310021",
                "cn-uscc:91350100M000100Y43",
                "ext:city:42",
            ]
        ),
        "occurred_at": times,
        "reporter": texts,
    },
    optional={"reported_at": times, "evidence": texts, "subject_kind": st.sampled_from(["person"])},
)


def _checked(intake: RecordIntake, line: dict[str, object]) -> object:
    try:
        return intake._parse_checked(line)
    except RecordError as error:
        return str(error)


@settings(max_examples=600, deadline=None)
@given(first=lines, second=lines)
def test_the_fast_path_gives_up_or_agrees_with_the_checked_path(first, second) -> None:
    intake = RecordIntake(REGISTRY, Pseudonymiser(b"k" * 32), NOW)
    for line in (first, second, first):  # the second pass sees the subject cached
        fast = intake._parse_common(line)
        checked = _checked(intake, line)  # also caches the subject, as parse() would
        if fast is not None:
            assert fast == checked


@settings(max_examples=300, deadline=None)
@given(line=lines)
def test_a_subject_seen_first_on_the_fast_path_is_read_as_the_checked_path_reads_it(line) -> None:
    fast = RecordIntake(REGISTRY, Pseudonymiser(b"k" * 32), NOW)._parse_common(line)
    if fast is not None:
        assert fast == _checked(RecordIntake(REGISTRY, Pseudonymiser(b"k" * 32), NOW), line)


def test_the_fast_path_takes_the_common_line() -> None:
    intake = RecordIntake(REGISTRY, Pseudonymiser(b"k" * 32), NOW)
    line = {
        "id": "r1",
        "scheme": "civic",
        "category": "litter",
        "subject": "cn-ric:11010519491231002X",
        "occurred_at": "2025-01-31T10:00:00+00:00",
        "reported_at": "2025-02-01T10:00:00.500000+00:00",
        "reporter": "police",
    }
    first = intake._parse_common(line)  # the subject's first sight, then cached
    fast = intake._parse_common(line)
    assert fast is not None and fast == first == intake._parse_checked(line)
    assert fast.expires_at == "2026-01-31T10:00:00+00:00"
