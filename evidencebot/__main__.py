"""The `evidencebot` executable. `hook ...` goes straight to the light hook module, so a
commit does not pay for importing click, rich or pydantic."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["hook"]:
        from .guard.hook import main as hook_main

        return hook_main(args[1:])
    from .cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
