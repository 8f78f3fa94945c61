"""``cerebellar-sdm theory``: print the exact SDM theory of one setting.

The numbers come from :func:`cerebellum.experiments.theory.theory_results`; this module parses
the flags, guards the resources and prints a table or one JSON object. It never imports Brian2.
"""

from __future__ import annotations

import argparse
import json
import math

from cerebellum.cli import common, job
from cerebellum.experiments import resources

__all__ = ["THEORY_PROGRESS_S", "add_parser", "format_log", "print_theory", "run"]

#: ``theory`` shows a progress bar when its estimate exceeds this many seconds.
THEORY_PROGRESS_S = 5.0


def add_parser(subparsers) -> None:
    """Register ``theory`` and its options."""
    parser = subparsers.add_parser(
        "theory",
        help="exact SDM theory: activation, beta fits, optimal radii, intersections",
        description=(
            "Print the exact Sparse Distributed Memory theory for one setting: activation "
            "probability, expected active neurons, the softmax beta by every fit method, the "
            "optimal radii (Bricken & Pehlevan 2021, Appendix B.5) and circle intersections "
            "by distance."
        ),
    )
    parser.add_argument("--n-dims", type=int, default=64, help="address length n (default 64)")
    parser.add_argument(
        "--radius", type=int, default=11, help="activation radius d in bits (default 11)"
    )
    parser.add_argument(
        "--n-neurons",
        type=common.count,
        default=None,
        help="neurons r at random addresses, e.g. 1e6 or 2^40 (default: all 2^n addresses)",
    )
    parser.add_argument(
        "--n-patterns",
        type=common.count,
        default=1024,
        help="stored patterns m for the optimal radii and critical distance (default 1024)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    common.add_memory_limit(parser)
    common.add_no_progress(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compute the theory (a progress bar when it is slow) and print it."""
    from cerebellum.experiments.theory import THEORY_STAGES, theory_results

    estimate = resources.theory_estimate(args.n_dims) if args.n_dims >= 1 else None
    quiet = args.no_progress or estimate is None or estimate.seconds < THEORY_PROGRESS_S
    bar = job.stage_bar(  # n_dims < 1 (no estimate) is the library's error to name
        "theory",
        total=THEORY_STAGES,
        estimate=estimate,
        memory_limit=args.memory_limit,
        disable=quiet,
    )
    with bar:
        results = theory_results(
            args.n_dims,
            args.radius,
            args.n_neurons,
            args.n_patterns,
            step=bar.stage,
            scan=None if quiet else bar.scan,
        )
    if args.json:
        print(json.dumps(results, allow_nan=False))
    else:
        print_theory(results)
    return 0


def format_log(log_value: float) -> str:
    """Format exp(log_value) in scientific notation, also beyond the float range."""
    if log_value == -math.inf:
        return "0"
    exponent = math.floor(log_value / math.log(10.0))
    mantissa = math.exp(log_value - exponent * math.log(10.0))
    if mantissa >= 9.995:
        mantissa, exponent = mantissa / 10.0, exponent + 1
    return f"{mantissa:.3g}e{exponent:+d}"


def _describe_neurons(n_neurons: int | None, n_dims: int) -> str:
    if n_neurons is None:
        return f"2^{n_dims} (every address is a neuron)"
    return str(n_neurons)


def _print_header(results: dict) -> None:
    n_dims = results["n_dims"]
    print(
        f"SDM theory: n_dims={n_dims}, activation_radius={results['activation_radius']}, "
        f"n_neurons={_describe_neurons(results['n_neurons'], n_dims)}, "
        f"n_patterns={results['n_patterns']}"
    )
    print(f"activation probability p = {results['activation_probability']:.6g}")
    log_active = results["log_expected_active_neurons"]
    shown = format_log(log_active) if log_active is not None else "0"
    print(f"expected active neurons p*r = {shown}")


def _print_betas(results: dict) -> None:
    print("beta (ln N ~ bias + beta * cos):")
    for method, fit in results["beta"].items():
        if "error" in fit:
            print(f"  {method:<10} n/a ({fit['error']})")
        else:
            print(
                f"  {method:<10} {fit['beta']:10.4f}   bias {fit['bias']:10.4f}   "
                f"R^2 {fit['r_squared']:.5f}"
            )


def _print_intersections(results: dict) -> None:
    print("intersections by distance t:")
    print(f"  {'t':>5}  {'cos':>8}  {'ln N':>12}  {'expected neurons':>16}")
    for row in results["intersections"]:
        log_count = row["log_intersection"]
        expected = row["expected_neurons"]
        print(
            f"  {row['distance']:>5}  {row['cosine']:>8.4f}  "
            f"{(f'{log_count:.4f}' if log_count is not None else '-inf'):>12}  "
            f"{(f'{expected:.6g}' if expected is not None else 'overflow'):>16}"
        )


def print_theory(results: dict) -> None:
    """Print :func:`~cerebellum.experiments.theory.theory_results` as a table."""
    _print_header(results)
    _print_betas(results)
    optimal = results["optimal_radius"]
    print(
        f"optimal radius for n_patterns={results['n_patterns']}: snr {optimal['snr']}, "
        f"memory {optimal['memory']}, critical_distance {optimal['critical_distance']}"
    )
    print(
        f"critical distance at radius {results['activation_radius']}: "
        f"{results['critical_distance']} bits"
    )
    _print_intersections(results)
