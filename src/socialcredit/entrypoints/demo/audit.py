"""The demo's fairness audit: who Rongcheng's bottom grades and lists fall on,
by sex, decade of birth and place of registration, whatever it finds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from socialcredit.bootstrap import Services
from socialcredit.entrypoints.views import fairness_view
from socialcredit.errors import UsageError

AUDITED = "rongcheng-personal"
BY = "sex,age_band,registered,region"


def fairness_showcase(services: Services, at: datetime, say: Any) -> dict[str, Any]:
    """Run the audit on the demo town and print a line per group; the figures
    as ``--json`` gives them (or why there are none)."""
    try:
        report = services.fairness.audit(AUDITED, at, BY)
    except UsageError as missing:  # the analytics extra is not installed
        say(f"\nfairness audit skipped: {missing}", highlight=False)
        return {"skipped": str(missing)}
    found = fairness_view(report)
    say(
        f"\n[bold]fairness audit[/] of {AUDITED} ({report.subjects:,} residents; bottom grades "
        f"{', '.join(report.bottom_grades)}; groups under {report.k} suppressed):"
    )
    for dimension, groups in found["dimensions"].items():
        parts = []
        for group in groups:
            if group["suppressed"]:
                parts.append(f"{group['group']}: suppressed")
                continue
            ratio = group["impact_ratio"]
            flag = " [red]below 4/5[/]" if group["flagged"] else ""
            parts.append(
                f"{group['group']}: n={group['subjects']}, bottom {group['bottom_share']:.1%}, "
                f"impact {ratio:.2f}{flag}"
            )
        say(f"  by {dimension}: " + "; ".join(parts), highlight=False)
    flagged = [
        f"{dimension} {g['group']}"
        for dimension, groups in found["dimensions"].items()
        for g in groups
        if g.get("flagged")
    ]
    say(
        "  flagged below four fifths: " + (", ".join(flagged) if flagged else "no group"),
        highlight=False,
    )
    return found


__all__ = ["fairness_showcase"]
