"""Benchmark: a sweep of tiny, CPU-bound points on 2 local Dask workers against 1.

The grid is ``--points`` tiny comparisons (preset ``tiny``, algorithmic dynamics, seeds
0, 1, ...; each about a second of Brian2 and mirror work on one core). Each cluster is started,
its workers import Brian2 and torch
(:class:`cerebellum.experiments.sweep.WarmWorker`) and run one warm-up
point, and only then is the sweep timed, so the ratio measures running points side by side, not
starting processes. Each timing writes into a fresh directory (no point is skipped as finished)
and leaves out the figures. Prints the wall time of each and the ratio (target: >= 1.6 on two
free cores; a machine whose cores are shared with other work shows less).

Then ``--standalone-points`` (8) tiny points of one structure on ``cpp_standalone``, one
worker: compiled once and reused through the build cache (:mod:`cerebellum.circuit.build`),
against a fresh build directory for every point (the baseline: what each run did before the
cache). The first compile-once point builds cold and counts in that total.

Run: ``.venv/bin/python benchmarks/bench_sweep.py`` (``--points 12`` for a longer grid).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from distributed import Client

from cerebellum.circuit.build import standalone_cache_at
from cerebellum.experiments import sweep

TINY = {
    "preset": ["tiny"],
    "mode": ["algorithmic"],
    "n_patterns": [8],
    "n_queries": [4],
    "recall_steps": [2],
    "noise_levels": [[0, 1, 2, 3]],
    "neuron_sweep": [[1.0]],
}


def tiny_points(n_points: int, *, offset: int = 0) -> list[sweep.SweepPoint]:
    """``n_points`` tiny points, seeds ``offset .. offset + n_points - 1``."""
    spec = sweep.spec_from_axes({**TINY, "seed": list(range(offset, offset + n_points))})
    return sweep.plan_sweep(spec)


@contextlib.contextmanager
def warm_client(n_workers: int) -> Iterator[Client]:
    """A client of a LocalCluster of ``n_workers`` (the sweep's own), workers warmed up."""
    with sweep._dask_client(n_workers, None, sweep.CONNECT_TIMEOUT_S) as client:
        client.register_plugin(sweep.WarmWorker(), name=sweep.WarmWorker.name)
        yield client


def time_sweep(n_workers: int, points, warmup, root: Path) -> float:
    """Seconds to run ``points`` on a started, warmed LocalCluster of ``n_workers``."""
    with warm_client(n_workers) as client:
        # one warm-up point per worker: first-use imports and caches are not timed
        sweep.run_sweep(
            warmup[:n_workers], root / f"warmup-{n_workers}", client=client,
            progress=False, figures=False,
        )  # fmt: skip
        started = time.perf_counter()
        outcome = sweep.run_sweep(
            points, root / f"sweep-{n_workers}", client=client, progress=False, figures=False
        )
        elapsed = time.perf_counter() - started
    if outcome.n_ok != len(points):
        raise RuntimeError(f"{outcome.n_failed} points failed; see {outcome.report_path}")
    return elapsed


def rebuild_per_point(config):
    """The baseline runner: each point compiles its ``cpp_standalone`` project from scratch.

    It points the build cache at a new, empty folder for this point only (what every run did
    before the cache: a fresh build directory), then runs the point as the sweep would.
    """
    from cerebellum.experiments.compare import run_comparison

    with (
        tempfile.TemporaryDirectory(prefix="bench-rebuild-") as fresh,
        standalone_cache_at(fresh),
    ):
        return run_comparison(config)


def time_standalone_sweep(points, root: Path, *, runner=None) -> tuple[float, list[float]]:
    """Seconds for ``points`` (one worker, so builds are not overlapped) and each point's wall
    time, with the build cache in a new folder under ``root``."""
    # the worker process started inside inherits the cache folder
    with standalone_cache_at(root / "cache"), warm_client(1) as client:
        started = time.perf_counter()
        outcome = sweep.run_sweep(
            points, root / "sweep", client=client, progress=False, figures=False, runner=runner
        )
        elapsed = time.perf_counter() - started
    if outcome.n_ok != len(points):
        raise RuntimeError(f"{outcome.n_failed} points failed; see {outcome.report_path}")
    walls = [
        sweep.read_point_record(root / "sweep" / "points" / p.point_id)["wall_time_s"]
        for p in points
    ]
    return elapsed, walls


def bench_cpp_standalone_compile_once(n_points: int) -> None:
    """``n_points`` ``cpp_standalone`` points of one structure (seeds differ): compiled once
    and reused through the build cache, against a fresh build for every point.

    Both run on one worker in the same sweep machinery; the first compile-once point builds
    cold, so its cost is in the compile-once total.
    """
    points = sweep.plan_sweep(
        sweep.spec_from_axes({**TINY, "device": ["cpp_standalone"], "seed": list(range(n_points))})
    )
    with tempfile.TemporaryDirectory(prefix="bench-standalone-") as tmp:
        once, once_walls = time_standalone_sweep(points, Path(tmp) / "once")
        print(
            f"cpp_standalone, compile once     : {once:7.1f} s  (first point "
            f"{once_walls[0]:.1f} s, the others median "
            f"{sorted(once_walls[1:])[len(once_walls[1:]) // 2]:.1f} s)"
        )
        rebuilt, rebuilt_walls = time_standalone_sweep(
            points, Path(tmp) / "rebuild", runner=rebuild_per_point
        )
        print(
            f"cpp_standalone, rebuild per point: {rebuilt:7.1f} s  (median "
            f"{sorted(rebuilt_walls)[len(rebuilt_walls) // 2]:.1f} s per point)"
        )
    print(
        f"speed-up compile once vs rebuild per point ({n_points} points): "
        f"{rebuilt / once:.2f}x (expected >= 5)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8, help="points in the grid (default 8)")
    parser.add_argument(
        "--standalone-points",
        type=int,
        default=8,
        help="cpp_standalone points of one structure (default 8; 0 leaves that part out: "
        "rebuilding costs about a minute of compiling per point)",
    )
    args = parser.parse_args()
    points = tiny_points(args.points)
    warmup = tiny_points(2, offset=10_000)
    print(f"grid: {len(points)} tiny points; cores available: {len(os.sched_getaffinity(0))}")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        root = Path(tmp)
        one = time_sweep(1, points, warmup, root)
        print(f"1 worker : {one:7.2f} s  ({one / len(points):.2f} s/point)")
        two = time_sweep(2, points, warmup, root)
        print(f"2 workers: {two:7.2f} s  ({two / len(points):.2f} s/point)")
    print(f"speed-up 2 workers vs 1: {one / two:.2f}x (target >= 1.6 on 2 free cores)")
    if args.standalone_points:
        bench_cpp_standalone_compile_once(args.standalone_points)


if __name__ == "__main__":
    main()
