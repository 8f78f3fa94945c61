r"""Sweeps: a grid of comparisons as tasks on dask.distributed, one labelled table.

A sweep is a set of *points*; each point is one :class:`~cerebellum.experiments.compare.CompareConfig`
(preset, dynamics, activation rule and its radius d / top-k k / inputs K, granule cells r,
noise levels, seed, ...) and runs as one task, :func:`run_point`, on a Dask cluster: a
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

Every point is validated (:func:`cerebellum.experiments.compare.configure`) before anything is submitted,
so a bad value fails in one line naming the grid, the point and the field.

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

import contextlib
import dataclasses
import difflib
import hashlib
import itertools
import json
import logging
import os
import shutil
import socket
import sys
import threading
import time
import tomllib
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import WorkerPlugin

from cerebellum.io.rundir import atomic_run_directory, collect_meta, write_json

if TYPE_CHECKING:
    from cerebellum.experiments.compare import CompareConfig

__all__ = [
    "CONNECT_TIMEOUT_S",
    "DEFAULT_WORKERS",
    "POINT_FILE",
    "SWEEP_SCHEMA_VERSION",
    "TABLE_COLUMNS",
    "TABLE_FILE",
    "SweepOutcome",
    "SweepPoint",
    "SweepSpec",
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

SWEEP_SCHEMA_VERSION = 1
POINT_FILE = "point.json"
TABLE_FILE = "results.parquet"
DEFAULT_WORKERS = 2
#: Seconds to wait for an existing scheduler before the sweep is refused.
CONNECT_TIMEOUT_S = 10.0
#: Top-level tables of a sweep file.
FILE_KEYS = ("name", "defaults", "grid")

Runner = Callable[["CompareConfig"], Any]


def _compare():
    """:mod:`cerebellum.experiments.compare`, imported when first needed: it imports Brian2, which must not
    happen in a Dask worker thread before :class:`WarmWorker` ran (:func:`_import_engines`)."""
    _import_engines()
    from cerebellum.experiments import compare

    return compare


# --------------------------------------------------------------------------- the grid


def _compare_fields() -> dict[str, dataclasses.Field]:
    return {field.name: field for field in dataclasses.fields(_compare().CompareConfig)}


def _is_sequence_field(field: dataclasses.Field) -> bool:
    """Fields whose one value is a list (``noise_levels``, ``neuron_sweep``)."""
    return "tuple" in str(field.type)


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep runs: grids, each a Cartesian product of axes.

    Attributes
    ----------
    grids : tuple of dict of str to tuple
        Per grid, each :class:`~cerebellum.experiments.compare.CompareConfig` field it sets and the values
        it takes (one value is an axis of length 1); the defaults are merged in.
    source : str
        Where the grid came from (a file path, or ``"flags"``), for error messages.
    name : str or None
        A title for the report.
    """

    grids: tuple[dict[str, tuple], ...]
    source: str = "flags"
    name: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready: every axis as a list."""
        return {
            "name": self.name,
            "source": self.source,
            "grids": [{key: list(values) for key, values in grid.items()} for grid in self.grids],
        }


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: one comparison.

    Attributes
    ----------
    point_id : str
        :func:`point_id` of the config: the name of its run directory.
    config : CompareConfig
    grid : int
        Index of the grid it came from (0-based).
    """

    point_id: str
    config: CompareConfig
    grid: int


def _is_scalar(value) -> bool:
    return not isinstance(value, list | dict | tuple)


