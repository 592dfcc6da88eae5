"""`hook`: the hook entry points under the main command (`python -m evidencebot hook …`
goes straight to the guard without loading click)."""

from __future__ import annotations

import click

from .app import State, cli, pass_state


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                               "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@pass_state
def hook(state: State, args: tuple[str, ...]) -> int:
    """Hook entry points: `hook pre-commit` (the scope guard on the staged change) and
    `hook commit-msg FILE` (the trailer block). Run `evidencebot hook --help`."""
    from ..guard.hook import main as hook_main

    if state.as_json and "--json" not in args:
        args = (*args, "--json")
        state.seen["emitted"] = True  # the hook prints its own object
    return hook_main(list(args), repo=state.repo)
