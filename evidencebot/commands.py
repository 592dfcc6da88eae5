"""The ledger commands: init, context, record, run, history, status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .errors import UsageError

PRE_COMMIT_SNIPPET = """\
# .pre-commit-config.yaml of the trading repository
repos:
  - repo: local
    hooks:
      - id: evidencebot-scope
        name: evidencebot scope guard
        entry: evidencebot hook pre-commit
        language: system
        pass_filenames: false
        always_run: true
        stages: [pre-commit]
      - id: evidencebot-commit-msg
        name: evidencebot trailer check
        entry: evidencebot hook commit-msg
        language: system
        stages: [commit-msg]
"""


def register(cli: click.Group, pass_state: Any, json_option: Any) -> None:  # noqa: C901
    @cli.command()
    @click.option("--force", is_flag=True, help="Overwrite files that already exist.")
    @click.option("--ci", type=click.Choice(["github", "gitlab"]),
                  help="Also write a CI job that runs `evidencebot verify` on merge requests "
                       "from the ops branch.")
    @click.option("--install", "install_cmd", default="pip install evidencebot",
                  show_default=True, help="How the CI job installs evidencebot.")
    @pass_state
    def init(state: Any, force: bool, ci: str | None, install_cmd: str) -> int:
        """Write a commented evidencebot.toml (the runbook's defaults), optionally a CI job,
        and print the pre-commit snippet the trading repo adds."""
        from .scaffold import plan_init, write_all

        plan = plan_init(state.repo, config=state.config, force=force, ci=ci,
                         install_cmd=install_cmd)
        write_all(plan)
        if state.as_json:
            state.emit({"written": [str(p) for p in plan], "pre_commit_config": PRE_COMMIT_SNIPPET})
            return 0
        for path in plan:
            click.echo(f"wrote {path}")
        click.echo("commit these on the base branch: the rules that judge ops commits are "
                   "read from there.")
        if ci == "gitlab":
            click.echo("include it from .gitlab-ci.yml:  include: '.gitlab/evidencebot-verify.yml'")
        click.echo("")
        click.echo(PRE_COMMIT_SNIPPET, nl=False)
        return 0

    @cli.command()
    @json_option
    @pass_state
    def context(state: Any) -> int:
        """Print what the runbook loads before a run: the last SESSION_LOG entry, the
        checklist and tracker, PROJECT_DESIGN.md §9 and SESSION_TOPOLOGY.md §2 Type 4.

        Read from the ops branch (or its base when it does not exist yet)."""
        from .context import gather

        ctx = state.context()
        parts = gather(ctx)
        if state.as_json:
            state.emit([{"title": t, "source": s, "text": x} for t, s, x in parts])
        else:
            for title, source, text in parts:
                click.secho(f"── {title}  ({source})", bold=True)
                click.echo(text.rstrip("\n") + "\n")
        return 0

    @cli.command()
    @click.argument("report", type=click.Path(path_type=Path))
    @click.option("--log", "log_file", type=click.Path(dir_okay=False, path_type=Path),
                  help="The run's log, kept (redacted) next to the record.")
    @json_option
    @pass_state
    def record(state: Any, report: Path, log_file: Path | None) -> int:
        """Record a burn-in REPORT (made by hand or by the wrapper) as evidence: one commit
        on the ops branch with the record, the tracker row and the OPS session-log entry.

        Recording the same run again adds nothing; a different report with the same run id
        is refused."""
        from .recorder import record_report

        ctx = state.context()
        log = None
        if log_file is not None:
            try:
                log = log_file.read_bytes()
            except OSError as e:
                raise UsageError(f"cannot read log {log_file}: {e.strerror}") from None
        result = record_report(ctx, report, log=log, judge=_judge())
        _print_record(state, result)
        return 0

    @cli.command()
    @click.option("--runs", type=int, help="Runs the wrapper makes ([burnin] runs).")
    @click.option("--paper-duration-seconds", type=int, help="Paper trading time per run.")
    @click.option("--min-filled-orders", type=int, help="Passed to the wrapper.")
    @click.option("--min-symbol-data-availability-ratio", type=float,
                  help="Passed to the wrapper.")
    @click.option("--preflight-min-bars-per-symbol", type=int, help="Passed to the wrapper.")
    @click.option("--timeout-seconds", type=float, help="Kill the command after this long.")
    @click.option("--no-push", is_flag=True, help="Do not push the ops branch.")
    @click.option("--skip-checks", is_flag=True, help="Do not run the pre-run checks.")
    @click.option("--dry-run", is_flag=True, help="Print the plan; run and write nothing.")
    @json_option
    @pass_state
    def run(state: Any, no_push: bool, skip_checks: bool, dry_run: bool, **overrides: Any) -> int:
        """Run the Step 1A burn-in and record it: checks → wrapper → report → commit.

        \b
        1. the pre-run checks (exit 3 and a `check` commit if one fails)
        2. the [burnin] command, with IBKR_CLIENT_ID set (326: the next id; 502: retry)
        3. its report recorded as one ops commit (a failure is classified and recorded,
           exit 4; a code bug also leaves a handoff packet for DEBUG)
        4. the push, and the MO-2 closure with its merge request when the streak is met

        The options override [burnin] for this run only; the qualifying thresholds
        ([qualify]) are not options. A run that completes but does not qualify is recorded
        and exits 0."""
        from .operate import run_once

        return run_once(state, overrides=overrides, skip_checks=skip_checks,
                        dry_run=dry_run, push=not no_push, judge=_judge())

    @cli.command()
    @click.option("--limit", type=click.IntRange(min=1), help="Only the newest N entries.")
    @click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
    @json_option
    @pass_state
    def history(state: Any, limit: int | None, as_csv: bool) -> int:
        """The burn-in history: every ops commit on the ops branch, newest first, read with
        one `git log`. A malformed ops commit is shown, not fatal."""
        from .milestone import streak_of
        from .recorder import MILESTONE
        from .views import console, history_csv, history_rows, history_table

        ctx = state.context()
        at = ctx.tip()
        commits = ctx.history(at.sha)
        s = streak_of(commits, milestone=MILESTONE, needed=ctx.consecutive)
        streak = f"{MILESTONE}: {s.display}" + (" (CLOSED)" if s.closed_by else "")
        rows = history_rows(commits[:limit] if limit else commits)
        if state.as_json:
            state.emit({"branch": ctx.cfg.ops.branch, "exists": at.exists,
                        "streak": {"milestone": MILESTONE, "count": s.count,
                                   "needed": s.needed, "closed": s.closed_by is not None},
                        "entries": rows})
        elif as_csv:
            click.echo(history_csv(rows), nl=False)
        elif not rows:
            click.echo(f"no evidence on {ctx.cfg.ops.branch} yet ({streak})")
        else:
            console().print(history_table(rows, title=f"{ctx.cfg.ops.branch} history — "
                                                      f"{streak}"))
        return 0

    @cli.command()
    @json_option
    @pass_state
    def status(state: Any) -> int:
        """Milestones and streaks, e.g. `MO-2: 2/3`."""
        from .context import status_report

        ctx = state.context()
        report = status_report(ctx)
        if state.as_json:
            state.emit(report)
        else:
            for line in report["lines"]:
                click.echo(line)
        return 0


def register_guard(cli: click.Group, pass_state: Any, json_option: Any) -> None:
    @cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                   "help_option_names": []})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def hook(args: tuple[str, ...]) -> int:
        """Hook entry points: `hook pre-commit` (the scope guard on the staged change) and
        `hook commit-msg FILE` (the trailer block). Run `evidencebot hook --help`."""
        from .hook import main as hook_main

        return hook_main(list(args))

    @cli.command("install-hooks")
    @click.option("--force", is_flag=True, help="Replace hooks evidencebot did not write.")
    @pass_state
    def install_hooks_cmd(state: Any, force: bool) -> int:
        """Install pre-commit and commit-msg git hooks (for repos without the pre-commit
        framework); they run this Python's evidencebot."""
        from . import git
        from .install import install_hooks

        try:
            top = git.toplevel(state.repo)
        except git.GitError:
            raise UsageError(f"{state.repo} is not inside a git repository") from None
        base = state.context().cfg.ops.base
        for path in install_hooks(top, base=base, force=force):
            click.echo(f"installed {path}")
        return 0


def register_ibkr(cli: click.Group, pass_state: Any, json_option: Any) -> None:
    @cli.command()
    @click.option("--now", "now_text", metavar="ISO-8601",
                  help="Evaluate the session window at this instant (e.g. 2026-12-28T09:00Z).")
    @json_option
    @pass_state
    def check(state: Any, now_text: str | None) -> int:
        """The runbook's pre-run checks as a table (PASS / FAIL / WARN, reason, fix):
        window, strict health check, kill switch, IB Gateway, client id. Exit 3 if any
        fails; nothing is run or written."""
        from .operate import check_once
        from .report import parse_instant

        return check_once(state, now=parse_instant(now_text) if now_text else None)

    @cli.command("sim-gateway")
    @click.option("--port", type=int, default=0, show_default=True,
                  help="Port on 127.0.0.1 (0: pick a free one and print it).")
    @click.option("--account", "accounts", multiple=True, metavar="DU…",
                  help="Managed account (repeatable; a U… account simulates live).")
    @click.option("--hold-client-id", "hold", multiple=True, type=int, metavar="N",
                  help="Client ids already in use: they get error 326 (repeatable).")
    @click.option("--read-only", is_flag=True, help="Answer order requests with error 321.")
    @click.option("--refuse", is_flag=True, help="Accept connections, then close them at once.")
    @click.option("--die-after", type=float, metavar="SECONDS",
                  help="Stop (and drop every client) after this long.")
    @click.option("--market-data-error", type=int, metavar="CODE",
                  help="Answer every market-data request with this error (e.g. 354).")
    @click.option("--unsubscribed", multiple=True, metavar="SYMBOL",
                  help="Symbols whose market data is not subscribed (error 354).")
    def sim_gateway(port: int, accounts: tuple[str, ...], hold: tuple[int, ...], read_only: bool,
                    refuse: bool, die_after: float | None, market_data_error: int | None,
                    unsubscribed: tuple[str, ...]) -> int:
        """A simulated TWS / IB Gateway on 127.0.0.1 speaking the real socket protocol (real
        ib_async connects to it). Prints `listening on 127.0.0.1:PORT` when ready; stops on
        SIGTERM / Ctrl-C."""
        from .sim.gateway import options_from, serve

        return serve(port=port, options=options_from(
            list(accounts), hold, read_only=read_only, refuse=refuse, die_after=die_after,
            market_data_error=market_data_error, unsubscribed=unsubscribed))


def register_close(cli: click.Group, pass_state: Any, json_option: Any) -> None:
    @cli.command()
    @click.argument("milestone_id", metavar="MO-2")
    @click.option("--no-push", is_flag=True,
                  help="Do not push; write the description and print the commands instead.")
    @json_option
    @pass_state
    def close(state: Any, milestone_id: str, no_push: bool) -> int:
        """Close a milestone: one closure commit (PROJECT_DESIGN.md §9 and the backlog's
        MO-* Status → CLOSED, the merge-request description committed with it) and the
        merge request. Refused (exit 1) unless the streak holds; closing twice adds
        nothing."""
        from .closing import close_and_publish

        return close_and_publish(state, state.context(), milestone_id, push=not no_push,
                                 judge=_judge())


def register_demo(cli: click.Group, pass_state: Any, json_option: Any) -> None:
    @cli.command()
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path),
                    default=Path("evidencebot-demo"))
    @click.option("--force", is_flag=True, help="Replace an earlier demo in DIRECTORY.")
    def demo(directory: Path, force: bool) -> int:
        """The whole flow in a throwaway repository (default ./evidencebot-demo) with the
        simulated IB Gateway: checks, a non-qualifying run, a held client id, a
        market-data failure, three qualifying runs, the MO-2 closure and its merge request
        against a local bare remote that plays GitLab."""
        import time

        from .cli import main as cli_main
        from .demo import run_demo

        start = time.monotonic()
        run_demo(directory.resolve(), force=force, say=click.echo,
                 cli=lambda args: cli_main(args))
        click.echo(f"demo finished in {time.monotonic() - start:.1f} s")
        return 0


