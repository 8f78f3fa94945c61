"""A quiet, interruptible ``cpp_standalone`` build for ``compare --device cpp_standalone``.

Brian2 compiles a ``cpp_standalone`` project with ``os.system("make -j")``; a Ctrl-C reaches
make (same process group) but not Python, which ``system()`` shields, and Brian2 then raises
"Project compilation failed" after printing all of make's output. :func:`quiet_build` sends
make's output to a log file and makes the wrapper shell exit 128 + the signal, which
:func:`raise_build_failure` turns back into the interrupt.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import tempfile
from collections.abc import Iterator

from cerebellum.cli.common import CommandFailed
from cerebellum.cli.signals import EXIT_BY_SIGNAL, Terminated

__all__ = ["quiet_build", "raise_build_failure"]

#: Exit statuses the make wrapper returns when make was interrupted (128 + the signal).
_MAKE_SIGNAL_EXITS = {130: signal.SIGINT, 143: signal.SIGTERM}


@contextlib.contextmanager
def quiet_build() -> Iterator[str]:
    """Send Brian2's ``make`` output to a log file and report an interrupted make.

    Yields
    ------
    str
        The log path (removed at the end unless the build failed).
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
    except CommandFailed:
        failed = True
        raise
    finally:
        standalone.make_cmd_unix, standalone.extra_make_args_unix = saved
        if not failed:
            with contextlib.suppress(OSError):
                os.remove(log)


def raise_build_failure(error: RuntimeError, build_log: str | None) -> None:
    """Turn Brian2's "Project compilation failed (error code: N)" into the interrupt that
    caused it, or into one line naming the log; return for any other RuntimeError.

    Parameters
    ----------
    error : RuntimeError
        What the run raised.
    build_log : str or None
        :func:`quiet_build`'s log; None (no standalone build) always returns.
    """
    match = re.search(r"Project compilation failed \(error code: (\d+)\)", str(error))
    if build_log is None or match is None:
        return
    status = int(match.group(1))  # a wait status: exit code << 8, or the killing signal
    code, killed_by = status >> 8, status & 0x7F
    signum = _MAKE_SIGNAL_EXITS.get(code) or (killed_by if killed_by in EXIT_BY_SIGNAL else None)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt from None
    if signum is not None:
        raise Terminated(signum) from None
    raise CommandFailed(
        f"the cpp_standalone build failed (make exit status {code}); make's output is in "
        f"{build_log}"
    ) from None
