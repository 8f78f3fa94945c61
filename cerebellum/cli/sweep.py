"""``cerebellar-sdm sweep``: a grid of comparisons on dask.distributed, one Parquet table.

The job is :func:`cerebellum.experiments.sweep.run_sweep` (the extra ``cerebellar-sdm[sweep]``,
imported when the command runs); this module parses the grid (a TOML file or comma-separated
flags), plans every point before any work and prints the outcome.
"""

from __future__ import annotations

import argparse
import sys

from cerebellum.cli import common, signals

__all__ = ["add_parser", "run"]

#: The grid flags (``--n-dims`` etc.) and the type of each comma-separated item.
_GRID_FLAGS = (
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
)


def _csv(kind):
    """``type=`` of a comma-separated grid flag: ``3,4,5`` -> [3, 4, 5] (``kind`` each)."""

    def parse(text: str) -> list:
        parts = [part.strip() for part in text.split(",")]
        try:
            if not all(parts):
                raise ValueError
            return [
                common.noise_levels(p.replace(";", ",")) if kind is tuple else kind(p)
                for p in parts
            ]
        except (TypeError, ValueError, argparse.ArgumentTypeError):
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {getattr(kind, '__name__', kind)} values; got {text!r}"
            ) from None

    return parse


def add_parser(subparsers) -> None:
    """Register ``sweep`` and its options."""
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
        type=common.out_directory,
        default=None,
        help="sweep directory (default runs/sweep-<hash of the points>)",
    )
    parser.add_argument(
        "--workers",
        type=common.count,
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
    for flag, kind in _GRID_FLAGS:
        grid.add_argument(f"--{flag}", type=_csv(kind), default=None, metavar="A,B,...")
    grid.add_argument(
        "--noise-levels",
        type=_csv(tuple),
        default=None,
        metavar="0;2;4,0;4",
        help="bits flipped per point, ';' within a set, ',' between sets",
    )
    common.add_no_progress(parser)
    parser.set_defaults(func=run)


def _spec(args: argparse.Namespace, sweep):
    """The sweep's spec: the TOML file's, or the grid flags' (not both)."""
    names = [flag.replace("-", "_") for flag, _ in _GRID_FLAGS if flag != "seeds"]
    axes = {name: getattr(args, name) for name in [*names, "noise_levels"]} | {"seed": args.seeds}
    if args.scheduler is not None and args.workers is not None:
        raise ValueError("--workers starts a local cluster; with --scheduler its workers are used")
    if args.sweep_file is None:
        return sweep.spec_from_axes(axes)
    given = sorted(f"--{k.replace('_', '-')}" for k, v in axes.items() if v is not None)
    if given:
        raise ValueError(
            f"give the grid in {args.sweep_file} or as flags, not both; got {', '.join(given)}"
        )
    return sweep.load_sweep_file(args.sweep_file)


def run(args: argparse.Namespace) -> int:
    """Plan every point, run the sweep (resumable) and print the outcome."""
    try:
        from cerebellum.experiments import sweep
    except ModuleNotFoundError as error:
        raise common.CommandFailed(
            f"sweep needs the extra cerebellar-sdm[sweep] ({error})", 2
        ) from None
    spec = _spec(args, sweep)
    points = sweep.plan_sweep(spec)  # every point validated before any work starts
    out = args.out or sweep.default_out(points)
    signals.reapply()  # importing Brian2 installed its own SIGINT handler
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
    except (KeyboardInterrupt, signals.Terminated):
        print(
            f"{common.PROG}: finished points are kept in {out}/points; run the same command "
            "again to resume",
            file=sys.stderr,
        )
        raise
    print(
        f"{outcome.n_ok} of {outcome.n_points} points succeeded ({outcome.n_skipped} already "
        f"finished); table {outcome.table_path}, report {outcome.report_path}"
    )
    if outcome.n_failed:
        msg = f"{common.PROG}: {outcome.n_failed} points failed; see {outcome.report_path}"
        print(msg, file=sys.stderr)
        return 1
    return 0