def register_verify(cli: click.Group, pass_state: Any, json_option: Any) -> None:
    @cli.command()
    @click.option("--range", "range_", metavar="A..B",
                  help="Commits to check (default: merge base with the base branch..HEAD; "
                       "on the base branch itself, every ops commit in its history).")
    @json_option
    @pass_state
    def verify(state: Any, range_: str | None) -> int:
        """CI check: every commit in the range passes the scope rules against its parent,
        every run's trailers equal its record, every closure has its streak. Exit 1 with
        every violation listed."""
        from .verify import verify as run_verify

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


def _judge() -> Any:
    """The scope rules run on every ops commit before the branch moves."""
    from .guard import judge_commit

    return judge_commit


def _print_record(state: Any, result: Any) -> None:
    if state.as_json:
        state.emit(result.to_json())
        return
    if result.status == "unchanged":
        click.echo(f"run {result.run_id} is already recorded ({result.record_path}); "
                   "nothing added")
        return
    click.echo(f"recorded run {result.run_id}: {result.outcome} "
               f"(commit {result.sha[:12]}, streak {result.streak}/{result.consecutive})")
    if result.verdict and result.verdict.reasons:
        click.echo("  failed: " + "; ".join(result.verdict.reasons))
    if result.verdict and result.verdict.disagreement:
        click.echo(f"  note: {result.verdict.disagreement}")
    for note in result.notes:
        click.echo(f"  note: {note}")