def _parse_grid(mapping, where: str) -> dict[str, tuple]:
    """Check one table of a sweep file: known keys, one value or a non-empty list of values."""
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{where} must be a table of CompareConfig fields; got {mapping!r}")
    fields = _compare_fields()
    axes: dict[str, tuple] = {}
    for key, value in mapping.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"{where}: unknown key {key!r}{hint}; expected CompareConfig fields "
                f"{', '.join(fields)}"
            )
        if isinstance(value, Mapping):
            raise ValueError(f"{where}.{key} must be a value or a list of values; got a table")
        if _is_sequence_field(fields[key]):  # one value is a list; a list of lists is an axis
            if not isinstance(value, list):
                raise ValueError(
                    f"{where}.{key} must be a list such as [0, 2, 4] (or a list of lists for "
                    f"several); got {value!r}"
                )
            values = (
                tuple(tuple(item) for item in value)
                if value and all(isinstance(item, list) for item in value)
                else (tuple(value),)
            )
            if not all(all(_is_scalar(v) for v in item) for item in values):
                raise ValueError(f"{where}.{key} must hold numbers; got {value!r}")
        elif isinstance(value, list):
            values = tuple(value)
            if not all(_is_scalar(v) for v in values):
                raise ValueError(
                    f"{where}.{key} must be a value or a list of values; got {value!r}"
                )
        else:
            values = (value,)
        if not values:
            raise ValueError(f"{where}.{key} is an empty list; give at least one value")
        axes[key] = values
    return axes


