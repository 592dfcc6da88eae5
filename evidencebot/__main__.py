"""The `evidencebot` executable. `hook ...` goes straight to the light hook module, so a
commit does not pay for importing click, rich or pydantic."""

from __future__ import annotations

import sys
from collections.abc import Sequence

# The cyclic garbage collector's first generation runs every 700 allocations; loading a
# long history makes tens of thousands of objects that live until exit, and each pass
# walks them again (about 25 ms of `record` at 10,000 ops commits). A command is a short
# process that makes few cycles: collect seldom, never off.
GC_THRESHOLD = (50_000, 20, 100)


def main(argv: Sequence[str] | None = None) -> int:
    import gc

    if argv is None:  # the executable, not a caller's process
        gc.set_threshold(*GC_THRESHOLD)
        _closed_streams()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["hook"]:
            from .guard.hook import main as hook_main

            return hook_main(args[1:])
        if argv is None:
            _stops_interrupt()
        from .cli import main as cli_main

        return cli_main(args)
    except KeyboardInterrupt:  # (before a command's own handling: while it is imported)
        print("\nevidencebot: error: aborted", file=sys.stderr)
        return 130
    finally:
        if argv is None:
            # The interpreter's exit collects once more over every object it tracks (the
            # modules' functions and classes, the documents read): 10-20 ms of every
            # command. Frozen objects are left to reference counting; whatever needs
            # closing (files, git processes, the lock) was closed by the command itself.
            gc.freeze()


def _closed_streams() -> None:
    """A standard stream a launcher closed (`cmd >&-`, a daemon) is Python's None: what
    would go there goes nowhere, as to a terminal nobody reads (newcomer 16: `status`,
    `history` and `run` stopped on a traceback; `run` before its session)."""
    import os

    for fd in (0, 1, 2):  # (the descriptors too: the next file opened, the lock or the log
        try:  # file, would be fd 1 and take what a git or wrapper child writes there)
            os.fstat(fd)
        except OSError:
            nowhere = os.open(os.devnull, os.O_RDWR)
            if nowhere != fd:
                os.dup2(nowhere, fd)
                os.close(nowhere)
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def _stops_interrupt() -> None:
    """SIGTERM (a scheduler's time limit, `kill`) and SIGHUP (a closed terminal) stop a
    command as Ctrl-C does: evidence being moved into a checkout is put back, the lock
    let go, "aborted" said (exit 130). Python's default ends the process where it stands.
    A signal the caller set to be ignored (`nohup`) stays ignored."""
    import _signal  # (the module under `signal`, without its enums: nothing to import)

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(_signal, name, None)
        if sig is not None and _signal.getsignal(sig) == _signal.SIG_DFL:
            _signal.signal(sig, _interrupt)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
