"""`check` and `run`: the pre-run checks, and checks → burn-in → record → push/closure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ..errors import CheckFailed, EvidencebotError, UsageError
from ..shape import as_dict
from .afterrun import after_run, push_failure
from .app import State, cli, json_option, pass_state
from .notify import tell
from .output import (
    check_out,
    echo_folded,
    record_lines,
    show_checks,
)
from .read import unconfigured_note
from .runlog import RunLog, check_log_file, refuse_log_in_code, run_log


@cli.command()
@click.option("--now", "now_text", metavar="ISO-8601",
              help="Evaluate the session window at this instant (e.g. 2026-12-28T09:00Z).")
@json_option
@pass_state
def check(state: State, now_text: str | None) -> int:
    """The runbook's pre-run checks as a table (PASS / FAIL / WARN, reason, fix):
    window, strict health check, kill switch, IB Gateway, client id. Exit 3 if any
    fails; nothing is run or written (`run --dry-run` checks the code under test, the
    wrapper and the parameters too)."""
    from ..evidence.report import parse_instant
    from ..runbook.preflight import run_checks

    ctx = state.context()
    now = parse_instant(now_text) if now_text is not None else ctx.now
    pre = run_checks(ctx, now=now, paper_seconds=ctx.rules.burnin.on_paper)
    failed = CheckFailed(f"a run may not start: {', '.join(pre.failed)} failed",
                         fix="see each failed check's " + ("fix" if state.as_json else
                                                           "Fix above"))
    if state.as_json:
        out = check_out(pre)
        if not pre.ok:
            from .contract import ErrorInfo

            out.error = ErrorInfo(message=str(failed), fix=failed.fix, exit_code=3)
        state.emit(out)
    else:
        show_checks(pre)
        if pre.ok:
            click.echo("a run may start")
    if not pre.ok:  # (said as every error is: one line on stderr and its Fix, --json too:
        raise failed  # newcomer 16)
    return 0


@cli.command()
@click.option("--runs", type=int, help="Runs the wrapper makes [default: [burnin] runs].")
@click.option("--paper-duration-seconds", type=int,
              help="Seconds on paper per run [default: [burnin] paper_duration_seconds].")
@click.option("--min-filled-orders", type=int,
              help="Passed to the wrapper [default: [burnin] min_filled_orders].")
@click.option("--min-symbol-data-availability-ratio", type=float,
              help="Passed to the wrapper, 0 to 1 [default: [burnin] "
                   "min_symbol_data_availability_ratio].")
@click.option("--preflight-min-bars-per-symbol", type=int,
              help="Passed to the wrapper [default: [burnin] preflight_min_bars_per_symbol].")
@click.option("--timeout-seconds", type=float, help="Seconds before the wrapper is killed "
              "[default: [burnin] timeout_seconds].")
@click.option("--no-push", is_flag=True, help="Do not push the ops branch.")
@click.option("--skip-checks", is_flag=True, help="Do not run the pre-run checks.")
@click.option("--dry-run", is_flag=True,
              help="Every check, the client id, the wrapper and the parameters; run and "
                   "write nothing (exit 3 if a check fails).")
@click.option("--quiet", is_flag=True,
              help="Print only the outcome line; errors still go to stderr.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also append the timestamped run log to this file (for schedulers that "
                   "keep no output, such as Windows Task Scheduler); not under a code path, "
                   "where it would make the code under test dirty.")
@json_option
@pass_state
def run(state: State, no_push: bool, skip_checks: bool, dry_run: bool, quiet: bool,
        log_file: Path | None, **overrides: Any) -> int:
    """Run the Step 1A burn-in and record it: checks → wrapper → report → commit.

    \b
    1. the pre-run checks (exit 3 and a `check` commit if one fails)
    2. the [burnin] command with IBKR_CLIENT_ID (326: the next id; 502: retry)
    3. its report recorded as one ops commit (a failure is classified and
       recorded, exit 4; a code bug also leaves a handoff packet for DEBUG)
    4. the push, and the MO-2 closure and its merge request when the streak is met

    The options override [burnin] for this run only; the qualifying thresholds
    ([qualify]) are not options. A run that completes but does not qualify is recorded
    and exits 0. When stdout is not a terminal (cron, Task Scheduler) the run prints
    timestamped lines: the checks, each start and retry, progress every five minutes,
    the end and the evidence commit."""
    from ..ledger.commit import ready_checkouts, refuse_dirty_checkouts
    from ..runbook import burnin
    from ..runbook.preflight import client_ids

    ctx = state.context()
    refuse_log_in_code(ctx, log_file)
    unconfigured_note(ctx)  # (newcomer 17: status said so, a run typed before `init` not)
    ids = client_ids(ctx.rules, os.environ)
    run_plan = burnin.plan(ctx, overrides, client_id=ids[0])
    if dry_run:  # (a dirty checkout of the ops branch: the session could not be recorded)
        refuse_dirty_checkouts(ctx.repo, ctx.cfg.ops.branch)
        return _dry_run(state, ctx, run_plan, ids, skip_checks=skip_checks, log_file=log_file)
    state.seen["run"] = {"command": run_plan.argv, "client_id": ids[0],
                         "params": as_dict(run_plan.params)}
    from ..runbook.stops import interrupts

    with interrupts(), \
            run_log(state, params=run_plan.params, quiet=quiet, log_file=log_file) as log:
        try:
            with ctx.locked(wait=0):  # one runner: a second `run` exits 3 at once
                # (refused before the session starts, not when it is over and cannot be
                # recorded: as `advance` will, after putting back a killed move)
                ready_checkouts(ctx.repo, ctx.cfg.ops.branch)
                ctx = _session_context(ctx, log)
                before = ctx.tip().sha
                due = _retry_due(ctx, before)
                try:
                    result = _checks_then_burnin(state, ctx, run_plan, ids, log,
                                                 skip_checks=skip_checks)
                except EvidencebotError as e:  # a refusal or a failure may add a commit
                    tell(ctx, since=before, say=log.say, retry=due)
                    if not no_push and ctx.tip().sha != before:  # (it is evidence too)
                        push_failure(ctx, log)
                    _emit_failed(state, ctx, e)
                    raise
                _show_record(state, result, log)
                tell(ctx, since=before, say=log.say, retry=due)
                _recorded(state, ctx, result, log, push=not no_push)
        except EvidencebotError as e:
            log.error(str(e))
            raise
    return 0


def _recorded(state: State, ctx: Any, result: Any, log: RunLog, *, push: bool) -> None:
    """After the session is recorded: the push, a closure the streak calls for, and (--json)
    the one object, which says what was recorded when the push then fails (newcomer 16: a
    remote refusing it left the error alone, and exit 2 read "nothing written")."""
    status = "recorded" if result.status == "recorded" else "unchanged"
    try:
        closure = after_run(state, ctx, result, log, push=push)
    except EvidencebotError as e:
        if state.as_json:
            _emit_run(state, ctx, status, result=result, commit=result.sha,
                      added=status == "recorded", error=_error(e))
        raise
    if state.as_json:
        _emit_run(state, ctx, status, result=result, closure=closure, commit=result.sha,
                  added=status == "recorded")


def _session_context(ctx: Any, log: RunLog) -> Any:
    """``ctx`` once the session starts: what it records lands whatever a checkout of the
    ops branch holds (`Context.left_behind`), and the run says what it left behind."""
    from ..frozen import replace

    branch = ctx.cfg.ops.branch

    def say(left: Any) -> None:
        at, old = left.checkout, left.old[:12]
        from .. import git

        here = git.quoted(at)
        said = f"{branch} is checked out at {at} with uncommitted changes: the evidence " \
            "was committed without touching them"
        if left.stuck is None:
            log.warn(f"{said}, and that checkout was left at {old} (detached) with them; to "
                     f"bring it along: git -C {here} stash && git -C {here} switch {branch} && "
                     f"git -C {here} stash pop")
        else:  # (on the branch still: its files are the old tip's)
            log.warn(f"{said}, but git would not detach it ({left.stuck}): its files are "
                     f"{old}'s, and the new evidence shows there as removed; commit nothing "
                     f"there, and once git can (a stale lock removed), detach it where its "
                     f"files are: git -C {at} update-ref --no-deref HEAD {left.old}")
    return replace(ctx, left_behind=say)


def _emit_run(state: State, ctx: Any, status: str, *, result: Any = None,
              closure: Any = None, commit: str | None = None, added: bool = False,
              checks: list[Any] | None = None, error: Any = None) -> None:
    """`run`'s one JSON object, whatever happened."""
    from .contract import RunOut
    from .entries import json_minute
    from .output import record_out

    seen = state.seen.get("run", {})
    record = getattr(result, "record", None)
    session = record.session if record is not None else None
    rec = record_out(ctx, result) if result is not None else None
    state.emit(RunOut(
        status=status, run=rec.run if rec else None, streak=rec.streak if rec else None,
        commit=commit, added=added,
        checks=checks if checks is not None else seen.get("checks", []),
        command=list(seen.get("command", [])), params=seen.get("params"),
        client_id=seen.get("client_id"),
        notes=rec.notes if rec else [], closure=closure, error=error,
        retry_after=json_minute(session.retry_after) if session is not None else None,
        push=seen.get("push")))


