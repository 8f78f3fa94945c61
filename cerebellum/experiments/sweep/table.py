"""The long table of a sweep: one row per point x metric x engine (pair) x noise level, read
from the points' run directories (:func:`sweep_table`) and written as Parquet."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cerebellum.experiments.sweep.point import read_point_record
from cerebellum.experiments.sweep.spec import SweepPoint

__all__ = ["TABLE_COLUMNS", "TABLE_FILE", "sweep_table"]

TABLE_FILE = "results.parquet"

#: Columns of the sweep table, in order, with their pandas dtypes.
TABLE_COLUMNS: dict[str, str] = {
    "point_id": "string",
    "status": "string",
    "error": "string",
    "run_dir": "string",
    "grid": "Int64",
    "preset": "string",
    "mode": "string",
    "activation": "string",
    "n_dims": "Int64",
    "n_neurons": "Int64",
    "activation_radius": "Int64",
    "equivalent_radius": "Int64",
    "top_k": "Int64",
    "n_inputs": "Int64",
    "n_patterns": "Int64",
    "n_queries": "Int64",
    "seed": "Int64",
    "device": "string",
    "wall_time_s": "float64",
    "group": "string",
    "metric": "string",
    "engine": "string",
    "versus": "string",
    "noise_level": "Int64",
    "value": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "n": "Int64",
}


def _summary_fields(summary: Mapping | None) -> dict:
    summary = summary or {}
    return {
        "value": summary.get("mean"),
        "ci_low": summary.get("ci_low"),
        "ci_high": summary.get("ci_high"),
        "n": summary.get("n_finite", summary.get("n")),
    }


def _metric_rows(results: Mapping) -> list[dict]:
    """The long rows of one results.json: agreement, recall, betas, circuit facts."""
    levels = list(results.get("noise_levels", []))
    return [
        *_agreement_rows(results.get("agreement", {}), levels),
        *_recall_rows(results.get("recall", {}), levels),
        *_beta_rows(results.get("beta", {})),
        *_circuit_rows(results),
    ]


def _agreement_rows(agreement: Mapping, levels: list) -> list[dict]:
    """One row per engine pair x metric x noise level."""
    rows = []
    for pair, metrics in agreement.items():
        engine, _, versus = pair.partition("__vs__")
        for metric, summaries in metrics.items():
            for level, summary in zip(levels, summaries, strict=False):
                rows.append(
                    {
                        "group": "agreement",
                        "metric": metric,
                        "engine": engine,
                        "versus": versus,
                        "noise_level": level,
                        **_summary_fields(summary),
                    }
                )
    return rows


def _recall_rows(recall_by_engine: Mapping, levels: list) -> list[dict]:
    """Per engine and noise level: the exact and converged fractions, then the bits wrong."""
    rows = []
    for engine, recall in recall_by_engine.items():
        for metric in ("exact_fraction", "converged_fraction"):
            for level, value in zip(levels, recall.get(metric, []), strict=False):
                rows.append(
                    {
                        "group": "recall",
                        "metric": metric,
                        "engine": engine,
                        "noise_level": level,
                        "value": value,
                    }
                )
        for level, summary in zip(levels, recall.get("bits_wrong", []), strict=False):
            rows.append(
                {
                    "group": "recall",
                    "metric": "bits_wrong",
                    "engine": engine,
                    "noise_level": level,
                    **_summary_fields(summary),
                }
            )
    return rows


def _beta_rows(beta: Mapping) -> list[dict]:
    """The circuit's beta with its interval, its predictions, and theory's betas."""
    rows = []
    circuit_beta = beta.get("circuit") or {}
    if circuit_beta.get("beta") is not None:
        rows.append(
            {
                "group": "beta",
                "metric": "beta",
                "engine": "circuit",
                "value": circuit_beta["beta"],
                "ci_low": circuit_beta.get("ci_low"),
                "ci_high": circuit_beta.get("ci_high"),
                "n": circuit_beta.get("n_points"),
            }
        )
    for name, prediction in (circuit_beta.get("predictions") or {}).items():
        rows.append(
            {
                "group": "beta",
                "metric": "beta",
                "engine": f"predicted_{name}",
                "value": prediction.get("beta"),
            }
        )
    for method, value in (beta.get("theory") or {}).items():
        if isinstance(value, Mapping):
            value = value.get("beta")
        rows.append(
            {"group": "beta", "metric": "beta", "engine": f"theory_{method}", "value": value}
        )
    return rows


def _circuit_rows(results: Mapping) -> list[dict]:
    """The active granule fraction and whether the exact check passed (where it applies)."""
    rows = []
    active = (results.get("circuit") or {}).get("active_granule_fraction")
    if active is not None:
        rows.append(
            {
                "group": "circuit",
                "metric": "active_granule_fraction",
                "engine": "circuit",
                **_summary_fields(active),
            }
        )
    check = results.get("exact_check") or {}
    if check.get("applies"):
        rows.append(
            {
                "group": "circuit",
                "metric": "exact_check_passed",
                "engine": "circuit",
                "versus": "neuron_sdm",
                "value": float(bool(check.get("passed"))),
            }
        )
    return rows


def _point_columns(point: SweepPoint, record: Mapping, run_dir: Path) -> dict:
    config = record.get("config") or point.config.to_dict()
    circuit = record.get("circuit") or {}
    return {
        "point_id": point.point_id,
        "status": record.get("status", "missing"),
        "error": record.get("error"),
        "run_dir": str(run_dir),
        "grid": point.grid,
        "preset": circuit.get("preset", config.get("preset")),
        "mode": circuit.get("mode", config.get("mode")),
        "activation": circuit.get("activation", config.get("activation")),
        "n_dims": circuit.get("n_dims", config.get("n_dims")),
        "n_neurons": circuit.get("n_neurons", config.get("n_neurons")),
        "activation_radius": circuit.get("activation_radius", config.get("radius")),
        "equivalent_radius": circuit.get("equivalent_radius"),
        "top_k": circuit.get("top_k", config.get("top_k")),
        "n_inputs": circuit.get("n_inputs"),
        "n_patterns": config.get("n_patterns"),
        "n_queries": config.get("n_queries"),
        "seed": config.get("seed"),
        "device": config.get("device"),
        "wall_time_s": record.get("wall_time_s"),
    }


def sweep_table(points: Sequence[SweepPoint], out: str | os.PathLike):
    """The long table of a sweep, read from its points' run directories.

    Parameters
    ----------
    points : sequence of SweepPoint
    out : str or path
        The sweep directory.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`: the point (``point_id``, ``status``, ``error``,
        ``run_dir``, ``grid``), its resolved circuit and config, then ``group``
        (``agreement``, ``recall``, ``beta``, ``circuit``), ``metric``, ``engine``, ``versus``
        (the other engine of an agreement pair), ``noise_level`` (bits flipped; missing for
        betas), ``value`` (the mean over the level's queries), ``ci_low``, ``ci_high`` (95%)
        and ``n`` (finite values in the mean). A point without results has one row, its
        metric missing.
    """
    import pandas as pd

    points_dir = Path(out).absolute() / "points"
    rows = []
    for point in points:
        run_dir = points_dir / point.point_id
        record = read_point_record(run_dir) or {"status": "missing"}
        base = _point_columns(point, record, run_dir)
        metric_rows = []
        if record.get("status") == "ok":
            try:
                results = json.loads((run_dir / "results.json").read_text())
            except (OSError, json.JSONDecodeError) as error:
                base.update(status="failed", error=f"results.json unreadable ({error})")
            else:
                metric_rows = _metric_rows(results)
        rows.extend({**base, **row} for row in metric_rows or [{}])
    frame = pd.DataFrame.from_records(rows, columns=list(TABLE_COLUMNS))
    return frame.astype(TABLE_COLUMNS)


def _write_parquet(table, path: Path) -> None:
    """Write atomically: a reader never sees half a file."""
    staging = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        table.to_parquet(staging, engine="pyarrow", index=False)
        os.replace(staging, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
