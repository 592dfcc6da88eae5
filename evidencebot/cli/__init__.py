"""The command line: the click app, one module per command or small group, and the output
helpers (tables, JSON). Thin: parse options, call the rooms below, print what they return.

May import every other room; nothing imports it (the demo gets `run` passed in)."""

from __future__ import annotations

from collections.abc import Sequence

from . import (  # noqa: F401  (each module registers its commands)
    close,
    explain,
    notify,
    read,
    record,
    report,
    run,
    schedule,
    schema,
    setup,
    sim,
    verify,
    void,
)
from . import hook as hook_cmd  # noqa: F401
from .app import cli

__all__ = ["cli", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The `evidencebot` command line (errors as one line and a documented exit code)."""
    from .app import run as run_cli

    return run_cli(argv)
