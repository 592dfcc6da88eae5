"""After `run` recorded a session: the push, and the closure when the run met the streak
([milestone.MO-n] auto_close)."""

from __future__ import annotations

from typing import Any

from ..errors import EvidencebotError, UsageError
from .app import State
from .notify import merge_request_step, tell
from .output import close_out, closure_lines, streak_met
from .runlog import RunLog


def push_failure(ctx: Any, log: RunLog) -> None:
    """Push the commit a failed session or a failed check added (an unattended run's
    failures are evidence the reviewer must see, not a commit left on one machine); a
    push that fails is said, and the run's own failure stays the error."""
    try:
        push_ops_branch(ctx, log)
    except EvidencebotError as e:
        log.say(f"not pushed: {e}")


def push_ops_branch(ctx: Any, log: RunLog) -> str:
    """Push the ops branch to the [ops] remote and say so (without the remote, where to
    add it, as `record` says). What became of it: pushed, up-to-date, or no remote."""
    from ..ledger.remote import no_remote, remote_url
    from ..milestone.publish import push_evidence

    ops = ctx.cfg.ops
    if remote_url(ctx.repo, ops.remote):
        pushed = push_evidence(ctx)
        log.say(f"pushed {ops.branch} to {ops.remote} ({pushed.status})")
        return pushed.status
    log.say(no_remote(ops.remote))
    return "no remote"


def after_run(state: State, ctx: Any, result: Any, log: RunLog, *, push: bool) -> Any:
    """Push the evidence, and close the milestone when this run completed the streak
    ([milestone.MO-n] auto_close)."""
    from ..milestone.closure import other_branch
    from ..milestone.publish import close_and_publish

    mo = ctx.milestone
    rule = ctx.rules.milestone.get(mo)
    elsewhere = other_branch(ctx, mo)  # (said, and the run pushed as when none closes)

    def completes(streak: int, closed: bool) -> bool:  # (once closed, no more merge requests)
        met = (rule is not None and rule.auto_close and result.status == "recorded"
               and result.outcome == "qualifying" and streak >= rule.consecutive
               and not closed)
        if met and elsewhere is not None:
            log.say(f"the streak is met, but {elsewhere} ({elsewhere.fix})")
        return met and elsewhere is None

    closes = completes(result.streak, ctx.streak().closed_by is not None)
    said = streak_met(ctx, result) if rule is not None and not rule.auto_close else None
    if said:  # (found by a newcomer: a run that met the streak said nothing of it)
        log.say(said)
    if not closes and push and result.status == "recorded":
        before = ctx.tip().sha
        try:  # (--json says what became of the push: newcomer 16)
            state.seen.setdefault("run", {})["push"] = push_ops_branch(ctx, log)
        except UsageError as e:  # (found by a newcomer: "nothing written", it read)
            ops = ctx.cfg.ops
            raise UsageError(f"{e} (the session is recorded in {before[:12]} on this "
                             "machine, not pushed)", fix=e.fix or f"mend it, then `git push "
                             f"{ops.remote} {ops.branch}` (the next run pushes it too)") from None
        if ctx.tip().sha == before:
            return None
        # rebuilt on the remote's tip (another machine's runs came first): the run's
        # commit and its streak are that tip's now, which may complete the streak
        s = ctx.streak()
        log.say(f"rebuilt on {ctx.cfg.ops.remote}'s {ctx.cfg.ops.branch}: the run's commit "
                f"is now {ctx.tip().sha[:12]}, streak {s.display}")
        closes = completes(s.count, s.closed_by is not None)
    if closes:
        closure, mr = close_and_publish(ctx, mo, push=push)
        if not state.as_json:
            first, *rest = closure_lines(closure, mr, automatic=True)
            log.final(first)
            for text in rest:
                log.say(text)
        if closure.status == "closed" and closure.sha:
            tell(ctx, closure=closure.sha, say=log.say, merge_request=merge_request_step(mr))
        return close_out(ctx, closure, mr)
    return None
