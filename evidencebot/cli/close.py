"""`close`: the closure commit and its merge request."""

from __future__ import annotations

import click

from .app import State, cli, json_option, pass_state
from .notify import merge_request_step, tell
from .output import show_closure


@cli.command()
@click.argument("milestone_id", metavar="MILESTONE")
@click.option("--no-push", is_flag=True,
              help="Do not push; write the description and print the commands instead "
              "(what close does anyway where no merge-request provider is set in [ops] "
              "provider or found from the remote's URL).")
@json_option
@pass_state
def close(state: State, milestone_id: str, no_push: bool) -> int:
    """Close MILESTONE (MO-2, the burn-in's): one closure commit (PROJECT_DESIGN.md §9
    and the backlog's MO-* Status → CLOSED, the merge-request description committed with
    it) and the merge request. Refused (exit 1) unless the streak holds; closing twice
    adds nothing."""
    from ..milestone.publish import close_and_publish

    # Milestone ids are case-insensitive on the command line: mo-2 is MO-2.
    mo = milestone_id.strip().upper()
    ctx = state.context()
    closure, mr = close_and_publish(ctx, mo, push=not no_push)
    show_closure(state, closure, mr, automatic=False)
    if closure.status == "closed" and closure.sha:  # closing twice notifies once
        tell(ctx, closure=closure.sha, merge_request=merge_request_step(mr),
             say=(lambda _text: None) if state.as_json else click.echo)
    return 0