def load_sweep_file(path: str | os.PathLike) -> SweepSpec:
    """Read and check a sweep file (TOML, :mod:`tomllib`).

    Parameters
    ----------
    path : str or path
        A TOML file with an optional ``name`` (str), an optional ``[defaults]`` table and one
        or more ``[[grid]]`` tables (module docstring). Keys are
        :class:`~cerebellum.experiments.compare.CompareConfig` fields; a list is an axis (for
        ``noise_levels`` and ``neuron_sweep``, whose one value is a list, a list of lists).

    Returns
    -------
    SweepSpec

    Raises
    ------
    ValueError
        Missing or unreadable file, invalid TOML, an unknown key, an empty list, a table where
        a value belongs, or no grid; the message names the file and the key.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ValueError(f"sweep file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"sweep file {str(path)!r} cannot be read ({error})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML ({error})") from None
    for key in document:
        if key not in FILE_KEYS:
            close = difflib.get_close_matches(key, [*FILE_KEYS, *_compare_fields()], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"{path}: unknown top-level key {key!r}{hint}; expected 'name', a [defaults] "
                "table and [[grid]] tables (CompareConfig fields go inside them)"
            )
    name = document.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"{path}: name must be a string; got {name!r}")
    defaults = _parse_grid(document.get("defaults", {}), f"{path} [defaults]")
    grids = document.get("grid")
    if isinstance(grids, Mapping):  # a single [grid] table
        grids = [grids]
    if not grids:
        raise ValueError(
            f"{path}: no [[grid]] table; a sweep needs at least one (an empty [[grid]] runs the "
            "defaults once)"
        )
    if not isinstance(grids, list):
        raise ValueError(f"{path}: grid must be [[grid]] tables; got {grids!r}")
    parsed = tuple(
        {**defaults, **_parse_grid(grid, f"{path} [[grid]] {index + 1}")}
        for index, grid in enumerate(grids)
    )
    return SweepSpec(grids=parsed, source=str(path), name=name)


def spec_from_axes(axes: Mapping[str, Sequence | None], *, name: str | None = None) -> SweepSpec:
    """One grid from ``{field: values}`` (the CLI's flags); None or missing keeps the default.

    Parameters
    ----------
    axes : mapping of str to sequence or None
        CompareConfig field to the values it takes (for ``noise_levels``, a list of lists).
    name : str, optional

    Returns
    -------
    SweepSpec
    """
    table = {}
    for key, values in axes.items():
        if values is None:
            continue
        values = [list(v) if isinstance(v, tuple) else v for v in values]
        table[key] = values
    if not table:
        raise ValueError(
            "a sweep needs a grid: give a sweep file or at least one grid flag (--radius 3,4,5, "
            "--n-neurons 256,1024, --seeds 0,1, ...)"
        )
    return SweepSpec(grids=(_parse_grid(table, "flags"),), source="flags", name=name)


def point_id(config: CompareConfig) -> str:
    """A stable name for a point: the first 16 hex digits of the SHA-256 of its config.

    The config is hashed as canonical JSON (:meth:`CompareConfig.to_dict`, sorted keys, after
    the config's own normalisation, so ``mode="deterministic"`` and ``"algorithmic"`` are one
    point). A new CompareConfig field changes every id, so old points are run again rather
    than silently reused under a config they did not run.

    Parameters
    ----------
    config : CompareConfig

    Returns
    -------
    str
    """
    canonical = json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _describe(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in values.items()) or "the defaults"


def plan_sweep(spec: SweepSpec) -> list[SweepPoint]:
    """Expand the grids into points and validate every one before any work starts.

    Each combination becomes a :class:`~cerebellum.experiments.compare.CompareConfig`, checked by
    :func:`~cerebellum.experiments.compare.configure` against its preset. Points that two grids share
    run once (the first grid's).

    Parameters
    ----------
    spec : SweepSpec

    Returns
    -------
    list of SweepPoint
        In grid order, then the product's order.

    Raises
    ------
    ValueError
        The first invalid point, naming its grid, its values and the library's message.
    """
    points: dict[str, SweepPoint] = {}
    for index, grid in enumerate(spec.grids):
        keys = list(grid)
        for combination in itertools.product(*(grid[key] for key in keys)):
            values = dict(zip(keys, combination, strict=True))
            varying = {key: values[key] for key in keys if len(grid[key]) > 1}
            where = f"{spec.source} grid {index + 1} point ({_describe(varying or values)})"
            try:
                config = _compare().CompareConfig(**values)
                _compare().configure(config)
            except (ValueError, TypeError) as error:
                raise ValueError(f"{where}: {error}") from None
            identifier = point_id(config)
            points.setdefault(identifier, SweepPoint(identifier, config, index))
    return list(points.values())


def default_out(points: Iterable[SweepPoint]) -> Path:
    """``runs/sweep-<hash of the point ids>``: the same sweep resumes in the same directory."""
    digest = hashlib.sha256(",".join(sorted(p.point_id for p in points)).encode()).hexdigest()
    return Path("runs") / f"sweep-{digest[:10]}"


# --------------------------------------------------------------------------- one point


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


def _import_engines() -> None:
    """Import Brian2 (through the comparison) from a worker thread.

    Brian2 installs a SIGINT handler at import, which only the main thread may do; a Dask task
    runs in a worker thread. The worker plugin imports it in the worker's main thread at
    start; this fallback skips the handler (a worker is stopped by its nanny, not by Ctrl-C).
    """
    if "brian2" in sys.modules:
        return
    if threading.current_thread() is threading.main_thread():
        import brian2  # noqa: F401

        return
    import signal

    original = signal.signal
    signal.signal = lambda signum, handler: signal.getsignal(signum)
    try:
        import brian2  # noqa: F401
    finally:
        signal.signal = original


class WarmWorker(WorkerPlugin):
    """Import Brian2, torch and the comparison once when a worker starts (in its main thread,
    where Brian2 may install its SIGINT handler), so points do not pay for it."""

    name = "cerebellar-sdm-warm-worker"

    def setup(self, worker) -> None:
        _compare()


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
        ``params`` and ``wall_time_s``); :func:`cerebellum.experiments.compare.run_comparison` by default.

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
            write_json(
                staging / "meta.json",
                collect_meta(
                    seed=config.seed,
                    device=config.device,
                    torch_device=config.torch_device,
                    wall_time_s=record["wall_time_s"],
                ),
            )
            write_json(staging / POINT_FILE, record)
    except (ValueError, OSError):  # another run of this task renamed its directory first
        winner = read_point_record(target)
        if winner is None:
            raise
        return winner
    return record


# --------------------------------------------------------------------------- the sweep


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep did and where it put it.

    Attributes
    ----------
    out : Path
        The sweep directory.
    n_points, n_ok, n_failed : int
        Points in the sweep; succeeded; failed (after this run).
    n_skipped : int
        Points already finished before this run (no work done for them).
    n_run : int
        Points submitted in this run.
    table : pandas.DataFrame
        :func:`sweep_table` (also ``out / results.parquet``).
    figures : tuple of str
        Figure files written under ``out``.
    wall_time_s : float
    """

    out: Path
    n_points: int
    n_ok: int
    n_failed: int
    n_skipped: int
    n_run: int
    table: Any
    figures: tuple[str, ...]
    wall_time_s: float

    @property
    def table_path(self) -> Path:
        return self.out / TABLE_FILE

    @property
    def report_path(self) -> Path:
        return self.out / "report.md"


def _remove_stale_staging(points_dir: Path) -> None:
    """Staging directories a killed worker left behind (its cleanup never ran)."""
    if points_dir.is_dir():
        for stale in points_dir.glob(".*.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def _dask_client(workers: int | None, scheduler: str | None, connect_timeout_s: float):
    """A client of an existing scheduler, or of a LocalCluster started here (closed after)."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=connect_timeout_s, set_as_default=False)
        except Exception as error:  # OSError, TimeoutError, ValueError for a malformed address
            raise ValueError(
                f"cannot reach the Dask scheduler at {scheduler!r} within {connect_timeout_s:g} s "
                f"({_error_line(error)})"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    n_workers = DEFAULT_WORKERS if workers is None else workers
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def run_sweep(
    points: Sequence[SweepPoint],
    out: str | os.PathLike,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client=None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    progress: bool = True,
    runner: Runner | None = None,
    spec: SweepSpec | None = None,
    on_result: Callable[[dict], None] | None = None,
    figures: bool = True,
) -> SweepOutcome:
    """Run every point not finished yet as a Dask task, then write the table, figures, report.

    Parameters
    ----------
    points : sequence of SweepPoint
        From :func:`plan_sweep` (validated).
    out : str or path
        The sweep directory; ``points/<point_id>/`` per point. May exist (a resumed sweep).
    workers : int, optional
        Worker processes of the LocalCluster started here (default
        :data:`DEFAULT_WORKERS`, one thread each). Not with ``scheduler`` or ``client``.
    scheduler : str, optional
        Address of an existing scheduler (``tcp://host:8786``), reached within
        ``connect_timeout_s`` or refused with a ValueError. Its workers must import this
        package and see ``out`` (a shared file system).
    client : distributed.Client, optional
        A client to use as it is (not closed here).
    connect_timeout_s : float
    progress : bool
        A tqdm bar on stderr over finished points, with the time left.
    runner : callable, optional
        Runs one point (:func:`run_point`); :func:`cerebellum.experiments.compare.run_comparison`.
    spec : SweepSpec, optional
        Recorded in ``sweep.json`` and the report.
    on_result : callable, optional
        Called in this process with each point's record as it finishes.
    figures : bool
        Draw the summary figures (a few seconds of matplotlib); the table and the report are
        always written.

    Returns
    -------
    SweepOutcome
    """
    from tqdm import tqdm

    given = sum(option is not None for option in (workers, scheduler, client))
    if given > 1:
        raise ValueError(
            "give at most one of workers (a LocalCluster started here), scheduler (an existing "
            "cluster) and client"
        )
    if workers is not None and (
        isinstance(workers, bool) or int(workers) != workers or workers < 1
    ):
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    started = time.perf_counter()
    out = Path(out).expanduser().absolute()
    points_dir = out / "points"
    pending = [
        p
        for p in points
        if not _finished(read_point_record(points_dir / p.point_id), points_dir / p.point_id)
    ]
    n_skipped = len(points) - len(pending)
    if pending:
        context = (
            contextlib.nullcontext(client)
            if client is not None
            else _dask_client(workers, scheduler, connect_timeout_s)
        )
    else:
        context = contextlib.nullcontext(None)  # nothing to run: no cluster
    with context as active:
        points_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(points_dir)
        if pending:
            _run_pending(
                active,
                pending,
                points_dir,
                runner,
                progress,
                n_skipped,
                len(points),
                on_result,
                tqdm,
            )
        _remove_stale_staging(points_dir)
    table = sweep_table(points, out)
    _write_parquet(table, out / TABLE_FILE)
    from cerebellum.plotting.sweep_figures import write_sweep_figures, write_sweep_report

    figures = tuple(write_sweep_figures(table, out)) if figures else ()
    records = [read_point_record(points_dir / p.point_id) or {} for p in points]
    n_ok = sum(r.get("status") == "ok" for r in records)
    outcome = SweepOutcome(
        out=out,
        n_points=len(points),
        n_ok=n_ok,
        n_failed=len(points) - n_ok,
        n_skipped=n_skipped,
        n_run=len(pending),
        table=table,
        figures=figures,
        wall_time_s=time.perf_counter() - started,
    )
    write_json(
        out / "sweep.json",
        {
            "schema_version": SWEEP_SCHEMA_VERSION,
            "spec": None if spec is None else spec.to_dict(),
            "points": [
                {"point_id": p.point_id, "grid": p.grid, "status": r.get("status")}
                for p, r in zip(points, records, strict=True)
            ],
            "n_points": outcome.n_points,
            "n_ok": outcome.n_ok,
            "n_failed": outcome.n_failed,
            "n_skipped": outcome.n_skipped,
            "n_run": outcome.n_run,
            "wall_time_s": outcome.wall_time_s,
            "meta": collect_meta(
                seed=min(p.config.seed for p in points) if points else 0,
                device=",".join(sorted({p.config.device for p in points})),
                torch_device=",".join(sorted({p.config.torch_device for p in points})),
                wall_time_s=outcome.wall_time_s,
            ),
        },
    )
    write_sweep_report(outcome, spec, out / "report.md")
    return outcome


def _run_pending(
    client, pending, points_dir, runner, progress, n_skipped, n_total, on_result, tqdm
) -> None:
    from distributed import as_completed

    client.register_plugin(WarmWorker(), name=WarmWorker.name)
    futures = {}
    for point in pending:
        future = client.submit(
            run_point,
            point.config.to_dict(),
            str(points_dir / point.point_id),
            runner=runner,
            key=f"cerebellar-sdm-point-{point.point_id}",
            pure=False,
        )
        futures[future.key] = (future, point)
    bar = tqdm(
        total=n_total,
        initial=n_skipped,
        desc="sweep",
        unit="point",
        disable=not progress,
        file=sys.stderr,
        dynamic_ncols=True,
    )
    counts = {"ok": 0, "failed": 0}
    try:
        for future in as_completed([f for f, _ in futures.values()], loop=client.loop):
            point = futures[future.key][1]
            try:
                record = future.result()
            except Exception as error:  # KilledWorker, or a failure outside run_point's guard
                record = _record_client_failure(point, points_dir / point.point_id, error)
            counts["ok" if record.get("status") == "ok" else "failed"] += 1
            bar.set_postfix(counts, refresh=False)
            bar.update(1)
            if on_result is not None:
                on_result(record)
    except BaseException:
        for future, _ in futures.values():
            future.cancel()
        raise
    finally:
        bar.close()


def _record_client_failure(point: SweepPoint, point_dir: Path, error: BaseException) -> dict:
    """Record a point whose task itself failed (e.g. its workers kept dying)."""
    existing = read_point_record(point_dir)
    if existing is not None:
        return existing
    record = {
        "schema_version": SWEEP_SCHEMA_VERSION,
        "point_id": point.point_id,
        "status": "failed",
        "error": _error_line(error),
        "config": point.config.to_dict(),
        "circuit": _resolved_circuit(point.config),
        "host": None,
        "pid": None,
        "wall_time_s": None,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    try:
        with atomic_run_directory(point_dir) as staging:
            (staging / "traceback.txt").write_text("".join(traceback.format_exception(error)))
            write_json(staging / POINT_FILE, record)
    except (ValueError, OSError):
        return read_point_record(point_dir) or record
    return record


# --------------------------------------------------------------------------- the table

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
    rows = []
    for pair, metrics in results.get("agreement", {}).items():
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
    for engine, recall in results.get("recall", {}).items():
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
    beta = results.get("beta", {})
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
