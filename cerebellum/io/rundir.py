"""Run directories written atomically.

A run writes every file into a hidden temporary directory beside the target and renames it into
place only when everything succeeded, so an error or Ctrl-C never leaves a half-written run
directory behind: creating, renaming and removing the temporary directory happen with SIGINT,
SIGTERM and SIGHUP held back (their handlers run right after), so a signal (which the CLI turns
into an exception) can arrive only while the block runs, where the cleanup catches it. Every run
directory holds ``params.json``, ``results.json``, ``meta.json`` (package and library versions,
seed, git SHA, device, wall time) and its figures.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from models.jsonio import write_json

__all__ = [
    "atomic_run_directory",
    "check_output_directory",
    "collect_meta",
    "write_json",
    "write_meta",
]


def check_output_directory(out: str | os.PathLike) -> Path:
    """Validate the target of a run before any work starts.

    Parameters
    ----------
    out : str or path
        The run directory to create. It must not exist yet, and its parent must be (or become) a
        writable directory.

    Returns
    -------
    Path
        The absolute target path.
    """
    target = Path(out).expanduser().absolute()
    if target.exists():
        raise ValueError(f"--out {target} already exists; choose a new run directory")
    parent = target.parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"--out {target} is not writable (no write access to {existing})")
    return target


@contextlib.contextmanager
def atomic_run_directory(out: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``out`` only if the block succeeds.

    Parameters
    ----------
    out : str or path
        Final run directory (must not exist).

    Yields
    ------
    Path
        The temporary directory to write into. On any exception (including KeyboardInterrupt)
        it is removed and the exception propagates; ``out`` is never created.
    """
    target = check_output_directory(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = None
    try:
        with _signals_deferred():  # a signal cannot land between mkdtemp and the cleanup's reach
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes 0700; a run directory is an ordinary folder
        yield staging
        with _signals_deferred():
            os.replace(staging, target)
            staging = None
    except BaseException:
        if staging is not None:
            with _signals_deferred():  # a second Ctrl-C must not interrupt the cleanup
                shutil.rmtree(staging, ignore_errors=True)
        raise


#: Signals that end a run (the CLI turns them into exceptions); held back during cleanup.
_DEFERRED_SIGNALS = {
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
}


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold back the run-ending signals for the block (main thread); each one that arrived is
    raised again, with its own handler, right after it.

    The deferral is done at the level of Python's handlers, not the thread's signal mask: a
    signal sent to the process may be taken by any thread that has not blocked it (torch,
    OpenMP and Dask start threads of their own), but its Python handler always runs in the main
    thread, where the recording handler installed here catches it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can be changed, and run, only in the main thread
        return
    pending: list[int] = []
    previous = {}
    for signum in _DEFERRED_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is None:  # installed outside Python: cannot be put back, so left alone
            continue
        previous[signum] = handler
        signal.signal(signum, lambda number, frame: pending.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(pending):  # each signal once, in order of arrival
            signal.raise_signal(signum)


def _git_sha() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None


def collect_meta(*, seed: int, device: str, torch_device: str, wall_time_s: float) -> dict:
    """Provenance of a run: versions, seed, git SHA, devices and wall time.

    Parameters
    ----------
    seed : int
        The one integer seed the run was split from.
    device : str
        Brian2 device (``runtime`` or ``cpp_standalone``).
    torch_device : str
        Torch device of the mirror.
    wall_time_s : float
        Wall-clock duration of the run in seconds.

    Returns
    -------
    dict
    """
    versions = {}
    for name in ("cerebellar-sdm", "brian2", "numpy", "scipy", "torch", "matplotlib"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "versions": versions,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "seed": int(seed),
        "git_sha": _git_sha(),
        "device": device,
        "torch_device": torch_device,
        "wall_time_s": float(wall_time_s),
    }


def write_meta(
    directory: str | os.PathLike,
    *,
    seed: int,
    device: str,
    torch_device: str,
    wall_time_s: float,
    packages: tuple[str, ...] = (),
    **notes: str,
) -> dict:
    """Write ``meta.json`` (:func:`collect_meta`) into ``directory``; the one place it is written.

    Parameters
    ----------
    directory : str or path
        The (staging) run directory.
    seed, device, torch_device, wall_time_s
        As for :func:`collect_meta`.
    packages : tuple of str
        Further distributions whose versions the run depends on (None when not installed).
    **notes : str
        Extra top-level fields (e.g. ``seed_note``).

    Returns
    -------
    dict
        What was written.
    """
    meta = collect_meta(
        seed=seed, device=device, torch_device=torch_device, wall_time_s=wall_time_s
    )
    for name in packages:
        try:
            meta["versions"][name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            meta["versions"][name] = None
    meta.update(notes)
    write_json(Path(directory) / "meta.json", meta)
    return meta
