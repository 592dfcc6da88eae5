"""`run`: checks → burn-in command → report → record (→ closure, in a later step)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal, NoReturn

from .. import textsafe
from ..config import Burnin
from ..defaults import whole_run_seconds
from ..errors import RunFailed, RunInterrupted, UsageError
from ..evidence.record import CodeState, Outcome, SessionInfo
from ..evidence.report import load_json, metrics_from, read_report
from ..evidence.stamps import parse_stamp, stamp
from ..evidence.window import interval_problem, retry_start, window_of
from ..frozen import frozen, replace
from ..ibkr.codes import Classification
from ..ledger import recorder
from ..ledger.messages import attempt_failure, kept_log
from ..ledger.recorder import RecordResult
from ..ledger.workspace import Context
from ..shape import Invalid, as_dict, build
from . import handoff as handoff_mod
from . import lost as lost_sessions
from . import process as runner
from . import stops


@frozen
class RunPlan:
    argv: list[str]
    params: Burnin
    client_id: int | None
    report: Path

    def to_json(self) -> dict[str, Any]:
        return {"command": self.argv, "client_id": self.client_id, "report": str(self.report),
                "params": as_dict(self.params)}


def plan(ctx: Context, overrides: Mapping[str, Any], *, client_id: int | None) -> RunPlan:
    """The command line the wrapper gets: config values, then command-line overrides.
    Refused (exit 2) when the effective timeout is not above the paper duration."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        # The reviewed wrapper: [burnin] from the base branch's committed config; only the
        # command line's run parameters change it for one run.
        params = build(Burnin, {**as_dict(ctx.rules.burnin), **given})
    except Invalid as e:
        name = str(e.loc[0]) if e.loc else "?"
        where = f"--{name.replace('_', '-')}" if name in given else f"[burnin] {name}"
        raise UsageError(f"{where}: {e.message}") from None
    if params.timeout_seconds <= params.on_paper:  # (runs sessions on paper, one each)
        timeout, duration = (f"--{k.replace('_', '-')}" if k in given else f"[burnin] {k}"
                             for k in ("timeout_seconds", "paper_duration_seconds"))
        raise UsageError(
            f"{timeout} ({params.timeout_seconds:g} s) must be above {duration} "
            f"({params.on_paper} s{f' in all, {params.runs} runs' * (params.runs > 1)}): the "
            "run would be killed before its paper session ends")
    return RunPlan(runner.expand(params.command, params), params, client_id,
                   ctx.repo / params.report)


@frozen
class Step:
    """A moment of the run for its log: an attempt starts, is retried, or ends."""

    kind: Literal["start", "retry", "end"]
    attempt: int  # 1 for the first start of the wrapper
    client_id: int
    reason: str = ""  # retry: why (the failure's classification) and what happens next
    exit_code: int | None = None  # end: None when killed at the timeout
    seconds: float = 0.0  # end: how long the wrapper ran; retry: the wait before the next


Steps = Callable[[Step], None]


