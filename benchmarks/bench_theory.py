"""Benchmark: exact circle intersections for every distance at n=1000, d=451.

Times :func:`models.theory.log_circle_intersection` for all t = 0..n against a baseline written
here: a Python loop over float ``scipy.special.comb`` in the lune form used by the code
published with Bricken & Pehlevan (2021) (``area - sum of lune terms``, Kanerva 1988,
Appendix B). Prints the median of several runs of each, their ratio (target >= 100x), and the
worst relative error of each against exact big-integer counts (the baseline subtracts nearly
equal floats at large t). Run: ``.venv/bin/python benchmarks/bench_theory.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy.special import comb

from models.theory import circle_intersection, log_circle_intersection


def baseline_intersections(n_dims: int, radius: int) -> np.ndarray:
    """Float N(n, d, t) for t = 0..n: circle area minus the lune, one comb call per term."""
    area = 0.0
    for i in range(radius + 1):
        area += comb(n_dims, i)
    counts = []
    for distance in range(n_dims + 1):
        lune = 0.0
        for j in range(1, distance + 1, 2):  # odd j <= t
            half = (j - 1) // 2
            lune += comb(j - 1, half) * comb(n_dims - j, radius - half)
        counts.append(area - lune)
    return np.asarray(counts)


def _median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-dims", type=int, default=1000)
    parser.add_argument("--radius", type=int, default=451)
    parser.add_argument("--repeats", type=int, default=5, help="runs of the fast path")
    parser.add_argument("--baseline-repeats", type=int, default=3)
    args = parser.parse_args()
    n_dims, radius = args.n_dims, args.radius
    distances = np.arange(n_dims + 1)

    fast = _median_seconds(lambda: log_circle_intersection(n_dims, radius, distances), args.repeats)
    slow = _median_seconds(lambda: baseline_intersections(n_dims, radius), args.baseline_repeats)

    exact = circle_intersection(n_dims, radius, distances, exact=True)
    log_exact = np.array([np.log(float(c)) if c else -np.inf for c in exact])
    nonzero = np.isfinite(log_exact)
    log_fast = log_circle_intersection(n_dims, radius, distances)
    fast_error = np.max(np.abs(np.expm1(log_fast[nonzero] - log_exact[nonzero])))
    with np.errstate(divide="ignore", invalid="ignore"):
        base = baseline_intersections(n_dims, radius)
        base_error = np.max(np.abs(base[nonzero] / np.exp(log_exact[nonzero]) - 1.0))

    print(f"all t = 0..{n_dims} at n={n_dims}, d={radius}")
    print(f"  log_circle_intersection: {fast * 1e3:9.3f} ms (median of {args.repeats})")
    print(f"  float comb lune loop:    {slow * 1e3:9.3f} ms (median of {args.baseline_repeats})")
    print(f"  speed-up: {slow / fast:,.0f}x (target >= 100x)")
    print(
        f"  max relative error vs exact integers: library {fast_error:.2e}, "
        f"baseline {base_error:.2e}"
    )


if __name__ == "__main__":
    main()
