"""`void`: say, in a reviewable ops commit, that a recorded run must not count."""

from __future__ import annotations

import click

from .app import State, cli, json_option, pass_state


@cli.command()
@click.argument("run_id", metavar="RUN")
@click.option("--reason", required=True, metavar="TEXT",
              help="Why the run must not count (one line; it goes into the Void-Reason "
                   "trailer, the void record and the session log).")
@json_option
@pass_state
def void(state: State, run_id: str, reason: str) -> int:
    """Void a recorded RUN: one ops commit (Evidence-Kind: void) with the void record
    under reports/evidence/voids/ and an OPS session-log entry. The run's record stays; the
    run never counts toward a streak again and still breaks one, so voiding only makes the
    evidence stricter. Refused (exit 1) for a run a closure names; an unknown run is exit
    2; voiding twice adds nothing."""
    from ..ledger.void import void_run
    from ..textsafe import line
    from .output import not_pushed

    result = void_run(state.context(), run_id, reason=reason)
    if state.as_json:
        from .contract import VoidOut, streak

        state.emit(VoidOut(status=result.status, run_id=result.run_id, record=result.path,
                           commit=result.sha, reason=result.reason,
                           streak=streak(result.streak)))
        return 0
    s = result.streak
    if result.status == "unchanged":
        click.echo(f"run {run_id} is already voided ({result.sha[:12]}: "
                   f"{line(result.reason)}); nothing added")
    else:
        click.echo(f"voided run {run_id} in {result.sha[:12]}: it never counts toward "
                   f"{s.milestone}, and breaks the streak where it falls ({result.path})")
    click.echo(s.headline)
    if result.status != "unchanged":
        click.echo(not_pushed(state.context()))
    return 0
