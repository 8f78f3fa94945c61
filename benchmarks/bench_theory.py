"""Benchmark: exact circle intersections for every distance at n=1000, d=451.

Times :func:`models.theory.log_circle_intersection` for all t = 0..n against a baseline written
here: a Python loop over float ``scipy.special.comb`` in the lune form used by the code
published with Bricken & Pehlevan (2021) (``area - sum of lune terms``, Kanerva 1988,
Appendix B). Prints the median of several runs of each, their ratio (target >= 100x), and the
worst relative error of each against exact big-integer counts (the baseline subtracts nearly
equal floats at large t).

It also times the generalised intersection of soft activation,
:func:`models.soft_activation.log_curve_intersection`, for every t at the same n: once with the
hard-threshold curve (which must reproduce the exact counts; its error is printed) and once
with a soft curve (the Bernoulli-count closed form of a Poisson-mode granule cell), beside the
hard-threshold closed form. The curve sum has ``(t + 1)(n - t + 1)`` terms per distance, so it
is expected to be far slower than the lune sum; the ratio says by how much.
Run: ``.venv/bin/python benchmarks/bench_theory.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy.special import comb

from models.soft_activation import ActivationCurve, bernoulli_count_curve, log_curve_intersection
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

    hard = ActivationCurve.hard_threshold(n_dims, radius)
    # A soft curve: 5 Bernoulli steps per input at 50 % / 1 %, threshold half-way between the
    # mean counts at d and d + 1 mismatches (a Poisson-mode granule cell of this size).
    steps, p_on, p_off = 5, 0.5, 0.01
    theta = (n_dims - radius - 0.5) * steps * p_on + (radius + 0.5) * steps * p_off
    soft = bernoulli_count_curve(n_dims, steps, p_on, p_off, theta)
    curve_repeats = max(1, args.repeats // 2)
    hard_s = _median_seconds(lambda: log_curve_intersection(n_dims, hard, distances), curve_repeats)
    soft_s = _median_seconds(lambda: log_curve_intersection(n_dims, soft, distances), curve_repeats)
    log_curve = log_curve_intersection(n_dims, hard, distances) + n_dims * np.log(2.0)
    curve_error = np.max(np.abs(np.expm1(log_curve[nonzero] - log_exact[nonzero])))
    print(f"generalised intersection r E[f f], all t = 0..{n_dims} (median of {curve_repeats})")
    print(f"  hard-threshold curve: {hard_s * 1e3:9.1f} ms = {hard_s / fast:,.0f}x the lune sum")
    print(f"  soft (Bernoulli) curve: {soft_s * 1e3:7.1f} ms = {soft_s / fast:,.0f}x the lune sum")
    print(f"  hard curve's max relative error vs exact integers: {curve_error:.2e}")


if __name__ == "__main__":
    main()
