"""The `run` and `check` flows, between the CLI and the core."""

from __future__ import annotations

import os
from typing import Any

import click

from . import session
from .errors import CheckFailed


def show_checks(state: Any, pre: Any) -> None:
    from rich.table import Table

    from .views import console

    table = Table(title="pre-run checks", title_justify="left")
    for col in ("Check", "Status", "Reason", "Fix"):
        table.add_column(col, overflow="fold")
    style = {"PASS": "green", "FAIL": "bold red", "WARN": "yellow"}
    for r in pre.results:
        table.add_row(r.name, f"[{style[r.status]}]{r.status}[/]", r.reason, r.fix)
    console().print(table)


def check_once(state: Any, *, now: Any) -> int:
    from .preflight import run_checks

    ctx = state.context()
    pre = run_checks(ctx, now=now or ctx.now,
                     run_seconds=ctx.cfg.burnin.paper_duration_seconds)
    if state.as_json:
        state.emit(pre.to_json())
    else:
        show_checks(state, pre)
        click.echo("a run may start" if pre.ok else
                   f"a run may not start: {', '.join(pre.failed)} failed")
    return 0 if pre.ok else CheckFailed.exit_code


def run_once(state: Any, *, overrides: dict[str, Any], skip_checks: bool, dry_run: bool,
             push: bool, judge: Any) -> int:
    from .preflight import client_ids, run_checks

    ctx = state.context()
    ids = client_ids(ctx.cfg, os.environ)
    run_plan = session.plan(ctx, overrides, client_id=ids[0])
    if dry_run:
        if state.as_json:
            state.emit({"dry_run": True, **run_plan.to_json()})
        else:
            click.echo("would run: " + " ".join(run_plan.argv))
            click.echo(f"IBKR_CLIENT_ID={ids[0]}; report: {run_plan.report}")
        return 0
    checks, check_results = "skipped (--skip-checks)", []
    if not skip_checks:
        pre = run_checks(ctx, now=ctx.now, run_seconds=run_plan.params.paper_duration_seconds)
        if not state.as_json:
            show_checks(state, pre)
        if not pre.ok:
            return _refused(state, ctx, pre, judge)
        checks = pre.summary
        check_results = [r.to_json() for r in pre.results]  # the health output is evidence
        ids = [pre.client_id, *[i for i in ids if i != pre.client_id]] if pre.client_id else ids
    result = _with_progress(state, lambda progress: session.execute(
        ctx, run_plan, checks_summary=checks, client_ids=ids, check_results=check_results,
        progress=progress, judge=judge))
    from .commands import _print_record

    _print_record(state, result)
    _after_run(state, ctx, result, push=push, judge=judge)
    return 0


def _refused(state: Any, ctx: Any, pre: Any, judge: Any) -> int:
    from .recorder import record_refusal

    window = next((r for r in pre.results if r.name == "window"), None)
    nxt = window.data.get("next") if window is not None else None
    next_window = nxt[:16] + "Z" if isinstance(nxt, str) else None
    sha = record_refusal(ctx, checks=[r.to_json() for r in pre.results], failed=pre.failed,
                         next_window=next_window, judge=judge)
    message = (f"pre-run checks failed ({', '.join(pre.failed)}): nothing was run; the "
               f"skipped session is recorded in {sha[:12]}")
    if state.as_json:
        state.emit({"status": "refused", "commit": sha, **pre.to_json()})
    raise CheckFailed(message)


def _after_run(state: Any, ctx: Any, result: Any, *, push: bool, judge: Any) -> None:
    """Push the evidence, and close MO-2 when this run completed the streak
    ([milestone.MO-2] auto_close)."""
    from .closing import close_and_publish, push_ops
    from .mergereq import remote_url
    from .recorder import MILESTONE

    rule = ctx.rules.milestone.get(MILESTONE)
    closes = (rule is not None and rule.auto_close and result.status == "recorded"
              and result.outcome == "qualifying" and result.streak >= rule.consecutive)
    if closes:
        close_and_publish(state, ctx, MILESTONE, push=push, judge=judge, automatic=True)
    elif push and result.status == "recorded" and remote_url(ctx.repo, ctx.cfg.ops.remote):
        pushed = push_ops(ctx, options=(), judge=judge)
        if not state.as_json:
            click.echo(f"pushed {ctx.cfg.ops.branch} to {ctx.cfg.ops.remote} ({pushed.status})")


def _with_progress(state: Any, work: Any) -> Any:
    """A live progress line on stderr while the wrapper runs (quiet under --json)."""
    if state.as_json:
        return work(None)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from .views import console

    with Progress(SpinnerColumn(), TextColumn("burn-in running"), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console(stderr=True),
                  transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(elapsed: float, last_line: str) -> None:
            bar.update(task, description=last_line[:80])

        return work(progress)
