"""The command line: the click app, one module per command or small group, and the output
helpers (tables, JSON). Thin: parse options, call the rooms below, print what they return.

May import every other room; nothing imports it (the demo gets `run` passed in). A
command's module is imported when the command runs (`app.COMMANDS`).
"""

from __future__ import annotations

from collections.abc import Sequence

from .app import cli, every_command

__all__ = ["cli", "every_command", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The `evidencebot` command line (errors as one line and a documented exit code)."""
    from .app import run as run_cli

    return run_cli(argv)