def _emit_failed(state: State, ctx: Any, e: EvidencebotError) -> None:
    """A failed run (exit 4) under --json: its recorded attempt and the error, in one
    object (a refusal printed its own)."""
    from ..errors import RunFailed

    if not state.as_json or state.seen.get("emitted"):
        return
    result = e.result if isinstance(e, RunFailed) else None
    _emit_run(state, ctx, "failed", result=result, commit=getattr(result, "sha", None),
              added=result is not None and getattr(result, "sha", None) is not None,
              error=_error(e))


def _error(e: EvidencebotError) -> Any:
    from .contract import ErrorInfo

    return ErrorInfo(message=str(e), fix=e.fix or None, exit_code=e.exit_code)


def _retry_due(ctx: Any, tip: str) -> Any:
    """The market-data retry that is due as this run starts (the `retry-due` event); not
    looked for when nobody would be told."""
    from ..runbook.notify import urls_from
    from ..runbook.unattended import pending_retry

    notify = ctx.cfg.notify
    if "retry-due" not in notify.on or not urls_from(notify.urls, os.environ):
        return None
    retry = pending_retry(ctx.history(tip))
    return retry if retry is not None and retry.due(ctx.now) else None


def _dry_run(state: State, ctx: Any, run_plan: Any, ids: list[int], *,
             skip_checks: bool, log_file: Path | None) -> int:
    """Every check a run would make, the client id it would use, the wrapper and the
    parameters; exit 3 when a check fails. Nothing is run or written (the log file is
    asked whether it could be)."""
    if log_file is not None:
        check_log_file(log_file)
    from ..milestone.closure import documents_check
    from ..milestone.providers import provider_check
    from ..runbook.dryrun import dry_run_checks
    from ..runbook.preflight import Preflight, heeding, run_checks

    results: list[Any] = []
    client, source = ids[0], "the first id to try"
    if not skip_checks:
        pre = run_checks(ctx, now=ctx.now, paper_seconds=run_plan.params.on_paper)
        results += pre.results
        if pre.client_id is not None:
            client, source = pre.client_id, "as the client-id check resolved it"
    if "IBKR_CLIENT_ID" in os.environ and os.environ["IBKR_CLIENT_ID"]:
        source = "IBKR_CLIENT_ID"
    plan = Preflight((*results, *heeding(ctx, dry_run_checks(ctx, run_plan)),
                      documents_check(ctx), *provider_check(ctx)), client)
    if state.as_json:
        state.seen["run"] = {"command": run_plan.argv, "client_id": client,
                             "params": as_dict(run_plan.params)}
        from .contract import ErrorInfo

        _emit_run(state, ctx, "dry-run", checks=check_out(plan).checks,
                  error=None if plan.ok else ErrorInfo(
                      message=f"a run may not start: {', '.join(plan.failed)} failed (dry "
                              "run: nothing was run or written)",
                      fix="see each failed check's fix", exit_code=3))
    else:
        show_checks(plan)
        echo_folded("would run: " + " ".join(run_plan.argv), indent="    ")
        report = run_plan.report
        shown = report.relative_to(ctx.repo) if report.is_relative_to(ctx.repo) else report
        echo_folded(f"IBKR_CLIENT_ID={client} ({source}); report: {shown.as_posix()}")
        click.echo("dry run: nothing was run or written")
    if not plan.ok:
        raise CheckFailed(f"a run may not start: {', '.join(plan.failed)} failed (dry run: "
                          "nothing was run or written)")
    return 0


