"""`context`, `history` and `status`: reading the ops branch."""

from __future__ import annotations

import json
import sys
from typing import Any

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
        from .contract import ContextOut, Section

        state.emit(ContextOut(sections=[Section(title=t, source=s, text=x)
                                        for t, s, x in parts]))
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
    from .entries import encoded, schema_name
    from .output import console, history_csv, history_rows, history_table, show

    if as_csv and state.as_json:
        from ..errors import UsageError

        raise UsageError("--csv and --json ask for two formats at once",
                         fix="give one: --json (the contract's JSON) or --csv")
    ctx = state.context()
    at = ctx.tip()
    commits = ctx.history(at.sha)
    mo = ctx.milestone
    from ..milestone.status import does_not_hold, standing

    s, _fault = standing(ctx, commits, ctx.streak(at.sha, commits=commits))
    broken = does_not_hold(ctx, s, commits, at.sha)
    streak = s.headline + (" — but the closure does not hold: `evidencebot status` says "
                           "why" if broken else "")
    shown = commits[:limit] if limit else commits
    voids, reasons = void_reasons(commits), reasons_of(ctx.repo, shown, cache=True)
    if state.as_json:
        # Streamed entry by entry: 10,000 entries never sit in memory as one string.
        head = json.dumps({"schema": schema_name("history"), "branch": ctx.cfg.ops.branch,
                           "exists": at.exists,
                           "streak": {"milestone": mo, "count": s.count, "needed": s.needed,
                                      "closed": s.closed_by is not None},
                           "holds": None if s.closed_by is None else broken is None},
                          ensure_ascii=False)
        out = sys.stdout
        out.write(head[:-1] + ', "entries": [')
        from ..evidence.store import shortcut_path

        shortcut = shortcut_path(ctx.repo, "entries-cache.bin")
        part: list[str] = []
        sep = ""
        for text in encoded(shown, voids, reasons, shortcut=shortcut):
            part.append(text)
            if len(part) == 500:  # in slices: never the whole list as one string
                out.write(sep + ", ".join(part))
                part, sep = [], ", "
        out.write((sep + ", ".join(part) if part else "") + "]}\n")
        state.seen["emitted"] = True
        return 0
    unconfigured_note(ctx)
    rows = history_rows(shown, voids, reasons)
    if as_csv:
        click.echo(history_csv(rows), nl=False)
    elif not rows:
        click.echo(f"no evidence on {ctx.cfg.ops.branch} yet ({streak})")
    else:
        con = console()
        show(history_table(rows, title=f"{ctx.cfg.ops.branch} history — {streak}",
                           width=con.width), con)
    return 0


@cli.command()
@json_option
@pass_state
def status(state: State) -> int:
    """Milestones and streaks, e.g. `MO-2: 2/3`."""
    from ..milestone.status import status_report

    ctx = state.context()
    report = status_report(ctx)
    if state.as_json:
        state.emit(status_out(ctx, report))
    else:
        from .output import echo_folded

        unconfigured_note(ctx)
        for line in report["lines"]:
            echo_folded(line)
    return 0


def unconfigured_note(ctx: Any) -> None:
    """A note on stderr where no evidencebot config is in the working tree nor committed on
    the base: what is shown is judged by the runbook's defaults, which may not be this
    repository's (its window, its thresholds), though nothing is wrong as such."""
    if ctx.loaded.path is not None or ctx.base.path is not None:
        return
    # (the base as its rules are read: origin/<base> where there is one)
    from .. import git
    from .state import echo

    ref = git.short_ref(ctx.base_ref)
    echo(f"evidencebot: note: no evidencebot config here or on {ref or ctx.rules.ops.base}: "
         "the runbook's defaults are in use (`evidencebot init` writes one)", err=True)


def status_out(ctx: Any, report: dict[str, Any]) -> Any:
    """`status` in the --json contract's shape: runs as run objects, with their reasons."""
    from ..evidence.streak import named_runs
    from ..evidence.why import reasons_of
    from .contract import Milestone, StatusOut, run_of_commit, streak

    commits = ctx.history()
    voids = report["voided"]
    runs_c = [c for c in commits if c.is_run]
    why = reasons_of(ctx.repo, runs_c, cache=True)
    runs = {c.run_id: run_of_commit(c, reasons=list(why.get(c.sha, ())),
                                    voided=c.run_id in voids) for c in runs_c}
    s = report["streak"]
    last = report.get("last_run") or {}
    closed_by = list(named_runs(s.closed_by)) if s.closed_by else []
    return StatusOut(
        milestones=[Milestone(streak=streak(s), runs=[runs[r.run_id] for r in s.runs
                                                      if r.run_id in runs],
                              closed_on=s.closed_by.date[:10] if s.closed_by else None,
                              closed_by=closed_by,
                              holds=report["milestones"][ctx.milestone]["holds"])],
        branch=report["branch"], tip=report["tip"], runs=list(runs.values()),
        last_run=runs.get(last.get("run_id", "")), voided=dict(voids),
        hand_written_rows=list(report["hand_written_rows"]),
        malformed=list(report["malformed"]), lines=list(report["lines"]),
        unpushed=report["unpushed"])
