"""The logic of a scheme's scoring in plain words, with the subject's own
numbers: what GDPR art. 15(1)(h) calls meaningful information about the logic
involved."""

from __future__ import annotations

from socialcredit.domain.schemes.models import Scheme
from socialcredit.domain.scoring.engine import SchemeEvaluation
from socialcredit.domain.times import iso


def explain_in_words(scheme: Scheme, evaluation: SchemeEvaluation) -> str:
    e = evaluation.explanation
    if e.score is None:
        listed = ", ".join(
            f"{x.list} until {iso(x.until) or 'the grade changes'}" for x in evaluation.entries
        )
        return (
            f"{scheme.title} keeps no score; records of its categories put a subject on its "
            f"lists. You are {'on: ' + listed if listed else 'on none of its lists'}."
        )
    parts = [f"{c.points:+d} ({c.category})" for c in e.counted]
    sentence = f"Everyone starts at {e.base}. "
    sentence += (
        f"Your counted records add {' '.join(parts)}, "
        if parts
        else "No record of yours counts now, "
    )
    sentence += f"which gives {e.score}"
    rule = scheme.score
    if rule and (rule.min is not None or rule.max is not None):
        lowest = rule.min if rule.min is not None else "-∞"
        highest = rule.max if rule.max is not None else "∞"
        sentence += f" (kept between {lowest} and {highest})"
    sentence += f": grade {e.grade}."
    if e.cap is not None and e.band != e.grade:
        sentence += (
            f" The score alone gives {e.band}, but record {e.cap.record} caps the grade "
            f"at {e.cap.grade}."
        )
    if e.excluded:
        sentence += (
            f" {len(e.excluded)} of your records do not count now (see each record's reason)."
        )
    return sentence


__all__ = ["explain_in_words"]