def _checks_then_burnin(state: State, ctx: Any, run_plan: Any, ids: list[int], log: RunLog,
                        *, skip_checks: bool) -> Any:
    from ..milestone.closure import unwritable
    from ..runbook import burnin
    from ..runbook.preflight import run_checks

    problem = unwritable(ctx, sign=True)  # (before a session is spent that could not be
    # recorded: the key too, as the commit after it will ask for it)
    if problem is not None:
        raise UsageError(f"nothing run: {problem}", fix=problem.fix)

    checks, check_results = "skipped (--skip-checks)", []
    if not skip_checks:
        pre = run_checks(ctx, now=ctx.now, paper_seconds=run_plan.params.on_paper)
        log.checks(pre)
        state.seen.setdefault("run", {})["checks"] = check_out(pre).checks
        if not pre.ok:
            _refused(state, ctx, pre)
        checks = pre.summary
        check_results = [r.to_json() for r in pre.results]  # the health output is evidence
        ids = [pre.client_id, *[i for i in ids if i != pre.client_id]] if pre.client_id else ids
    else:
        log.say("checks: skipped (--skip-checks)")
    from ..runbook.dryrun import code_check

    code = ctx.live_code()  # (what the run starts on)
    said = code_check(ctx, code)  # (as the dry run says it: a session that cannot qualify)
    if said.status != "PASS":
        log.say(f"code {said.status}: {said.reason}; {said.fix}")
    with log.live():
        return burnin.execute(ctx, run_plan, checks_summary=checks, client_ids=ids,
                              check_results=check_results, progress=log.progress,
                              steps=log.step, code=code)


