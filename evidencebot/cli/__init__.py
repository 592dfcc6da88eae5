"""The command line: the click app, one module per command or small group, and the output
helpers (tables, JSON). Thin: parse options, call the rooms below, print what they return.

May import every other room; nothing imports it (the demo gets `run` passed in). A
command's module is imported when the command runs (`page.COMMANDS`); a plain `verify`
line runs without click at all (`fast`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["cli", "every_command", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The `evidencebot` command line (errors as one line and a documented exit code)."""
    from .fast import run as run_plain

    args = list(sys.argv[1:] if argv is None else argv)
    code = run_plain(args)
    if code is not None:
        return code
    from .app import run as run_cli

    return run_cli(args)


def __getattr__(name: str) -> Any:
    """`cli` and `every_command`, from the click app, imported when first asked for."""
    if name in ("cli", "every_command"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
