"""`verify`: CI's second look at the ops commits. Its body is in `verifying`, which a plain
command line (`fast`) runs without click."""

from __future__ import annotations

import click

from .app import State, cli, json_option, pass_state
from .verifying import verify as verify_body


@cli.command()
@click.option("--range", "range_", metavar="A..B",
              help="Commits to check (default: merge base with the base branch..HEAD; "
                   "on the base branch itself, every ops commit in its history).")
@click.option("--base", "base", metavar="BRANCH",
              help="The base branch whose committed config holds the rules (default: "
                   "[ops] base of the config committed at HEAD, else main; origin/BRANCH "
                   "is read first where it exists).")
@click.option("--require-signed", is_flag=True,
              help="Refuse ops commits not signed by a key git trusts "
                   "(also [ops] require_signed on the base branch).")
@json_option
@pass_state
def verify(state: State, range_: str | None, base: str | None, require_signed: bool) -> int:
    """CI check, from committed evidence only (nothing from the working tree): every
    commit in the range descends from the base branch and passes the scope rules; every
    run is re-derived from its record and report; every closure has its streak and its
    description. Exit 1 with every violation listed."""
    return verify_body(state, range_, base, require_signed)
