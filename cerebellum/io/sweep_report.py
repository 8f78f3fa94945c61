"""The sweep's ``report.md``: what ran, each point's headline numbers, failures, figures.

Written by :func:`write_sweep_report` from the sweep's outcome and its Parquet table
(:mod:`cerebellum.experiments.sweep`); the figures it lists are drawn by
:mod:`cerebellum.plotting.sweep_figures`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cerebellum.plotting.sweep_figures import _HEADERS, _missing, _varying

__all__ = ["write_sweep_report"]


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    try:
        if _missing(value):
            return "–"
    except (TypeError, ValueError):
        pass
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}g}"
    return str(value)


def _point_summaries(table) -> list[dict]:
    summaries = []
    for point_id, rows in table.groupby("point_id", sort=False):
        first = rows.iloc[0]

        def pick(metric, engine, versus=None, level=None, _rows=rows):
            selected = _rows[(_rows["metric"] == metric) & (_rows["engine"] == engine)]
            if versus is not None:
                selected = selected[selected["versus"] == versus]
            if level is not None:
                selected = selected[selected["noise_level"] == level]
            return selected.iloc[0] if len(selected) else None

        levels = sorted(rows["noise_level"].dropna().unique())
        measured = pick("beta", "circuit")
        predicted = pick("beta", "predicted_own_rule")
        low_cos = pick("output_cosine", "circuit", "attention_ols", levels[0]) if levels else None
        high_cos = pick("output_cosine", "circuit", "attention_ols", levels[-1]) if levels else None
        summaries.append(
            {
                "first": first,
                "point_id": point_id,
                "levels": levels,
                "measured": measured,
                "predicted": predicted,
                "low_cos": low_cos,
                "high_cos": high_cos,
            }
        )
    return summaries


def write_sweep_report(outcome, spec, path) -> None:
    """Write ``report.md``: what ran, one line per point, failures, figures, the table.

    Parameters
    ----------
    outcome : cerebellum.experiments.sweep.SweepOutcome
    spec : cerebellum.experiments.sweep.SweepSpec or None
    path : str or path
    """
    table = outcome.table
    lines = [
        *_report_header(outcome, spec),
        *_report_points(table),
        *_report_failures(table),
        *_report_figures(outcome.figures),
        *_report_table(Path(outcome.out), table),
    ]
    Path(path).write_text("\n".join(lines))


def _report_header(outcome, spec) -> list[str]:
    """The title, the counts and the grids."""
    import json

    title = (spec.name if spec is not None and spec.name else None) or "Sweep"
    lines = [
        f"# {title}",
        "",
        f"{outcome.n_points} points: {outcome.n_ok} succeeded, {outcome.n_failed} failed; "
        f"{outcome.n_skipped} were already finished and skipped, {outcome.n_run} ran now "
        f"({outcome.wall_time_s:.1f} s).",
        "",
    ]
    if spec is not None:
        lines += [f"The grids (from {spec.source}; a list is an axis, the grids are unioned):", ""]
        for index, grid in enumerate(spec.to_dict()["grids"]):
            values = ", ".join(
                f"`{key}` = {json.dumps(v[0] if len(v) == 1 else v)}" for key, v in grid.items()
            )
            lines.append(f"{index + 1}. {values or 'the defaults'}")
        lines.append("")
    return lines


def _report_points(table) -> list[str]:
    """The table of points: what varies, status, beta against its prediction, cosines."""
    varying = _varying(table) + (["seed"] if table["seed"].nunique() > 1 else [])
    header = ["point", *(_HEADERS.get(c, c) for c in varying), "status", "beta (95% CI)"]
    header += ["predicted", "inside CI"]
    header += ["cos vs attention, least noise", "most noise"]
    lines = [
        "## Points",
        "",
        "`beta` is the circuit's (Poisson log-linear fit of its intersection counts on the "
        "cosine, 95% bootstrap interval over queries); `predicted` the same fit of the counts "
        "expected for the circuit's own activation rule; the cosines are between the circuit's "
        "centred read and attention's (OLS beta) at the least and the most noise. Each point's "
        "run directory is under `points/<point>/`.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for summary in _point_summaries(table):
        lines.append("| " + " | ".join(_point_cells(summary, varying)) + " |")
    return lines


def _point_cells(summary: dict, varying: list[str]) -> list[str]:
    """One row of the table of points (:func:`_point_summaries`)."""
    first = summary["first"]
    measured, predicted = summary["measured"], summary["predicted"]
    beta = "–"
    inside = "–"
    if measured is not None:
        beta = (
            f"{_fmt(measured['value'])} [{_fmt(measured['ci_low'])}, {_fmt(measured['ci_high'])}]"
        )
        if predicted is not None and not _missing(predicted["value"]):
            inside = (
                "yes" if measured["ci_low"] <= predicted["value"] <= measured["ci_high"] else "no"
            )
    cells = [f"[`{summary['point_id']}`](points/{summary['point_id']}/)"]
    cells += [_fmt(first[column]) for column in varying]
    cells += [
        str(first["status"]),
        beta,
        _fmt(None if predicted is None else predicted["value"]),
        inside,
        _fmt(None if summary["low_cos"] is None else summary["low_cos"]["value"]),
        _fmt(None if summary["high_cos"] is None else summary["high_cos"]["value"]),
    ]
    return cells


def _report_failures(table) -> list[str]:
    """One line per failed point with its error, or nothing."""
    failed = table[table["status"] != "ok"].drop_duplicates("point_id")
    if not len(failed):
        return []
    lines = ["", "## Failed points", ""]
    for _, row in failed.iterrows():
        lines.append(
            f"- `{row['point_id']}`: {row['error']} (traceback in "
            f"`points/{row['point_id']}/traceback.txt`; the next run of the sweep tries it "
            "again)"
        )
    return lines


def _report_figures(figures) -> list[str]:
    """Each figure with its caption, or nothing."""
    if not figures:
        return []
    captions = {
        "beta_vs_radius.png": "The circuit's beta (markers with 95% intervals, one per "
        "seed) against the activation radius, beside the prediction for its own rule "
        "(hollow, dashed) and theory's beta for a Hamming ball (black, dotted).",
        "agreement_vs_noise.png": "Output cosine of the circuit's read with attention "
        "(top) and with its exact mirror NeuronSDM (bottom), over the bits flipped in the "
        "query, averaged over seeds.",
        "recall_vs_noise.png": "Fraction of queries whose iterated read ends exactly on "
        "the stored pattern: the circuit (solid) and attention (dashed, hollow).",
    }
    lines = ["", "## Figures", ""]
    for name in figures:
        lines += [f"![{name}]({name})", "", captions.get(name, ""), ""]
    return lines


def _report_table(out: Path, table) -> list[str]:
    """Where the table is and how to read it."""
    return [
        "",
        "## The table",
        "",
        f"`{out.name}/results.parquet` has one row per point x metric x engine (pair) x noise "
        f"level ({len(table)} rows), typed columns, each point's run directory in `run_dir`:",
        "",
        "```python",
        "import pandas as pd",
        "table = pd.read_parquet('results.parquet')",
        "table.query(\"metric == 'output_cosine' and engine == 'circuit' and versus == "
        "'attention_ols'\")",
        "```",
        "",
    ]