# long: the runbook's one loop of attempts (326, 502, backoff) and how each ends, recorded
def execute(
    ctx: Context,
    run_plan: RunPlan,
    *,
    checks_summary: str,
    client_ids: list[int],
    check_results: Sequence[Mapping[str, Any]] = (),
    progress: runner.Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    steps: Steps | None = None,
    code: CodeState | None = None,
) -> RecordResult:
    """Run the burn-in, handle failures the runbook's way, and record what happened.

    A fresh report is the run (exit 0) whatever the wrapper's exit code, which if not 0
    is a reason it does not qualify (`trust.run_reasons`); one killed at its timeout is a
    code failure. Else: 326 → the next client id; 502 / refused → back off and retry;
    then the failure is classified, recorded, and RunFailed (exit 4) raised. ``steps``
    hears each start, retry and end of the wrapper (for the run log)."""
    say: Steps = steps or (lambda _step: None)
    _record_lost(ctx, run_plan, no_wrapper_left(ctx), checks_summary=checks_summary)
    started = ctx.now.replace(microsecond=0)  # (as the record keeps it: verify reads that)
    seen_alive = _gateway_alive(ctx)  # a gateway never seen alive never "went away"
    code = code or ctx.live_code()  # (what the run starts on; the caller's, just read)
    ids = list(client_ids) or [run_plan.client_id or 0]
    index, connect_retries, attempt = 0, 0, 0
    while True:
        client_id = ids[index]
        attempt += 1
        # From the moment the wrapper returns, a Ctrl-C waits until what it did is recorded,
        # or found to be no session (a retry: the note goes, nothing is recorded; found by
        # adversaries, a stop while a 326 was classified, or its folder of compiled modules
        # removed, left the note, and the next run recorded a session that never was).
        hold = ExitStack()
        with hold:
            try:
                done, wall_start = _attempt(
                    ctx, run_plan, client_id, attempt, progress=progress, say=say,
                    started=started, returned=partial(hold.enter_context, _recording(ctx)))
            except runner.Interrupted as stop:
                _record_interrupted(ctx, run_plan, stop.done, started=started,
                                    client_id=client_id, checks_summary=checks_summary,
                                    check_results=check_results)
            fresh, unreadable = _fresh_report(ctx, run_plan.report, wall_start=wall_start,
                                              started=started.replace(microsecond=0))
            if fresh is not None and unreadable is None and not done.timed_out:
                result = recorder.record_report(
                    ctx, run_plan.report, log=done.log, live_code=code, session=SessionInfo(
                        command=run_plan.argv, checks=checks_summary, client_id=client_id,
                        exit_code=done.exit_code, check_results=tuple(check_results),
                        began=started))
                if result.status != "unchanged":
                    return result  # (one recorded already is another session's: found by
                unreadable = (f"it is run {result.run_id}'s, recorded already "  # an adversary
                              f"({result.record_path}): a report of another session")
            cls = _classify(ctx, run_plan, done, seen_alive=seen_alive, unreadable=unreadable)
            wait = run_plan.params.retry_backoff_seconds * 2 ** connect_retries
            cls = _room_left(ctx, run_plan, cls, wait=wait if cls.retry_connect else 0.0)
            if cls.retry_client_id and index + 1 < len(ids):
                index += 1  # 326: the next id, at once
                say(Step("retry", attempt, client_id, f"{cls.reason}; next: client id "
                         f"{ids[index]}"))
                continue
            if not (cls.retry_connect and connect_retries < run_plan.params.retries):
                return _record_failure(ctx, run_plan, cls, done, started=started,
                                       client_id=client_id, checks_summary=checks_summary,
                                       check_results=check_results)
            connect_retries += 1
            say(Step("retry", attempt, client_id, f"{cls.reason}; retry {connect_retries} of "
                     f"{run_plan.params.retries} in {wait:g} s", seconds=wait))
        sleep(wait)  # (the note gone: a Ctrl-C here stops a run that holds no session)


def _room_left(ctx: Context, run_plan: RunPlan, cls: Classification, *,
               wait: float) -> Classification:
    """``cls``, not to be retried when a session started ``wait`` s from now could not end
    inside the window (adversary 44a: a 502 at 15:52 retried into a session past the
    close, recorded non-qualifying, which breaks the streak; the failure alone does not)."""
    if not (cls.retry_client_id or cls.retry_connect):
        return cls
    start = ctx.now + timedelta(seconds=wait)
    why = interval_problem(start, start + timedelta(seconds=whole_run_seconds(
        run_plan.params.on_paper)), window_of(ctx.rules))
    return cls if why is None else replace(cls, reason=f"{cls.reason}; not retried: {why}",
                                           retry_client_id=False, retry_connect=False)


@contextmanager
def _recording(ctx: Context) -> Iterator[None]:
    """`stops.held` while a session's evidence is written, and the wrapper's note
    (`wrapper_pidfile`) removed once it is, not before: a second Ctrl-C that stops the
    write leaves the note, and the next run records the session as the failed attempt it
    was (found by a newcomer: the note went when the wrapper ended, and a session stopped
    twice was recorded nowhere)."""
    with stops.held():
        try:
            yield
        except RunFailed:  # (a failed attempt: recorded)
            wrapper_pidfile(ctx).unlink(missing_ok=True)
            raise
        except UsageError as e:  # (refused after the wrapper ran: not recorded, so noted;
            # (why, for the next run to say: found by a newcomer, a report refused as
            runner.add_to_note(wrapper_pidfile(ctx), refused=str(e))  # overlapping was
            # recorded as a run killed)
            raise UsageError(f"{e} (the session is noted: the next run records it as a "  # found
                             "failed attempt, unless its report is mended and recorded "  # by an
                             "first)", fix=e.fix) from None  # adversary)
        wrapper_pidfile(ctx).unlink(missing_ok=True)


def _classify(ctx: Context, run_plan: RunPlan, done: runner.Completed, *,
              seen_alive: bool, unreadable: str | None) -> Classification:
    """Why an attempt left no report to record (`messages.attempt_failure`); killed at its
    timeout, leaving a report `record` cannot read (``unreadable``: why), or ending well
    without a report, a code failure."""
    if unreadable is not None and not done.timed_out:  # (the wrapper's bug: DEBUG's)
        return Classification("failed-code", f"the wrapper's report cannot be read: "
                              f"{unreadable}", ())
    cls = attempt_failure(ctx, exit_code=done.exit_code, log=kept_log(done.log),
                          gateway_alive=_gateway_alive(ctx), seen_alive=seen_alive)
    if done.timed_out:
        return Classification("failed-code", f"timed out after "
                              f"{run_plan.params.timeout_seconds:g} s", cls.codes)
    if done.exit_code == 0 and cls.outcome == "failed-code" and \
            not cls.crashed:  # no IBKR cause: the missing report is
        # the cause (farm-status lines such as 2104 are in every log); the session may
        # have run, and it is recorded
        return Classification("failed-code", "the burn-in command exited 0 but left no "
                              f"fresh report at {run_plan.params.report}", cls.codes)
    return cls


