"""What `run --dry-run` checks besides the pre-run checks: that the wrapper's program (and
the script it is given) exists, that the parameters can qualify, and that the timeout leaves
room around the paper session. Nothing is run or written."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from .. import git
from ..config import Burnin, Qualify
from ..ledger.checkout import wrapper_script
from ..ledger.workspace import Context
from .burnin import RunPlan
from .checks import CheckResult

if TYPE_CHECKING:
    from ..evidence.record import CodeState

# Beyond the paper session the wrapper connects, runs its preflight and writes its report;
# a timeout closer than this to the paper duration may kill a run that was going well.
TIMEOUT_MARGIN_SECONDS = 300


def _is_path(program: str) -> bool:
    return "/" in program or "\\" in program


def _find_program(program: str, repo: Path) -> str | None:
    """Where ``program`` would be started from (as Popen finds it, with cwd = the repo)."""
    if _is_path(program):
        path = Path(program) if Path(program).is_absolute() else repo / program
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(program)


def wrapper_check(argv: Sequence[str], *, repo: Path) -> CheckResult:
    """PASS when the wrapper's program is found (and its script, when it names one)."""
    program = argv[0]
    found = _find_program(program, repo)
    data: dict[str, Any] = {"program": program, "found": found}
    if found is None:
        where = "not a file, or not executable" if _is_path(program) else "not on PATH"
        fix = ("install PowerShell 7 (pwsh), or start [burnin] command with powershell.exe "
               "(Windows PowerShell 5.1)" if PurePath(program).stem.lower() == "pwsh"
               else "set [burnin] command to the wrapper's program")
        return CheckResult("wrapper", "FAIL", f"program {program!r} not found ({where})", fix,
                           data=data)
    shown = program if found == program else f"{program} at {found}"  # (a path: once)
    from .process import left_out

    gone = left_out(os.environ)
    data["left_out"] = gone
    without = f"; it runs without {', '.join(gone)} from this environment (they load " \
        "code from elsewhere)" if gone else ""
    script = wrapper_script(argv)
    if script is not None:
        path = Path(script) if Path(script).is_absolute() else repo / script
        if not path.is_file():
            return CheckResult("wrapper", "FAIL", f"{program} is at {found}, but its script "
                               f"{script!r} is not in the repository",
                               "set [burnin] command to the wrapper script's path",
                               data={**data, "script": script})
        return CheckResult("wrapper", "PASS", f"{shown}; script {script}{without}",
                           data={**data, "script": script})
    return CheckResult("wrapper", "PASS", f"{shown}{without}", data=data)


def parameter_checks(params: Burnin, qualify: Qualify) -> list[CheckResult]:
    """WARN when a run with ``params`` cannot qualify under ``qualify`` (the base branch's
    thresholds), or its timeout leaves little room beyond the paper session."""
    duration, floor = params.paper_duration_seconds, qualify.min_paper_duration_seconds
    if duration < floor:
        qualifies = CheckResult(
            "parameters", "WARN", f"paper duration {duration} s is below [qualify] "
            f"min_paper_duration_seconds ({floor} s): this run cannot qualify",
            f"run with --paper-duration-seconds {floor} or more")
    else:
        qualifies = CheckResult("parameters", "PASS", f"paper duration {duration} s meets "
                                f"[qualify] ({floor} s)")
    room = params.timeout_seconds - params.on_paper  # (every run's paper session: newcomer 15)
    if room < TIMEOUT_MARGIN_SECONDS:
        timeout = CheckResult(
            "timeout", "WARN", f"timeout {params.timeout_seconds:g} s leaves {room:g} s beyond "
            f"the {duration} s paper session for connecting, the preflight and the report",
            f"set a timeout of at least {duration + TIMEOUT_MARGIN_SECONDS} s")
    else:
        timeout = CheckResult("timeout", "PASS", f"timeout {params.timeout_seconds:g} s is above "
                              f"the {duration} s paper session")
    return [qualifies, timeout]


