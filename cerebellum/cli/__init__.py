"""The ``cerebellar-sdm`` command line (also ``python -m cerebellum``).

The CLI parses arguments, calls the library and prints or writes results; it holds no science.
Each subcommand is a module with ``add_parser(subparsers)``, which registers its options, and
``run(args) -> int``: :mod:`~cerebellum.cli.theory`, :mod:`~cerebellum.cli.compare`,
:mod:`~cerebellum.cli.transformer_beta` and :mod:`~cerebellum.cli.sweep`. What they share is in
:mod:`~cerebellum.cli.common` (argument types, errors), :mod:`~cerebellum.cli.job` (the
preamble: run directory, resources, progress bar) and :mod:`~cerebellum.cli.signals`. Heavy
modules (Brian2, torch) are imported inside the subcommand that needs them, so
``cerebellar-sdm theory`` never imports Brian2. A ``ValueError`` or ``TypeError`` from the
library becomes one line ``cerebellar-sdm: error: <message>`` on stderr and exit code 2;
argparse errors also exit 2.

Guard rails (docs/design.md, CLI): ``theory`` and ``compare`` estimate their memory and time from
the sizes before anything is allocated (:mod:`cerebellum.experiments.resources`) and refuse, with
one line naming the size, the estimate and the limit, a job that cannot fit in the available
memory (``--memory-limit`` or ``CEREBELLAR_SDM_MEMORY_LIMIT`` override the detected limit); sizes
Brian2 cannot index are refused naming the bound; a long job says how long it may take and
its progress bar keeps ticking inside a stage. SIGINT, SIGTERM and SIGHUP end a run with one
line and exit status 128 + the signal number (130, 143, 129), leaving no run directory behind,
also during a ``cpp_standalone`` build (make's output goes to a log file, not the terminal); a
signal that was ignored when the command started (a background job) stays ignored.
"""

from __future__ import annotations

import argparse
import signal

from cerebellum.cli import compare, signals, sweep, theory, transformer_beta
from cerebellum.cli.common import PROG, interrupted, run_command

__all__ = ["PROG", "main"]

#: The subcommands, in the order ``--help`` lists them.
_COMMANDS = (theory, compare, transformer_beta, sweep)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("cerebellar-sdm")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown (not installed)"


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A spiking cerebellum that is a Sparse Distributed Memory, and the "
        "attention it approximates (Bricken & Pehlevan 2021).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for command in _COMMANDS:
        command.add_parser(subparsers)
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
    with signals.installed():
        try:
            return _main(argv)
        except KeyboardInterrupt:  # also a Ctrl-C that lands outside _main's own handlers
            return interrupted(signal.SIGINT)
        except signals.Terminated as stop:
            return interrupted(stop.signum)


def _main(argv: list[str] | None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # argparse: --help / --version (0) or a usage error (2)
        code = exit_request.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    return run_command(args.func, args)
