"""``socialcredit scorecard``: fit a scorecard scheme from labelled data, and
write made-up labelled data to try it on.

scikit-learn (the ``scorecard`` extra) is imported only when a command runs,
so the rest of the command line starts as fast as without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from socialcredit.errors import UsageError
from socialcredit.plugins.cli import handled

if TYPE_CHECKING:
    from socialcredit.pilots.scorecard.fit import FactorFit, FitResult, SplitMetrics


scorecard_app = typer.Typer(
    help="Fit scorecard schemes from labelled data (docs/schemes.md, Scorecards).",
    no_args_is_help=True,
)
out = Console()


def _anchor(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    score, _, odds = text.partition(":")
    try:
        return float(score), float(odds)
    except ValueError:
        raise UsageError(f"--anchor: {text!r} is not SCORE:ODDS, e.g. 600:20") from None


@scorecard_app.command("fit")
@handled
def fit(
    data: Annotated[Path, typer.Argument(help="CSV: one column per factor id, plus the target.")],
    target: Annotated[str, typer.Option("--target", help="The 0/1 column (1 = bad).")],
    template: Annotated[
        Path, typer.Option("--template", help="A scorecard scheme whose bins and points to fit.")
    ],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the fitted scheme [default: DATA.scheme.yaml]."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the train/test split.")] = 0,
    test_share: Annotated[float, typer.Option(help="Share of rows held out for testing.")] = 0.3,
    pdo: Annotated[
        float | None, typer.Option(help="Points to double the odds [default: fit to the range].")
    ] = None,
    anchor: Annotated[
        str | None, typer.Option(help="SCORE:ODDS, the odds of good at a score, e.g. 600:20.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Fit bins and points of a scorecard scheme from labelled data; report AUC and Gini."""
    from socialcredit.pilots.scorecard.fit import fit_file

    target_file = out_file or data.with_suffix(".scheme.yaml")
    if target_file.resolve() == template.resolve():
        raise UsageError(f"--out: {target_file} is the template; write the fitted scheme elsewhere")
    result = fit_file(
        data,
        target,
        template,
        seed=seed,
        test_share=test_share,
        pdo=pdo,
        anchor=_anchor(anchor),
        out_name=target_file.name,
    )
    target_file.write_text(result.text, encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(_view(result, target_file), indent=2) + "\n")
        return
    _print(result, target_file)


@scorecard_app.command("synthetic")
@handled
def synthetic(
    out_file: Annotated[Path, typer.Argument(help="CSV file to write.")],
    rows: Annotated[int, typer.Option(help="How many made-up people.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    target: Annotated[str, typer.Option(help="Name of the 0/1 column (1 = bad).")] = "bad",
) -> None:
    """Write made-up labelled data for schemes/sesame-credit.yaml's factors."""
    from socialcredit.pilots.scorecard.fit import synthetic_training_data, write_training_csv

    if rows < 1:
        raise UsageError(f"--rows: {rows} is not a positive number")
    write_training_csv(synthetic_training_data(seed, rows, target), out_file)
    out.print(f"wrote {rows} rows to {out_file}")


def _view(result: FitResult, written: Path) -> dict[str, object]:
    return {
        "out": str(written),
        "scheme": result.scheme.id,
        "base": result.base,
        "scaling": {
            "pdo": result.scaling.pdo,
            "factor": result.scaling.factor,
            "offset": result.scaling.offset,
        },
        "intercept": result.intercept,
        "metrics": [_metrics_view(m) for m in result.metrics],
        "factors": [_factor_view(f) for f in result.factors],
    }


def _metrics_view(m: SplitMetrics) -> dict[str, object]:
    return {
        "split": m.split,
        "rows": m.rows,
        "bads": m.bads,
        "auc": m.auc,
        "gini": m.gini,
        "auc_points": m.auc_points,
        "gini_points": m.gini_points,
    }


def _factor_view(f: FactorFit) -> dict[str, object]:
    return {
        "dimension": f.dimension,
        "factor": f.factor,
        "below": list(f.edges),
        "points": list(f.points),
        "missing": f.missing_points,
        "rows": list(f.rows),
        "bad_rates": list(f.bad_rates),
        "information_value": f.information_value,
        "coefficient": f.coefficient,
        "dropped": f.dropped,
    }


def _print(result: FitResult, written: Path) -> None:
    scaling = result.scaling
    train, test = result.metrics
    out.print(
        f"fitted {len(result.factors)} factors of [bold]{result.scheme.id}[/] on {train.rows} "
        f"rows, tested on {test.rows} held out; wrote {written}",
        highlight=False,
    )
    out.print(
        f"scaling: base {result.base}, PDO {scaling.pdo:g} (the odds of good double every "
        f"{scaling.pdo:g} points), even odds at {scaling.offset:.0f}",
        highlight=False,
    )
    table = Table(
        "split",
        "rows",
        "bad rate",
        "AUC",
        "Gini",
        "AUC points",
        "Gini points",
        box=None,
        pad_edge=False,
    )
    for m in result.metrics:
        table.add_row(
            m.split,
            str(m.rows),
            f"{m.bads / m.rows:.3f}",
            f"{m.auc:.3f}",
            f"{m.gini:.3f}",
            f"{m.auc_points:.3f}",
            f"{m.gini_points:.3f}",
        )
    out.print(table)
    factors = Table(
        "dimension", "factor", "bins", "IV", "points", "missing", box=None, pad_edge=False
    )
    for f in result.factors:
        points = (
            " ".join(f"{p:+d}" for p in f.points)
            if not f.dropped
            else (f"{f.points[0]:+d} (left out: coefficient of the wrong sign)")
        )
        factors.add_row(
            f.dimension,
            f.factor,
            str(1 if f.dropped else len(f.points)),
            f"{f.information_value:.3f}",
            points,
            f"{f.missing_points:+d}",
        )
    out.print(factors)


def add_commands(app: typer.Typer) -> None:
    app.add_typer(scorecard_app, name="scorecard")
