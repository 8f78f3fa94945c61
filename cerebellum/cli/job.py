"""The preamble every job-running subcommand shares, and its progress bar.

A job checks its run directory (:func:`run_directory`) before any work, then its inputs (the
library's own checks), then -- from the estimate, before anything is allocated -- the memory it
needs against the limit, announcing a long job on stderr, and shows a :class:`StageBar`
(:func:`stage_bar` does these last three). Heavy modules (matplotlib, tqdm) are imported here
only when a command asks for them.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

from cerebellum.cli import signals
from cerebellum.cli.common import PROG
from cerebellum.experiments import resources

__all__ = [
    "LONG_JOB_S",
    "StageBar",
    "announce",
    "bar_format",
    "check_resources",
    "files_only",
    "heartbeat",
    "run_directory",
    "stage_bar",
]

#: Jobs estimated to take longer than this many seconds announce the estimate on stderr.
LONG_JOB_S = 60.0


def files_only() -> None:
    """Select matplotlib's Agg backend: the command writes figures and never opens a window.

    Call before importing the library modules that draw.
    """
    import matplotlib

    matplotlib.use("Agg")


def run_directory(out: str | None, name: str) -> str:
    """The run directory, checked before any work starts.

    Parameters
    ----------
    out : str or None
        ``--out``; None means ``runs/<name>-<date>-<time>``.
    name : str
        The default directory's stem.

    Returns
    -------
    str
        The directory (it must not exist and its parent must be writable).
    """
    from cerebellum.io.rundir import check_output_directory

    out = out or f"runs/{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    check_output_directory(out)
    return out


def announce(estimate: resources.Estimate, limit: resources.MemoryLimit | None) -> None:
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


def check_resources(estimate: resources.Estimate, memory_limit: int | None) -> None:
    """Refuse a job whose estimate exceeds the memory limit; announce a long one.

    Parameters
    ----------
    estimate : resources.Estimate
        The job's estimated time and memory.
    memory_limit : int or None
        ``--memory-limit`` in bytes; None reads the environment or the system.
    """
    limit = resources.memory_limit(memory_limit)
    resources.check_memory(estimate, limit)
    announce(estimate, limit)


def bar_format(estimate: resources.Estimate) -> str:
    """A stage bar showing elapsed time against the estimate (a stage count says little
    about time when one stage dominates)."""
    limit = resources.format_seconds(estimate.seconds)
    return "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed} of up to " + limit + "{postfix}]"


@contextlib.contextmanager
def heartbeat(bar, period_s: float = 1.0):
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


class _NoBar:
    """A disabled bar: what :class:`StageBar` calls, doing nothing."""

    disable = True

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class StageBar:
    """A tqdm bar on stderr that advances one step per named stage of a job.

    Used as a context manager: the bar is closed at the end of the block, and a bar with an
    estimate (elapsed time shown against it) keeps its clock running inside a long stage.
    Its callbacks raise a pending signal (:func:`cerebellum.cli.signals.checkpoint`).

    Parameters
    ----------
    command : str
        The bar's label.
    total : int, optional
        The number of stages (None: a counter).
    estimate : resources.Estimate, optional
        Shown as "<elapsed> of up to <estimate>".
    disable : bool
        Show nothing (the callbacks still take pending signals).
    unit : str
        tqdm's unit.
    """

    def __init__(self, command, *, total=None, estimate=None, disable=False, unit="it") -> None:
        self.label = ""
        self.estimate = estimate
        self._stack = contextlib.ExitStack()
        if disable:  # tqdm is not even imported (theory's quick path)
            self.bar = _NoBar()
            return
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            desc=command,
            unit=unit,
            file=sys.stderr,
            bar_format=None if estimate is None else bar_format(estimate),
        )

    def __enter__(self) -> StageBar:
        self._stack.callback(self.bar.close)
        if self.estimate is not None:
            self._stack.enter_context(heartbeat(self.bar))
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def stage(self, label: str) -> None:
        """``progress(label)`` of a job: one stage done, the next one named."""
        signals.checkpoint()
        self.label = label
        self.bar.set_postfix_str(label)
        self.bar.update(1)

    def scan(self, done: int, total: int) -> None:
        """``progress(done, total)`` inside a stage (no redraw: the heartbeat draws)."""
        self.bar.set_postfix_str(f"{self.label}: {done}/{total}", refresh=False)

    def report(self, elapsed, completed, start, duration) -> None:
        """Brian2's ``report`` callback of ``Network.run``: the stage's completed fraction."""
        signals.checkpoint()
        self.bar.set_postfix_str(f"{self.label}: {float(completed):.0%}")


def stage_bar(
    command: str,
    *,
    total: int | None = None,
    estimate: resources.Estimate | None = None,
    memory_limit: int | None = None,
    disable: bool = False,
    unit: str = "it",
) -> StageBar:
    """The preamble's last step, once the inputs are checked: the resource check of
    :func:`check_resources` (when there is an estimate), then the job's :class:`StageBar`.

    Parameters
    ----------
    command : str
        The bar's label.
    total, unit, disable
        As for :class:`StageBar`.
    estimate : resources.Estimate, optional
        The job's estimate; None skips the resource check.
    memory_limit : int or None
        ``--memory-limit`` in bytes.

    Returns
    -------
    StageBar
        Enter it around the job.
    """
    if estimate is not None:
        check_resources(estimate, memory_limit)
    return StageBar(command, total=total, estimate=estimate, disable=disable, unit=unit)
