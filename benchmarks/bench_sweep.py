"""Benchmark: a sweep of tiny, CPU-bound points on 2 local Dask workers against 1.

The grid is ``--points`` tiny comparisons (preset ``tiny``, algorithmic dynamics, seeds
0, 1, ...; each about a second of Brian2 and mirror work on one core). Each cluster is started,
its workers import Brian2 and torch (:class:`cerebellum.sweep.WarmWorker`) and run one warm-up
point, and only then is the sweep timed, so the ratio measures running points side by side, not
starting processes. Each timing writes into a fresh directory (no point is skipped as finished)
and leaves out the figures. Prints the wall time of each and the ratio (target: >= 1.6 on two
free cores; a machine whose cores are shared with other work shows less).

The compile-once ``cpp_standalone`` sweep (build one C++ project, rerun it with new parameters)
is not part of this benchmark; :func:`bench_cpp_standalone_compile_once` is its hook.

Run: ``.venv/bin/python benchmarks/bench_sweep.py`` (``--points 12`` for a longer grid).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from distributed import Client, LocalCluster

from cerebellum import sweep

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


def time_sweep(n_workers: int, points, warmup, root: Path) -> float:
    """Seconds to run ``points`` on a started, warmed LocalCluster of ``n_workers``."""
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    try:
        with Client(cluster, set_as_default=False) as client:
            client.register_plugin(sweep.WarmWorker(), name=sweep.WarmWorker.name)
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
    finally:
        cluster.close()


def bench_cpp_standalone_compile_once() -> None:
    """Hook: a compile-once ``cpp_standalone`` sweep (one build, reruns with new parameters).

    Not implemented here; ``cerebellum.sweep.run_sweep(..., runner=...)`` is where such a
    runner plugs in.
    """
    print("cpp_standalone compile-once sweep: skipped (not part of this benchmark)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8, help="points in the grid (default 8)")
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
    bench_cpp_standalone_compile_once()


if __name__ == "__main__":
    main()
