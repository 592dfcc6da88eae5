"""The `run` command's flow, between the CLI and the core."""

from __future__ import annotations

from typing import Any

import click

from . import session


def run_once(state: Any, *, overrides: dict[str, Any], skip_checks: bool, dry_run: bool,
             push: bool, judge: Any) -> int:
    ctx = state.context()
    low, _high = ctx.cfg.ibkr.client_id_range
    client_id = _env_client_id() or low
    run_plan = session.plan(ctx, overrides, client_id=client_id)
    if dry_run:
        if state.as_json:
            state.emit({"dry_run": True, **run_plan.to_json()})
        else:
            click.echo("would run: " + " ".join(run_plan.argv))
            click.echo(f"IBKR_CLIENT_ID={client_id}; report: {run_plan.report}")
        return 0
    checks = "skipped (--skip-checks)" if skip_checks else "not available yet"
    result = _with_progress(state, lambda progress: session.execute(
        ctx, run_plan, checks_summary=checks, progress=progress, judge=judge))
    from .commands import _print_record

    _print_record(state, result)
    return 0


def _env_client_id() -> int | None:
    import os

    from .errors import UsageError

    raw = os.environ.get("IBKR_CLIENT_ID")
    if not raw:
        return None
    if not raw.isdigit():
        raise UsageError(f"IBKR_CLIENT_ID must be a number, not {raw!r}")
    return int(raw)


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
