"""The signals that stop `run` (Ctrl-C, a time limit's SIGTERM, a closed terminal's
SIGHUP): what `run` does while its wrapper runs (`interrupts`) and while a session's
evidence is written (`held`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any


def _stops() -> list[Any]:
    """The signals that end a run: Ctrl-C, a time limit's SIGTERM, a closed terminal's
    SIGHUP (the wrapper, in a session of its own, no longer hears that one itself)."""
    import signal

    return [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
            if hasattr(signal, name)]


@contextmanager
def interrupts() -> Iterator[None]:
    """SIGTERM and SIGHUP end `run` as Ctrl-C does (KeyboardInterrupt): the wrapper
    stopped with it and the session recorded. Python's default ends the process where it
    stands, with the wrapper still running."""
    import signal

    with _handling(_raise_interrupt, [s for s in _stops() if s != signal.SIGINT and
                                      signal.getsignal(s) != signal.SIG_IGN]):
        yield  # (one ignored by the caller, as under `nohup`, stays ignored)


@contextmanager
def held() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP wait while a finished session's evidence is written, and
    interrupt once it is: a session stopped while being recorded must not go unrecorded.
    A second one interrupts at once (the ledger's commit is whole or absent either way)."""
    from .. import git
    from ..errors import RunFailed, RunInterrupted

    noted: list[int] = []

    def note(signum: int, _frame: object) -> None:
        _hung_up(signum)
        noted.append(signum)
        if len(noted) > 1:  # (a second one: the operator means it, the write stops here)
            raise KeyboardInterrupt

    try:
        with _handling(note, _stops()), git.shielded():
            yield  # (git runs apart meanwhile: the terminal's Ctrl-C reaches the group)
    except RunFailed as e:  # (a failed attempt, recorded: stopped, as one stopped while
        if noted and not isinstance(e, RunInterrupted):  # its wrapper ran, exit 130;
            raise RunInterrupted(str(e), e.result) from None  # it exited 4 as if not)
        raise
    except Exception:
        if len(noted) > 1:  # (a git process the second one stopped: a stop, no failure)
            raise KeyboardInterrupt from None
        raise
    if noted:
        raise KeyboardInterrupt


def _raise_interrupt(signum: int, _frame: object) -> None:
    _hung_up(signum)
    raise KeyboardInterrupt


def _hung_up(signum: int) -> None:
    """At a closed terminal's SIGHUP, what is still to be said there goes nowhere: a write
    to it fails (EIO), and the session's record and push must not (found by a newcomer:
    exit 2, "Input/output error", the session committed but not pushed)."""
    import signal
    import stat

    if signum != getattr(signal, "SIGHUP", None):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):  # (a terminal is a character device, hung up or not)
            with suppress(OSError):
                if stat.S_ISCHR(os.fstat(fd).st_mode):
                    os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextmanager
def _handling(handler: Callable[[int, Any], Any], signals: list[Any]) -> Iterator[None]:
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # (signals reach the main thread only)
        return
    before = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in before.items():
            signal.signal(sig, old)