def _attempt(ctx: Context, run_plan: RunPlan, client_id: int, attempt: int, *,
             started: datetime, progress: runner.Progress | None, say: Steps,
             returned: Callable[[], object]) -> tuple[runner.Completed, float]:
    """One start of the wrapper: what it did, and the wall-clock time it started (its
    report must be newer: `_fresh_report`, asked once a Ctrl-C is held). Its
    Python keeps compiled modules in a folder of this start's own (`checks.own_pycache`):
    a .pyc left in the checkout's __pycache__ (one that never checks its source) would
    run code the code state does not see."""
    from .checks import own_pycache

    say(Step("start", attempt, client_id))
    wall_start = time.time()  # file mtimes are wall-clock; the report must be newer
    with own_pycache() as cache:
        done = runner.run_command(run_plan.argv, cwd=ctx.repo,
                                  env={"IBKR_CLIENT_ID": str(client_id), **cache},
                                  timeout=run_plan.params.timeout_seconds, progress=progress,
                                  pidfile=wrapper_pidfile(ctx),
                                  note={"started": stamp(started), "client_id": client_id})
        returned()  # (the wrapper is done: stops are held from here)
    say(Step("end", attempt, client_id, exit_code=done.exit_code, seconds=done.seconds))
    return done, wall_start


def _record_interrupted(ctx: Context, run_plan: RunPlan, done: runner.Completed, *,
                        started: datetime, client_id: int, checks_summary: str,
                        check_results: Sequence[Mapping[str, Any]]) -> NoReturn:
    """A session stopped part-way (Ctrl-C, a scheduler's SIGTERM) is an attempt that
    failed, recorded as one: it breaks the streak. Stopping a session that is going badly
    must not keep it out of the evidence."""
    cls = Classification("failed-code", f"interrupted after {done.seconds:.0f} s (Ctrl-C, "
                         "SIGTERM or SIGHUP): the wrapper was stopped before it wrote a report", ())
    try:
        with _recording(ctx):
            _record_failure(ctx, run_plan, cls, done, started=started, client_id=client_id,
                            checks_summary=checks_summary, check_results=check_results)
    except RunFailed as e:
        raise RunInterrupted(str(e), e.result) from None


def wrapper_pidfile(ctx: Context) -> Path:
    """Where a running wrapper's pid is kept (`process.run_command`)."""
    from .. import git

    return git.state_path(ctx.repo, "wrapper.json")


def no_wrapper_left(ctx: Context) -> dict[str, Any] | None:
    """CheckFailed (exit 3, nothing run) while a wrapper started by an earlier run that was
    killed (-9: it could not stop its wrapper) still runs: that wrapper would write its
    report into this run's, and hold its client id. When that wrapper is gone too, what
    the earlier run noted of its session (`process.left_behind`): a session no run
    recorded."""
    pidfile = wrapper_pidfile(ctx)
    found = runner.left_behind(pidfile)
    if found is None or not found["alive"]:
        return found
    pid = found["pid"]
    from datetime import UTC

    from ..errors import CheckFailed

    began = datetime.fromtimestamp(found["since"], UTC)
    raise CheckFailed(
        f"a burn-in wrapper started by an earlier run that was killed is still running "
        f"(pid {pid}, since {began:%Y-%m-%d %H:%M} UTC): its report would be taken for this "
        "run's; nothing was run", fix=f"if pid {pid} is that wrapper (ps -p {pid} -o args; "
        f"on Windows tasklist /FI \"PID eq {pid}\"), stop it with what it started "
        f"(kill -- -{pid}; taskkill /T /F /PID {pid}); if it is another program (the pid "
        f"was reused), delete {pidfile}")


