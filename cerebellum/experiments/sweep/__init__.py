r"""Sweeps: a grid of comparisons as tasks on dask.distributed, one labelled table.

A sweep is a set of *points*; each point is one
:class:`~cerebellum.experiments.compare.CompareConfig` (preset, dynamics, activation rule and its
radius d / top-k k / inputs K, granule cells r, noise levels, seed, ...) and runs as one task,
:func:`run_point`, on a Dask cluster: a
:class:`distributed.LocalCluster` started in-process (``workers`` processes, one thread each:
Brian2 and the mirror are CPU-bound Python, so processes, not threads, run them side by side)
or an existing scheduler (``scheduler="tcp://host:8786"``, e.g. a cluster dask-jobqueue started
on SLURM). The grid comes from flags or a small TOML file (:func:`load_sweep_file`)::

    [defaults]                      # every point: any CompareConfig field
    preset = "tiny"
    noise_levels = [0, 1, 2, 4]
    seed = [0, 1, 2]                # a list is an axis of the grid

    [[grid]]                        # a Cartesian product over its lists (and the defaults')
    activation = "radius"
    radius = [3, 4, 5]
    n_neurons = [256, 1024]

    [[grid]]                        # another product; the sweep is the union of the grids
    activation = "top-k"
    top_k = [8, 16]

Every point is validated (:func:`cerebellum.experiments.compare.configure`) before anything is
submitted, so a bad value fails in one line naming the grid, the point and the field.

**Results on disk.** Each point writes its own run directory atomically
(:func:`cerebellum.io.rundir.atomic_run_directory`): ``<out>/points/<point_id>/`` holds
``point.json`` (the point's config, resolved circuit, status ``"ok"`` or ``"failed"`` with its
error line, wall time, host) and, when it succeeded, ``results.json`` (the comparison's payload,
``docs/results_schema.md``), ``params.json`` and ``meta.json``. ``point_id`` is a stable hash
of the point's config (:func:`point_id`): the same point always lands in the same directory.

**Resumable and fault tolerant.** Re-running a sweep reads ``point.json`` first and submits
only the points that have no successful run directory (failed points are tried again), so a
finished point costs no simulation. A point that raises is recorded as failed, with its error
line and traceback, and the other points go on. A worker process that dies mid-task has its
tasks rerun by Dask on another worker (up to ``distributed.scheduler.allowed-failures`` times;
then the point is recorded as failed, "KilledWorker"). Because a point's directory appears only
by one atomic rename, a task that runs twice (a rerun racing a worker thought dead) leaves
exactly one directory: the second rename fails, and :func:`run_point` returns the first one's
record. Staging directories of killed workers (``.<id>.partial-*``) are removed when a sweep
starts and ends.

**One table.** :func:`sweep_table` reads every point's directory into one *long* table, one row
per point x metric x engine (pair) x noise level, with the point's config, its resolved circuit
(activation radius, equivalent radius, k, K, r) and its run directory in columns; failed points
keep one row with their error. It is written as Parquet (``results.parquet``): a long table
with typed columns (nullable integers stay integers, missing values stay missing, strings stay
strings, unlike CSV) that pandas, polars, R (arrow) and DuckDB read alike, column by column,
and filter without parsing. Summary figures (:mod:`cerebellum.plotting.sweep_figures`) and a
``report.md`` are written beside it: the circuit's beta against the activation radius with
theory's prediction (Bricken & Pehlevan 2021, for the circuit's own rule), agreement with
attention against noise for each r, and recall curves.

**Hook.** ``runner`` (:func:`run_sweep`, :func:`run_point`) is the function that runs one
point, :func:`cerebellum.experiments.compare.run_comparison` by default; a runner that compiles a
``cpp_standalone`` project once and reruns it with new parameters can be given there.
"""

from __future__ import annotations

from cerebellum.experiments.sweep.point import (
    POINT_FILE,
    SWEEP_SCHEMA_VERSION,
    Runner,
    read_point_record,
    run_point,
)
from cerebellum.experiments.sweep.run import (
    CONNECT_TIMEOUT_S,
    DEFAULT_WORKERS,
    SweepOutcome,
    run_sweep,
)
from cerebellum.experiments.sweep.run import _dask_client as _dask_client  # bench_sweep.py
from cerebellum.experiments.sweep.spec import (
    FILE_KEYS,
    SweepPoint,
    SweepSpec,
    default_out,
    load_sweep_file,
    plan_sweep,
    point_id,
    spec_from_axes,
)
from cerebellum.experiments.sweep.table import TABLE_COLUMNS, TABLE_FILE, sweep_table
from cerebellum.experiments.sweep.warm import WarmWorker

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_WORKERS",
    "FILE_KEYS",
    "POINT_FILE",
    "SWEEP_SCHEMA_VERSION",
    "TABLE_COLUMNS",
    "TABLE_FILE",
    "Runner",
    "SweepOutcome",
    "SweepPoint",
    "SweepSpec",
    "WarmWorker",
    "default_out",
    "load_sweep_file",
    "plan_sweep",
    "point_id",
    "read_point_record",
    "run_point",
    "run_sweep",
    "spec_from_axes",
    "sweep_table",
]
