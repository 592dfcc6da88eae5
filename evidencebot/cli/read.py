"""`context`, `history` and `status`: reading the ops branch."""

from __future__ import annotations

import json
import sys

import click

from .app import State, cli, json_option, pass_state


@cli.command()
@json_option
@pass_state
def context(state: State) -> int:
    """Print what the runbook loads before a run: the last SESSION_LOG entry, the
    checklist and tracker, PROJECT_DESIGN.md §9 and SESSION_TOPOLOGY.md §2 Type 4.

    Read from the ops branch (or its base when it does not exist yet)."""
    from ..runbook.context import gather

    parts = gather(state.context())
    if state.as_json:
        state.emit([{"title": t, "source": s, "text": x} for t, s, x in parts])
    else:
        for title, source, text in parts:
            click.secho(f"── {title}  ({source})", bold=True)
            click.echo(text.rstrip("\n") + "\n")
    return 0


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N entries.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
@json_option
@pass_state
def history(state: State, limit: int | None, as_csv: bool) -> int:
    """The burn-in history: every ops commit on the ops branch, newest first, read with
    one `git log`. A malformed ops commit is shown, not fatal."""
    from ..evidence.void import void_reasons
    from ..evidence.why import reasons_of
    from .output import console, history_csv, history_row, history_rows, history_table

    ctx = state.context()
    at = ctx.tip()
    commits = ctx.history(at.sha)
    mo = ctx.milestone
    s = ctx.streak(at.sha, commits=commits)
    streak = s.headline
    shown = commits[:limit] if limit else commits
    voids, reasons = void_reasons(commits), reasons_of(ctx.repo, shown)
    if state.as_json:
        # Streamed entry by entry: 10,000 entries never sit in memory as one string.
        head = json.dumps({"branch": ctx.cfg.ops.branch, "exists": at.exists,
                           "streak": {"milestone": mo, "count": s.count, "needed": s.needed,
                                      "closed": s.closed_by is not None}},
                          ensure_ascii=False)
        out = sys.stdout
        out.write(head[:-1] + ', "entries": [')
        for k, c in enumerate(shown):
            out.write((", " if k else "") + json.dumps(history_row(c, voids, reasons),
                                                    ensure_ascii=False))
        out.write("]}\n")
        return 0
    rows = history_rows(shown, voids, reasons)
    if as_csv:
        click.echo(history_csv(rows), nl=False)
    elif not rows:
        click.echo(f"no evidence on {ctx.cfg.ops.branch} yet ({streak})")
    else:
        console().print(history_table(rows, title=f"{ctx.cfg.ops.branch} history — {streak}"))
    return 0


@cli.command()
@json_option
@pass_state
def status(state: State) -> int:
    """Milestones and streaks, e.g. `MO-2: 2/3`."""
    from ..milestone.status import status_report

    report = status_report(state.context())
    if state.as_json:
        state.emit(report)
    else:
        for line in report["lines"]:
            click.echo(line)
    return 0