def _record_lost(ctx: Context, run_plan: RunPlan, lost: Mapping[str, Any] | None, *,
                 checks_summary: str) -> None:
    """A session an earlier run started and never recorded (that run was killed -9, or the
    machine went down, with its wrapper): recorded now as the failed attempt it was, which
    breaks the streak as Ctrl-C's does, and this run stops there (RunFailed, exit 4: one
    run, one attempt recorded). A note without a session (an older evidencebot's) is
    removed, and the run goes on (as it does without one: ``lost`` None)."""
    if lost is None:
        return
    pidfile = wrapper_pidfile(ctx)
    try:
        started = parse_stamp(str(lost.get("started")))
        client_id = int(lost.get("client_id", 0))
    except (ValueError, TypeError):
        pidfile.unlink(missing_ok=True)
        return None
    refused = lost.get("refused")
    cls = Classification("failed-code", f"the session started at {stamp(started)} was never "
                         "recorded: " + (f"its evidence was refused ({textsafe.line(refused)})"
                                         if isinstance(refused, str) and refused else
                                         "the run that started it was stopped before it "
                                         "recorded it (killed, stopped twice, or the machine "
                                         "went down)") + "; found by the next run", ())
    done = runner.Completed(list(run_plan.argv), None, b"", 0.0, False)
    with _recording(ctx):  # (the note goes once it is recorded)
        commits = lost_sessions.history(ctx)
        params = run_plan.params  # (its report starts after the retries' waits at most)
        if lost_sessions.recorded_already(ctx, commits, stamp(started), starts_within=(
                params.retry_backoff_seconds * (2 ** params.retries - 1)) if refused else None):
            return None
        at = lost_sessions.free_instant(commits, min(started, ctx.now.replace(microsecond=0)))
        _record_failure(ctx, run_plan, cls, done, started=at, client_id=client_id,
                        checks_summary=checks_summary, finished=at, then=(
                            "; this run started no session of its own (one run, one "
                            "attempt): `evidencebot run` again starts one"))


def _record_failure(ctx: Context, run_plan: RunPlan, cls: Any, done: runner.Completed, *,
                    started: datetime, client_id: int, checks_summary: str,
                    check_results: Sequence[Mapping[str, Any]] = (),
                    finished: datetime | None = None, then: str = "") -> NoReturn:
    retry = None
    if cls.outcome == "failed-market-data":
        nxt = retry_start(after=ctx.now, run_seconds=whole_run_seconds(run_plan.params.on_paper),
                          window=window_of(ctx.rules))
        retry = nxt.strftime("%Y-%m-%dT%H:%MZ")
    session = SessionInfo(command=run_plan.argv, checks=checks_summary,
                                   client_id=client_id, exit_code=done.exit_code,
                                   retry_after=retry, failure=cls.reason, ibkr_codes=cls.codes,
                                   check_results=tuple(check_results), began=started)

    def packet(run_id: str, record_path: str) -> tuple[str, bytes]:
        code = ctx.live_code()
        summary = f"burn-in {cls.reason}"[:70]
        path = handoff_mod.packet_path(handoff_dir=ctx.cfg.docs.handoff_dir, run_id=run_id,
                                       summary=summary)
        text = handoff_mod.render_packet(
            created=ctx.now, summary=summary, command=run_plan.argv,
            exit_code=done.exit_code, reason=cls.reason, codes=cls.codes,
            code={"commit": code.commit, "dirty": code.dirty,
                  "dirty_paths": list(code.dirty_paths)},
            run_id=run_id, checks=checks_summary, log=done.log, record=record_path,
            log_path=record_path[:-5] + ".log", client_id=client_id, port=ctx.rules.ibkr.port,
            milestone=ctx.milestone, closed=ctx.streak().closed_by is not None)
        return path, text.encode("utf-8")

    result = recorder.record_attempt(
        ctx, outcome=Outcome(cls.outcome), started=started, session=session, log=done.log,
        handoff=packet if cls.outcome == "failed-code" else None, finished=finished)
    extra = f"; retry scheduled {retry}" if retry else ""
    extra += "; handoff packet for DEBUG committed" if cls.outcome == "failed-code" else ""
    raise RunFailed(f"{cls.outcome}: {cls.reason}{extra} (recorded in {result.sha[:12]}"
                    f" as {result.record_path}){then}" if result.sha else
                    f"{cls.outcome}: {cls.reason}{extra}{then}", result)


def _gateway_alive(ctx: Context) -> bool:
    """Whether the gateway still accepts connections (after a failed run)."""
    import socket

    try:
        with socket.create_connection((ctx.rules.ibkr.host, ctx.rules.ibkr.port), timeout=1):
            return True
    except OSError:
        return False


Fresh = tuple[Path | None, str | None]  # (`_fresh_report`)


def _fresh_report(ctx: Context, path: Path, *, started: Any, wall_start: float) -> Fresh:
    """The report when this run wrote it (newer file, finished after the start), else
    None; and why `record` cannot read it (not JSON, NaN, a metric missing where the
    base's [report] pointers look), else None. The session ran: such a report is the
    wrapper's bug, an attempt recorded as one, which breaks the streak."""
    if not path.is_file() or path.stat().st_mtime < wall_start - 1e-3:
        return None, None
    try:
        m = metrics_from(load_json(read_report(path), source=str(path)),
                         ctx.rules.report.fields, source=str(path))
    except UsageError as e:
        return path, str(e)
    return (path, None) if m.finished_at >= started else (None, None)
