"""Running a sweep on Dask: the points not finished yet as tasks on a LocalCluster started here
or an existing scheduler (:func:`run_sweep`), then the table, the figures and the report."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cerebellum.experiments.sweep.point import (
    POINT_FILE,
    SWEEP_SCHEMA_VERSION,
    Runner,
    _error_line,
    _finished,
    _resolved_circuit,
    read_point_record,
    run_point,
)
from cerebellum.experiments.sweep.spec import SweepPoint, SweepSpec
from cerebellum.experiments.sweep.table import TABLE_FILE, _write_parquet, sweep_table
from cerebellum.experiments.sweep.warm import WarmWorker
from cerebellum.io.rundir import atomic_run_directory, collect_meta, write_json

__all__ = ["CONNECT_TIMEOUT_S", "DEFAULT_WORKERS", "SweepOutcome", "run_sweep"]

DEFAULT_WORKERS = 2
#: Seconds to wait for an existing scheduler before the sweep is refused.
CONNECT_TIMEOUT_S = 10.0


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
    _check_cluster_options(workers, scheduler, client)
    started = time.perf_counter()
    out = Path(out).expanduser().absolute()
    points_dir = out / "points"
    pending = [
        p
        for p in points
        if not _finished(read_point_record(points_dir / p.point_id), points_dir / p.point_id)
    ]
    with _cluster_for(pending, client, workers, scheduler, connect_timeout_s) as active:
        _run_pending(active, pending, points_dir, runner, progress, len(points), on_result)
    return _write_outputs(
        points, out, spec=spec, n_run=len(pending), figures=figures, started=started
    )


def _check_cluster_options(workers: int | None, scheduler: str | None, client) -> None:
    """At most one way to a cluster, and a positive integer of workers."""
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


def _cluster_for(pending, client, workers, scheduler, connect_timeout_s: float):
    """The client to run ``pending`` on, as a context: none when nothing is pending, ``client``
    as it is (not closed), else :func:`_dask_client`."""
    if not pending:
        return contextlib.nullcontext(None)  # nothing to run: no cluster
    if client is not None:
        return contextlib.nullcontext(client)
    return _dask_client(workers, scheduler, connect_timeout_s)


def _run_pending(client, pending, points_dir, runner, progress, n_total, on_result) -> None:
    """Run the unfinished points on ``client``; stale staging directories go before and after."""
    points_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(points_dir)
    if pending:
        client.register_plugin(WarmWorker(), name=WarmWorker.name)
        futures = _submit(client, pending, points_dir, runner)
        _collect(client, futures, points_dir, progress, n_total - len(pending), n_total, on_result)
    _remove_stale_staging(points_dir)


def _submit(client, pending, points_dir, runner) -> dict:
    """One :func:`run_point` task per point: ``{key: (future, point)}``."""
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
    return futures


def _collect(client, futures, points_dir, progress, n_skipped, n_total, on_result) -> None:
    """Wait for the tasks as they finish, with a progress bar; cancel the rest on an error."""
    from distributed import as_completed
    from tqdm import tqdm

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


def _write_outputs(
    points: Sequence[SweepPoint],
    out: Path,
    *,
    spec: SweepSpec | None,
    n_run: int,
    figures: bool,
    started: float,
) -> SweepOutcome:
    """The table (Parquet), the figures, ``sweep.json`` and the report of a run sweep."""
    points_dir = out / "points"
    table = sweep_table(points, out)
    _write_parquet(table, out / TABLE_FILE)
    from cerebellum.io.sweep_report import write_sweep_report
    from cerebellum.plotting.sweep_figures import write_sweep_figures

    drawn = tuple(write_sweep_figures(table, out)) if figures else ()
    records = [read_point_record(points_dir / p.point_id) or {} for p in points]
    n_ok = sum(r.get("status") == "ok" for r in records)
    outcome = SweepOutcome(
        out=out,
        n_points=len(points),
        n_ok=n_ok,
        n_failed=len(points) - n_ok,
        n_skipped=len(points) - n_run,
        n_run=n_run,
        table=table,
        figures=drawn,
        wall_time_s=time.perf_counter() - started,
    )
    _write_sweep_json(out / "sweep.json", spec, points, records, outcome)
    write_sweep_report(outcome, spec, out / "report.md")
    return outcome


def _write_sweep_json(path: Path, spec, points, records, outcome: SweepOutcome) -> None:
    """``sweep.json``: the spec, each point's status, the counts and the run's provenance."""
    write_json(
        path,
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
