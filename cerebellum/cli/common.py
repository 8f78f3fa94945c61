"""What every subcommand shares: argument types and the way a command ends.

Argument types (``type=`` of argparse) turn text into checked values or raise
:class:`argparse.ArgumentTypeError` (a usage error, exit 2). :func:`run_command` runs a
subcommand's handler and turns what it raises into one line on stderr and an exit status: bad
input (``ValueError``, ``TypeError``, sizes past the engines, out of memory) exits 2,
:class:`CommandFailed` its own code, a signal 128 + its number (:func:`interrupted`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys

from cerebellum.cli import signals
from cerebellum.experiments import resources
from models.validation import check_int

__all__ = [
    "PRESET_NAMES",
    "PROG",
    "CommandFailed",
    "add_memory_limit",
    "add_no_progress",
    "count",
    "interrupted",
    "memory_size",
    "noise_levels",
    "out_directory",
    "run_command",
]

PROG = "cerebellar-sdm"


class CommandFailed(Exception):
    """A failure that is not bad input: one line on stderr and ``code``.

    Parameters
    ----------
    message : str
        The line printed after ``cerebellar-sdm: error:``.
    code : int
        The exit status (default 1).
    """

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- argument types


def count(text: str) -> int:
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


def out_directory(text: str) -> str:
    """A run directory path: any non-empty text (``--out ""`` is refused, not the default)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a directory path; got {text!r}")
    return text


def memory_size(text: str) -> int:
    """Parse ``--memory-limit``: bytes, or 8G, 512M, 1.5GiB."""
    try:
        return resources.parse_bytes(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def noise_levels(text: str) -> tuple[int, ...]:
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


def add_memory_limit(parser: argparse.ArgumentParser) -> None:
    """Add ``--memory-limit SIZE`` (``args.memory_limit``: bytes or None)."""
    parser.add_argument(
        "--memory-limit",
        type=memory_size,
        default=None,
        metavar="SIZE",
        help="memory the job may use, e.g. 8G (default: MemAvailable in /proc/meminfo, or "
        f"${resources.MEMORY_LIMIT_ENV}); larger estimates are refused before they start",
    )


def add_no_progress(parser: argparse.ArgumentParser) -> None:
    """Add ``--no-progress`` (``args.no_progress``)."""
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


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


#: ``choices=`` of ``--preset`` (lazy: see :class:`_PresetNames`); ``PRESET_NAMES.parse`` is
#: its ``type=``.
PRESET_NAMES = _PresetNames()


# --------------------------------------------------------------------------- ending a command


def interrupted(signum: int) -> int:
    """One line on stderr for a command ended by ``signum``; returns 128 + the signal."""
    policy = signals.current()
    if policy is not None:
        policy.consume(signum)
    name = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    brian2_logger = sys.modules.get("brian2.utils.logger")
    if brian2_logger is not None:  # a circuit interrupted mid-build is garbage, not a mistake
        brian2_logger.BrianLogger.suppress_name("unused_brian_object")
    with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
        print(f"{PROG}: {name}; nothing was written", file=sys.stderr, flush=True)
    return signals.EXIT_BY_SIGNAL.get(signum, 128 + int(signum))


def _error(message: str, code: int = 2) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def run_command(handler, args: argparse.Namespace) -> int:
    """Run ``handler(args)``; what it raises becomes one line on stderr and an exit status.

    Parameters
    ----------
    handler : callable
        A subcommand's ``run(args) -> int``.
    args : argparse.Namespace
        The parsed arguments.

    Returns
    -------
    int
        The handler's status; 2 for bad input, a size past the engines or out of memory;
        :class:`CommandFailed`'s code; 128 + the signal when interrupted; 0 when the reader of
        stdout left (a broken pipe).
    """
    try:
        return handler(args)
    except (ValueError, TypeError) as error:
        return _error(str(error))
    except OverflowError as error:  # a size past what numpy, torch or Brian2 can represent
        return _error(f"a size is too large for the engines ({error})")
    except CommandFailed as failure:
        return _error(str(failure), failure.code)
    except BrokenPipeError:  # e.g. `cerebellar-sdm theory | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        line = f"{PROG}: error: {error.strerror or error}: {error.filename or ''}".rstrip(": ")
        print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return interrupted(signal.SIGINT)
    except signals.Terminated as stop:
        return interrupted(stop.signum)
    except MemoryError:
        return _error("out of memory; choose smaller sizes")
    except RuntimeError as error:  # torch reports a failed allocation as a RuntimeError
        if "allocate" not in str(error):
            raise
        return _error(f"out of memory ({str(error).splitlines()[0]})")
