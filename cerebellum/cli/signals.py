"""How the command line ends on SIGINT, SIGTERM and SIGHUP.

SIGINT raises :class:`KeyboardInterrupt`, SIGTERM and SIGHUP raise :class:`Terminated`, so the
run directory is cleaned up and the exit status is 128 + the signal (130, 143, 129); a signal
ignored when the command started (``nohup``, ``&`` in a script) stays ignored.
:func:`installed` puts the policy in place for one command; :func:`checkpoint` and
:func:`reapply` act on the policy of the command that is running (none outside it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

__all__ = [
    "EXIT_BY_SIGNAL",
    "SignalPolicy",
    "Terminated",
    "checkpoint",
    "current",
    "installed",
    "reapply",
]

#: The exit status of a command ended by each signal (128 + its number).
EXIT_BY_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
if hasattr(signal, "SIGHUP"):
    EXIT_BY_SIGNAL[signal.SIGHUP] = 129


class Terminated(BaseException):
    """Raised by the SIGTERM / SIGHUP handler so that cleanup (the run directory) happens.

    Parameters
    ----------
    signum : int
        The signal that ended the command.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def signal_exception(signum: int) -> BaseException:
    """The exception a signal turns into: KeyboardInterrupt for SIGINT, else Terminated."""
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _disposition_at_start(signum: int):
    """The handler the process started with, seen through Brian2's SIGINT wrapper.

    Importing Brian2 replaces the SIGINT handler by its ``_InterruptHandler``, which keeps the
    previous one (possibly ``SIG_IGN``) and calls it -- a crash when that is ``SIG_IGN``.
    """
    handler = signal.getsignal(signum)
    if type(handler).__name__ == "_InterruptHandler" and hasattr(handler, "previous_handler"):
        return handler.previous_handler
    return handler


class SignalPolicy:
    """SIGINT raises KeyboardInterrupt, SIGTERM and SIGHUP raise :class:`Terminated`, so the
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
            self.saved = {signum: signal.getsignal(signum) for signum in EXIT_BY_SIGNAL}
            self.ignored = {
                signum
                for signum in EXIT_BY_SIGNAL
                if _disposition_at_start(signum) is signal.SIG_IGN
            }

    def _handle(self, signum, frame) -> None:
        self.pending = signum
        if self._timer is None:
            self._timer = threading.Timer(self.RETRY_S, self._resend)
            self._timer.daemon = True
            self._timer.start()
        raise signal_exception(signum)

    def _resend(self) -> None:
        self._timer = None
        signum = self.pending
        if signum is not None:  # the exception was dropped somewhere: deliver it again
            os.kill(os.getpid(), signum)

    def _unraisable(self, unraisable) -> None:
        """Keep quiet about a signal's exception dropped in a callback (it is re-raised)."""
        if self.pending is not None and isinstance(
            unraisable.exc_value, KeyboardInterrupt | Terminated
        ):
            return
        self._saved_unraisable(unraisable)

    def apply(self) -> None:
        """Install the handlers (and the unraisable hook); a no-op outside the main thread."""
        if not self.active:
            return
        if sys.unraisablehook != self._unraisable:
            self._saved_unraisable = sys.unraisablehook
            sys.unraisablehook = self._unraisable
        for signum in EXIT_BY_SIGNAL:
            signal.signal(signum, signal.SIG_IGN if signum in self.ignored else self._handle)

    def checkpoint(self) -> None:
        """Raise a signal whose exception was dropped."""
        if self.pending is not None:
            raise signal_exception(self.pending)

    def consume(self, signum: int) -> None:
        """The command is ending on ``signum``: stop re-sending it."""
        self.pending = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def restore(self) -> None:
        """Put back the handlers (and the unraisable hook) found at construction."""
        self.consume(0)
        if not self.active:
            return
        if sys.unraisablehook == self._unraisable:
            sys.unraisablehook = self._saved_unraisable
        for signum, handler in self.saved.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


_policy: SignalPolicy | None = None


@contextlib.contextmanager
def installed() -> Iterator[SignalPolicy]:
    """Apply a fresh :class:`SignalPolicy` for the block (one command) and restore after it."""
    global _policy
    policy = _policy = SignalPolicy()
    policy.apply()
    try:
        yield policy
    finally:
        policy.restore()
        _policy = None


def current() -> SignalPolicy | None:
    """The policy of the command that is running, or None."""
    return _policy


def checkpoint() -> None:
    """Raise a pending signal (see :class:`SignalPolicy`)."""
    if _policy is not None:
        _policy.checkpoint()


def reapply() -> None:
    """Call after importing Brian2 (its import replaces the SIGINT handler)."""
    if _policy is not None:
        _policy.apply()
