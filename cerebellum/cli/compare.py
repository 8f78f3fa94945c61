"""``cerebellar-sdm compare``: the spiking circuit against the PyTorch mirror, one run directory.

The job is :func:`cerebellum.experiments.compare.run_comparison`; this module parses the flags,
checks the run directory, the bounds and the memory before anything is allocated, shows the
stage bar, writes the run directory atomically and prints the headline table.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import sys
from pathlib import Path

from cerebellum.cli import common, job, signals, standalone
from cerebellum.experiments import resources
from models.activation import ActivationRule

__all__ = ["add_parser", "run"]

#: The stage bar's steps: the comparison's stages and the writing of the run directory.
_STAGES = 9


def add_parser(subparsers) -> None:
    """Register ``compare`` and its options."""
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
        type=common.PRESET_NAMES.parse,
        choices=common.PRESET_NAMES,
        metavar="PRESET",
        help="circuit preset: %(choices)s (default: default)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the one integer seed (default 0)")
    parser.add_argument(
        "--out",
        type=common.out_directory,
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
    _add_size_arguments(parser)
    _add_output_arguments(parser)
    common.add_memory_limit(parser)
    common.add_no_progress(parser)
    parser.set_defaults(func=run)


def _add_size_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n-dims", type=common.count, default=None, help="address bits n")
    parser.add_argument("--radius", type=int, default=None, help="activation radius d")
    parser.add_argument("--top-k", type=common.count, default=None, help="k for --activation top-k")
    parser.add_argument("--n-neurons", type=common.count, default=None, help="granule cells r")
    parser.add_argument(
        "--n-patterns", type=common.count, default=16, help="stored patterns m (default 16)"
    )
    parser.add_argument(
        "--noise-levels",
        type=common.noise_levels,
        default=None,
        help="bits flipped, e.g. 0,2,4 (default: 7 levels from 0 to d)",
    )
    parser.add_argument(
        "--n-queries", type=common.count, default=16, help="queries per noise level (default 16)"
    )
    parser.add_argument(
        "--recall-steps", type=common.count, default=6, help="most iterated reads (default 6)"
    )


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
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


def run(args: argparse.Namespace) -> int:
    """Check, run the comparison into a fresh run directory, print the headline table."""
    job.files_only()
    from cerebellum.experiments.compare import configure
    from cerebellum.io.report import headline_table

    signals.reapply()  # importing Brian2 installed its own SIGINT handler
    config = _config(args)
    out = job.run_directory(args.out, f"{config.preset}-s{args.seed}")
    resolved = configure(config)  # every input error surfaces before the progress bar starts
    with job.stage_bar(
        "compare",
        total=_STAGES,
        estimate=_estimate(resolved),
        memory_limit=args.memory_limit,
        disable=args.no_progress,
    ) as bar:
        comparison = _run_into(out, resolved, bar, nwb=args.nwb)
    print(headline_table(comparison.results))
    print(f"\nrun directory: {Path(out).absolute()} (report.md, results.json, figures)")
    if comparison.exact_agreement_failed:
        print(
            f"{common.PROG}: the deterministic circuit and NeuronSDM disagree by more than 1e-9 "
            "(a bug); see report.md",
            file=sys.stderr,
        )
        return 1 if args.strict else 0
    return 0


def _config(args: argparse.Namespace):
    """The :class:`~cerebellum.experiments.compare.CompareConfig` of the flags."""
    from cerebellum.experiments.compare import CompareConfig

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
    return config


def _estimate(resolved) -> resources.Estimate:
    """Bounds (Brian2's int32 indices), then the estimate, from the resolved sizes."""
    config, params = resolved.config, resolved.params
    n_dims = params.granule.n_dims
    resources.check_compare_bounds(params, n_values=n_dims, n_pattern_channels=config.n_patterns)
    return resources.compare_estimate(
        params,
        n_patterns=config.n_patterns,
        n_queries_total=config.n_queries * len(resolved.noise_levels),
        recall_steps=config.recall_steps,
        neuron_sweep=config.neuron_sweep,
    )


def _run_into(out: str, resolved, bar: job.StageBar, *, nwb: bool):
    """Run the comparison and write its run directory ``out`` (atomically); the Comparison."""
    from cerebellum.experiments.compare import run_comparison
    from cerebellum.io.report import write_run
    from cerebellum.io.rundir import atomic_run_directory, write_meta

    config = resolved.config
    options = {"progress": bar.stage}
    if nwb:  # only when asked: a stand-in run_comparison (tests) may not take it
        options["nwb"] = True
    if "report" in inspect.signature(run_comparison).parameters:  # the protocol's hook
        options["report"] = bar.report
    with contextlib.ExitStack() as stack:
        build_log = None
        if config.device == "cpp_standalone":
            build_log = stack.enter_context(standalone.quiet_build())
        with atomic_run_directory(out) as staging:
            try:
                comparison = run_comparison(resolved, **options)
            except RuntimeError as error:
                standalone.raise_build_failure(error, build_log)
                raise
            bar.stage("writing the run directory")
            write_run(comparison, staging)
            write_meta(
                staging,
                seed=config.seed,
                device=config.device,
                torch_device=config.torch_device,
                wall_time_s=comparison.wall_time_s,
            )
            signals.checkpoint()  # a signal whose exception was dropped: not renamed into place
    return comparison
