"""`verify`: CI's second look at the ops commits."""

from __future__ import annotations

import click

from .app import State, cli, json_option, pass_state


@cli.command()
@click.option("--range", "range_", metavar="A..B",
              help="Commits to check (default: merge base with the base branch..HEAD; "
                   "on the base branch itself, every ops commit in its history).")
@json_option
@pass_state
def verify(state: State, range_: str | None) -> int:
    """CI check: every commit in the range passes the scope rules against its parent,
    every run's trailers equal its record, every closure has its streak. Exit 1 with
    every violation listed."""
    from ..ledger.verify import verify as run_verify

    ctx = state.context()
    report = run_verify(ctx.repo, spec=range_, base=ctx.cfg.ops.base,
                        bot_author=ctx.cfg.ops.author)
    if state.as_json:
        state.emit(report.to_json())
    else:
        click.echo(f"verify {report.range}: {report.commits} commit(s), "
                   f"{len(report.runs)} run(s)")
        if report.squashed:
            click.echo("the history was squashed: the ops commits' trailers are gone; "
                       "merge ops branches with a merge commit")
        for f in report.findings:
            click.echo(f"  {f.render()}")
        click.echo("OK" if report.ok else f"FAILED: {len(report.findings)} violation(s)")
    return 0 if report.ok else 1
