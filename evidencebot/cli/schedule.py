"""`next` and `schedule`: when the next run may start, and the files that start `run` on
every window day (cron, systemd, Windows Task Scheduler)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import UsageError
from .app import State, cli, json_option, pass_state
from .output import echo_folded
from .runlog import refuse_log_in_code

if TYPE_CHECKING:
    from ..runbook.schedule import Job


@cli.command("next")
@click.option("--now", "now_text", metavar="ISO-8601",
              help="Answer as of this instant (e.g. 2026-11-27T15:45Z) instead of now.")
@json_option
@pass_state
def next_cmd(state: State, now_text: str | None) -> int:
    """The next start that lets a whole run (the paper session plus five minutes) end
    inside the window — skipping closed days, bank holidays and blackouts — and a retry
    that a market-data failure scheduled and no later run has answered."""
    from ..evidence.report import parse_instant
    from ..evidence.stamps import stamp
    from ..evidence.window import window_of
    from ..runbook.unattended import next_start

    ctx = state.context()
    now = parse_instant(now_text) if now_text is not None else ctx.now
    try:
        nxt = next_start(now=now, paper_seconds=ctx.rules.burnin.on_paper,
                         window=window_of(ctx.rules), commits=ctx.history())
    except ValueError as e:
        raise UsageError(f"[window]: {e}") from None
    if state.as_json:
        from .contract import NextOut

        retry = nxt.pending_retry
        state.emit(NextOut(**nxt.to_json(), pending_retry_due=retry.due(now) if retry else None,
                           pending_retry_run_id=retry.run_id if retry else None,
                           pending_retry_commit=retry.commit if retry else None))
        return 0
    click.echo(f"next start: {nxt.start:%a %Y-%m-%d %H:%M} UTC ({stamp(nxt.start)})")
    echo_folded(f"why: {nxt.reason}")
    retry = nxt.pending_retry
    if retry is None:
        click.echo("pending retry: none")
    else:
        due = "due now" if retry.due(now) else "not yet due"
        echo_folded(f"pending retry: {stamp(retry.at)} ({due}) for run {retry.run_id} "
                    f"(failed-market-data, commit {retry.commit[:12]})")
    return 0


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["cron", "systemd", "windows"]),
              required=True, help="The scheduler: a crontab line, a systemd service and "
                                  "timer, or a Task Scheduler task (XML).")
@click.option("--at", "at_text", metavar="HH:MM",
              help="Start time in UTC (default: five minutes after the window opens, past any "
                   "blackout).")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path),
              help="Write the files into this directory instead of printing them.")
@click.option("--log-file", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Where the scheduled runs append their log (default: "
                   "<git dir>/evidencebot/run.log); not under a code path.")
@json_option
@pass_state
def schedule(state: State, fmt: str, at_text: str | None, output: Path | None,
             log_file: Path | None) -> int:
    """The schedule for `evidencebot run` on every window day at one UTC time, for this
    repository, with the absolute path of this evidencebot. A start whose run would not fit
    the window's hours, or would overlap a blackout, is refused (exit 2)."""
    from .. import defaults, git
    from ..evidence.window import window_of
    from ..runbook import unattended
    from ..runbook.schedule import parse_at

    ctx = state.context()
    window = window_of(ctx.rules)
    run_seconds = defaults.whole_run_seconds(ctx.rules.burnin.on_paper)
    try:
        at = parse_at(at_text) if at_text else unattended.default_start(
            window, run_seconds=run_seconds)
    except ValueError as e:
        raise UsageError(f"--at: {e}" if at_text else f"[window]: {e}") from None
    problem = unattended.start_problem(at, window=window, run_seconds=run_seconds)
    if problem:
        raise UsageError(f"--at {at:%H:%M}: {problem} (a run is the paper session plus "
                         f"{defaults.RUN_MARGIN_SECONDS} s, started within its minute); pick "
                         f"a time inside {window.describe()}")
    refuse_log_in_code(ctx, log_file)
    log = (log_file or git.state_path(ctx.repo, "run.log")).absolute()
    config = state.config.absolute() if state.config is not None else None
    try:
        job = unattended.job_for(ctx.rules, repo=ctx.repo, config=config, at=at, log=log,
                                 python=sys.executable, windows_host=os.name == "nt", fmt=fmt,
                                 search_path=os.environ.get("PATH") or None)
        files = unattended.schedule_files(fmt, job)
    except ValueError as e:
        where = " (make the Task Scheduler file on the Windows machine that runs the " \
                "burn-in)" if fmt == "windows" and os.name != "nt" else ""
        raise UsageError(f"--format {fmt}: {e}{where}") from None
    log.parent.mkdir(parents=True, exist_ok=True)  # cron's `>>` needs the directory
    written = []
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (output / name).write_bytes(data)
            written.append(str((output / name).absolute()))
    _show(state, fmt, job, files, written, at=f"{at:%H:%M}", log=log)
    return 0


def _show(state: State, fmt: str, job: Job, files: dict[str, bytes], written: list[str], *,
          at: str, log: Path) -> None:
    """The schedule's files as `schedule` prints them: as JSON, the paths written, or the
    files themselves (stdout) and how to install them (stderr)."""
    from ..runbook import unattended

    if state.as_json:
        from .contract import ScheduleOut

        state.emit(ScheduleOut(
            format=fmt, at=at, days=list(job.days), command=job.argv(), log=str(log),
            written=written, files={n: d.decode("utf-16") if fmt == "windows" else d.decode()
                                   for n, d in files.items()}))
    elif written:
        for path in written:
            click.echo(f"wrote {path}")
        click.echo(unattended.install_hint(fmt, written))
    else:
        for name, data in files.items():
            if len(files) > 1:
                click.echo(f"# --- {name} ---")
            click.echo(data.decode("utf-16") if fmt == "windows" else data.decode(), nl=False)
        click.echo("write the files with --output DIR, then "
                   + unattended.install_hint(fmt, list(files)), err=True)