def code_check(ctx: Context, code: CodeState | None = None) -> CheckResult:
    """WARN when the code a run would test (``code``: the checkout's now, when None)
    cannot qualify (trust rule 5): the checkout's code paths differ from HEAD, or HEAD is
    not on the base branch. What `run` records and the verdict reads, found before a
    session is spent on it."""
    code = code or ctx.live_code()
    base = ctx.rules.ops.base
    head = f"HEAD {code.commit[:12]}" if code.commit != "none" else "the checkout (no commit yet)"
    data = {"commit": code.commit, "dirty_paths": list(code.dirty_paths)}
    if code.dirty:
        shown = ", ".join(code.dirty_paths[:3]) + (" ..." if len(code.dirty_paths) > 3 else "")
        # (found by a newcomer: one `python -m compileall` left the next session dirty)
        caches = any("/__pycache__/" in f"/{p}" for p in code.dirty_paths)
        return CheckResult("code", "WARN", f"the code under test differs from HEAD or is not "
                           f"in git ({shown}): Python can import it here, so this run cannot "
                           f"qualify", f"commit it and merge it through review into {base}, "
                           "or undo it; a file that is no code (a notebook's scratch module) "
                           "goes out of the checkout or into .git/info/exclude" + (
                               "; Python's caches: add __pycache__/ to .gitignore (ignored "
                               "caches do not count)" if caches else ""), data=data)
    if not ctx.reviewed_at(ctx.now)(code.commit):  # (as the verdict will ask it)
        read = git.short_ref(ctx.base_ref) or base  # (newcomer 17: on main, main not pushed)
        unpushed = read != base and git.succeeds(ctx.repo, "merge-base", "--is-ancestor",
                                                 code.commit, base)
        return CheckResult("code", "WARN", f"{head} is not on {read}: this run cannot "
                           "qualify", f"{base} here holds it, {read} (what was reviewed) does "
                           "not: merge it there through review, or fetch it if it is (git "
                           f"fetch {read.split('/')[0]})" if unpushed else
                           f"run on {base} (or a commit it holds): git switch {base}", data=data)
    return CheckResult("code", "PASS", f"{head} is on {base}, clean", data=data)


def dry_run_checks(ctx: Context, run_plan: RunPlan) -> list[CheckResult]:
    """The checks `run --dry-run` adds to the pre-run checks."""
    return [code_check(ctx), wrapper_check(run_plan.argv, repo=ctx.repo),
            *parameter_checks(run_plan.params, ctx.rules.qualify), lock_check(ctx),
            *notify_check(ctx)]


def notify_check(ctx: Context) -> list[CheckResult]:
    """Where notifications are configured, whether apprise reads each URL (nothing is sent:
    newcomer 17, a mistyped scheme passed the dry run, and the run's notice went nowhere
    but a warning in a log no one reads)."""
    from .notify import unusable_said, urls_from

    urls = urls_from(ctx.cfg.notify.urls, os.environ)
    if not urls:
        return []
    wrong = unusable_said(urls)
    if wrong is not None:
        return [CheckResult("notify", "WARN", f"{wrong[0]}: the run's notices would not be "
                            "sent", f"{wrong[1]}; `evidencebot notify --test` sends a test")]
    return [CheckResult("notify", "PASS", f"{len(urls)} URL(s) apprise reads (nothing sent: "
                        "`evidencebot notify --test` sends a test)")]


def lock_check(ctx: Context) -> CheckResult:
    """FAIL while another `run` holds the repository's lock: the run would meet it first
    and exit 3 (found by a newcomer: the dry run said "would run")."""
    from ..ledger.lock import Busy, hold

    try:
        with hold(ctx.repo, wait=0):
            pass
    except Busy as e:
        return CheckResult("lock", "FAIL", str(e).split(";")[0],
                           "wait for that run to end (`evidencebot next` says when the next "
                           "may start)")
    return CheckResult("lock", "PASS", "no other run holds the repository")
