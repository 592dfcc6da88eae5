"""`verify`: CI's second look at the ops commits."""

from __future__ import annotations

from typing import Any

import click

from .app import State, cli, json_option, pass_state


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
    from .. import git
    from ..ledger.verify import base_of, verify_context
    from ..ledger.verify import verify as run_verify

    top = state.top()
    with git.reading(top):  # one cat-file process for the config, the rules and the blobs
        ctx = verify_context(top, base=base or base_of(top), clock=state.clock)
        state.adopt(ctx)  # the pinned clock is allowed or not by this base's config
        report = run_verify(ctx, spec=range_, describe=_rerender,
                            require_signed=require_signed)
    if state.as_json:
        state.emit(verify_out(ctx, report))
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


def verify_out(ctx: Any, report: Any) -> Any:
    """verify's report in the --json contract's shape (each run with its reasons, read from
    its record)."""
    from ..evidence.why import reasons_of
    from .contract import VerifyOut, Violation, run_of_commit

    why = reasons_of(ctx.repo, report.run_commits)
    runs = [run_of_commit(c, reasons=list(why.get(c.sha, ()))) for c in report.run_commits]
    return VerifyOut(ok=report.ok, range=report.range, commits=report.commits, runs=runs,
                     squashed=report.squashed,
                     violations=[Violation(**f.to_json()) for f in report.findings])


def _rerender(ctx: Any, closure: Any, parent: str) -> Any:
    """`milestone.describe.rerender`, imported only when the range holds a closure."""
    from ..milestone.describe import rerender

    return rerender(ctx, closure, parent)
