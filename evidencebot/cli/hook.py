"""`hook`: the hook entry points under the main command (`python -m evidencebot hook …`
goes straight to the guard without loading click)."""

from __future__ import annotations

import click

from .app import cli


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                               "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook(args: tuple[str, ...]) -> int:
    """Hook entry points: `hook pre-commit` (the scope guard on the staged change) and
    `hook commit-msg FILE` (the trailer block). Run `evidencebot hook --help`."""
    from ..guard.hook import main as hook_main

    return hook_main(list(args))
