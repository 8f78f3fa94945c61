"""One point of a sweep, the Dask task: :func:`run_point` runs a comparison into its own run
directory, written atomically, with its ``point.json`` record (:func:`read_point_record`)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cerebellum.experiments.sweep.spec import point_id
from cerebellum.experiments.sweep.warm import _compare
from cerebellum.io.rundir import atomic_run_directory, write_json, write_meta

if TYPE_CHECKING:
    from cerebellum.experiments.compare import CompareConfig

__all__ = ["POINT_FILE", "SWEEP_SCHEMA_VERSION", "Runner", "read_point_record", "run_point"]

SWEEP_SCHEMA_VERSION = 1
POINT_FILE = "point.json"

Runner = Callable[["CompareConfig"], Any]


def read_point_record(point_dir: str | os.PathLike) -> dict | None:
    """The ``point.json`` of a point's run directory, or None if it has none (yet)."""
    path = Path(point_dir) / POINT_FILE
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, json.JSONDecodeError):  # unreadable: treated as not finished
        return None


def _finished(record: dict | None, point_dir: Path) -> bool:
    return (
        record is not None
        and record.get("status") == "ok"
        and (Path(point_dir) / "results.json").is_file()
    )


def _resolved_circuit(config: CompareConfig) -> dict:
    resolved = _compare().configure(config)
    g = resolved.granule
    return {
        "preset": resolved.params.name,
        "mode": resolved.params.dynamics.mode,
        "activation": g.activation.value,
        "n_dims": g.n_dims,
        "n_neurons": g.n_neurons,
        "activation_radius": g.activation_radius,
        "equivalent_radius": resolved.equivalent_radius,
        "top_k": g.top_k,
        "n_inputs": g.n_inputs,
        "noise_levels": list(resolved.noise_levels),
    }


def _error_line(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


def run_point(
    config: CompareConfig | Mapping,
    point_dir: str | os.PathLike,
    *,
    runner: Runner | None = None,
) -> dict:
    """Run one point into its run directory (the Dask task); skip it if it already succeeded.

    Parameters
    ----------
    config : CompareConfig or mapping
        The point (a mapping is :meth:`CompareConfig.to_dict`'s).
    point_dir : str or path
        ``<out>/points/<point_id>``. Written atomically: it appears whole or not at all.
    runner : callable, optional
        ``runner(config) -> Comparison`` (anything with ``results``, and optionally
        ``params`` and ``wall_time_s``); :func:`cerebellum.experiments.compare.run_comparison`
        by default.

    Returns
    -------
    dict
        The point's ``point.json``: ``point_id``, ``status`` (``"ok"`` or ``"failed"``),
        ``error`` (the error line or None), ``config``, ``circuit``, ``wall_time_s``,
        ``host``, ``pid``, ``finished_at``.
    """
    compare = _compare()
    if not isinstance(config, compare.CompareConfig):
        config = compare.CompareConfig(**dict(config))
    target = Path(point_dir)
    existing = read_point_record(target)
    if _finished(existing, target):
        return existing
    if existing is not None or target.exists():  # a failed try: this one replaces it
        shutil.rmtree(target, ignore_errors=True)
    if runner is None:
        runner = compare.run_comparison
    record = {
        "schema_version": SWEEP_SCHEMA_VERSION,
        "point_id": point_id(config),
        "status": "ok",
        "error": None,
        "config": config.to_dict(),
        "circuit": _resolved_circuit(config),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    started = time.perf_counter()
    comparison, failure = None, None
    try:
        comparison = runner(config)
    except Exception as error:  # recorded; the sweep goes on (KeyboardInterrupt propagates)
        failure = error
        record.update(status="failed", error=_error_line(error))
    record["wall_time_s"] = time.perf_counter() - started
    record["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:
        with atomic_run_directory(target) as staging:
            if comparison is not None:
                write_json(staging / "results.json", comparison.results)
                params = getattr(comparison, "params", None)
                if params is not None and hasattr(params, "to_json"):
                    (staging / "params.json").write_text(params.to_json())
            else:
                (staging / "traceback.txt").write_text("".join(traceback.format_exception(failure)))
            write_meta(
                staging,
                seed=config.seed,
                device=config.device,
                torch_device=config.torch_device,
                wall_time_s=record["wall_time_s"],
            )
            write_json(staging / POINT_FILE, record)
    except (ValueError, OSError):  # another run of this task renamed its directory first
        winner = read_point_record(target)
        if winner is None:
            raise
        return winner
    return record