def _show_record(state: State, result: Any, log: RunLog) -> None:
    """What was recorded: on stdout, or (--json, whose one object comes at the end) in
    the log file alone (newcomer 16: a --json run's log never said what it recorded)."""
    first, *details = record_lines(result)
    for text in details:
        log.say(text.strip())
    log.final(first)


def _refused(state: State, ctx: Any, pre: Any) -> None:
    from ..ledger.recorder import record_refusal

    window = next((r for r in pre.results if r.name == "window"), None)
    nxt = window.data.get("next") if window is not None else None
    next_window = nxt[:16] + "Z" if isinstance(nxt, str) else None
    refusal = record_refusal(ctx, checks=[r.to_json() for r in pre.results],
                             failed=pre.failed, next_window=next_window)
    sha = refusal.sha
    first = next(r for r in pre.results if not r.ok)  # (the cause, on the one line --quiet
    said = f"pre-run checks failed ({', '.join(pre.failed)}; {first.name}: {first.reason})"
    message = (f"{said}: nothing was run; the skipped session is recorded in {sha[:12]}"
               if refusal.added else f"{said}: nothing was run; the same refusal is already "
               f"recorded today in {sha[:12]}, nothing added")  # and a scheduler's log keep)
    if state.as_json:
        from .contract import ErrorInfo

        _emit_run(state, ctx, "refused", commit=sha, added=refusal.added,
                  error=ErrorInfo(message=message, fix=first.fix or None,
                                  exit_code=CheckFailed.exit_code))
    raise CheckFailed(message, fix=first.fix)
