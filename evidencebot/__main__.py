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
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["hook"]:
            from .guard.hook import main as hook_main

            return hook_main(args[1:])
        from .cli import main as cli_main

        return cli_main(args)
    finally:
        if argv is None:
            # The interpreter's exit collects once more over every object it tracks (the
            # modules' functions and classes, the documents read): 10-20 ms of every
            # command. Frozen objects are left to reference counting; whatever needs
            # closing (files, git processes, the lock) was closed by the command itself.
            gc.freeze()


if __name__ == "__main__":
    raise SystemExit(main())
