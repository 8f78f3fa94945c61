"""Brian2 on a Dask worker: imported in the worker's main thread at start (:class:`WarmWorker`),
or lazily from a task's thread without its SIGINT handler (:func:`_import_engines`)."""

from __future__ import annotations

import sys
import threading

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["WarmWorker"]


def _compare():
    """:mod:`cerebellum.experiments.compare`, imported when first needed: it imports Brian2,
    which must not happen in a Dask worker thread before :class:`WarmWorker` ran
    (:func:`_import_engines`)."""
    _import_engines()
    from cerebellum.experiments import compare

    return compare


def _import_engines() -> None:
    """Import Brian2 (through the comparison) from a worker thread.

    Brian2 installs a SIGINT handler at import, which only the main thread may do; a Dask task
    runs in a worker thread. The worker plugin imports it in the worker's main thread at
    start; this fallback skips the handler (a worker is stopped by its nanny, not by Ctrl-C).
    """
    if "brian2" in sys.modules:
        return
    if threading.current_thread() is threading.main_thread():
        import brian2  # noqa: F401

        return
    import signal

    original = signal.signal
    signal.signal = lambda signum, handler: signal.getsignal(signum)
    try:
        import brian2  # noqa: F401
    finally:
        signal.signal = original


class WarmWorker(WorkerPlugin):
    """Import Brian2, torch and the comparison once when a worker starts (in its main thread,
    where Brian2 may install its SIGINT handler), so points do not pay for it."""

    name = "cerebellar-sdm-warm-worker"

    def setup(self, worker) -> None:
        _compare()
