"""`status`: where each milestone stands, from the ops history alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import git
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..evidence.rows import UNPLACED, HandRow
from ..evidence.streak import Streak, named_runs
from ..evidence.void import void_reasons
from ..evidence.why import reasons_of, short
from ..frozen import replace
from ..ledger.whole import row_against_closure, said_row
from ..ledger.workspace import Context
from ..textsafe import line


def _not_ops(ctx: Context, tip: str, commits: list[Any]) -> list[str]:
    """The commits on the ops branch and not on the base that are no ops commit at all (a
    hand commit with no trailers: found by a newcomer, shown nowhere until CI's verify
    refused it, `not-an-ops-commit`)."""
    if ctx.base_ref is None or not tip:
        return []
    ops = {c.sha for c in commits}
    return [sha for sha in git.out(ctx.repo, "rev-list", "--no-merges", tip,
                                   "^" + (ctx.base_sha or ctx.base_ref), "--").split()
            if sha not in ops]


def _unpushed(ctx: Context, at: Any, commits: Sequence[OpsCommit]) -> tuple[int | None, str]:
    """How many ops commits the branch holds that the [ops] remote's (as last fetched) does
    not, and the line that says so: None (and nothing said) with no such remote here or
    nothing to push (newcomer 14: `status` looked the same before and after a failed push,
    and whoever took over read it as pushed)."""
    from ..ledger.remote import no_remote, remote_url

    ops = ctx.cfg.ops
    remote = f"refs/remotes/{ops.remote}/"
    if not at.exists or not ops.remote:
        return None, ""
    if not (ctx.base_ref or "").startswith(remote):  # (a misspelt remote was said nowhere)
        return None, no_remote(ops.remote) if commits and not remote_url(ctx.repo,
                                                                           ops.remote) else ""
    theirs = git.rev_parse(ctx.repo, remote + ops.branch)
    if theirs == at.sha:
        return 0, ""
    ahead = next((i for i, c in enumerate(commits) if c.sha == theirs), None)
    if ahead is None and theirs is not None:  # (moved on, or at a merge: git counts)
        ahead, behind = (int(n) for n in git.out(
            ctx.repo, "rev-list", "--count", "--no-merges", "--left-right",
            f"{at.sha}...{theirs}", "--").split())
        if behind:  # (newcomer 15: `close` refuses there; the next run rebuilds)
            ours = f", and it {ahead} that one lacks" if ahead else ""
            then = "rebuilds this branch's on them" if ahead else "records on them"
            return ahead, (f"{ops.remote}/{ops.branch} (as last fetched) holds {behind} "
                           f"commit(s) this branch lacks{ours}: the next `run` {then} when "
                           "it pushes")
    count = len(commits) if ahead is None else ahead
    return count, "" if not count else (
        f"not pushed: {count} ops commit(s) {ops.remote} lacks: `git push {ops.remote} "
        f"{ops.branch}` (`run` pushes them too)")


def status_report(ctx: Context) -> dict[str, Any]:
    at = ctx.tip()
    commits = ctx.history(at.sha)
    s = ctx.streak(at.sha, commits=commits)
    runs = [c for c in commits if c.is_run]
    malformed = [c.sha for c in commits if c.problems] + _not_ops(ctx, at.sha, commits)
    # The rows the streak reads (the one reading: `Context.hand_rows`), in tracker order.
    backlog = git.show_bytes(ctx.repo, at.sha, ctx.cfg.docs.backlog)
    hand = ctx.hand_rows(backlog, commits)
    hand_rows = [h.run_id for h in hand]
    closed = s.closed_by
    s, fault = standing(ctx, commits, s)
    broken = does_not_hold(ctx, s, commits, at.sha)
    lines = _standing_lines(ctx, s, fault, closed, commits, at.sha, broken)
    where = f"at {at.sha[:12]}" if at.exists else \
        f"(not created here yet; {ctx.cfg.ops.remote}'s is at {at.sha[:12]})" if at.remote else \
        f"(not created yet; base {ctx.cfg.ops.base})"
    lines.append(f"ops branch: {ctx.cfg.ops.branch} {where}")
    unpushed, said = _unpushed(ctx, at, commits)
    lines += [f"  {said}"] if said else []
    voids = void_reasons(commits)
    last = _last_run(ctx, runs, voids)
    lines += last.pop("lines")
    lines.append(f"runs recorded by evidencebot: {len(runs)}")
    if s.runs:
        from .describe import by_hand, no_longer_qualifying

        shown = by_hand(ctx, s.runs)
        lines.append(f"streak runs: {', '.join(r.run_id for r in s.runs)}" + (
            f" ({', '.join(shown)} recorded by hand: a report given to `record`, not a "
            "session `run` ran)" if shown else ""))
        moved = no_longer_qualifying(ctx, s.runs) if s.closed_by is None else None
        lines += [f"  {moved}"] if moved else []
    if voids:
        lines.append("voided runs (never count, still break a streak): " + "; ".join(
            f"{run} ({line(why)})" for run, why in voids.items()))
    if hand:
        lines.append("hand-written tracker rows (never counted): " + ", ".join(
            _hand_row(h, ctx.cfg.ops.base) for h in hand))
    if malformed:
        lines.append(f"MALFORMED ops commits: {', '.join(sha[:12] for sha in malformed)}")
    return {
        "streak": s,  # (as it stands: `standing`)
        "milestones": {ctx.milestone: {"streak": s.count, "needed": s.needed,
                                   "closed": s.closed_by is not None,
                                   "holds": None if s.closed_by is None else broken is None,
                                   "display": s.display,
                                   "headline": s.headline,
                                   "closed_on": s.closed_by.date[:10] if s.closed_by else None,
                                   "runs": [r.run_id for r in s.runs]}},
        "branch": ctx.cfg.ops.branch, "tip": at.sha if at.exists else None,
        "runs": len(runs), "last_run": last or None, "voided": voids,
        "hand_written_rows": hand_rows, "malformed": malformed, "lines": lines,
        "unpushed": unpushed,
    }


def _standing_lines(ctx: Context, s: Streak, fault: tuple[str, str, str] | None,
                    closed: OpsCommit | None, commits: Sequence[OpsCommit],
                    tip: str, broken: str | None) -> list[str]:
    """The headline, and why a streak met cannot close or a closure does not hold: what
    `close` and `verify` would say of it (`whole.row_against_closure` and the rest)."""
    state = f" — streak met: `evidencebot close {ctx.milestone}`" if s.met and \
        not s.closed_by and fault is None else ""
    blocked = row_against_closure(ctx, [r.run_id for r in s.evidence_runs], commits,
                                  tip) if state else None
    if blocked is not None:  # (`close` refuses it: say so, not "close")
        state = f" — but {said_row(blocked)} breaks it: `close` refuses; merge " \
            f"{ctx.cfg.ops.base} into the ops branch"
    lines = [f"{s.headline}{state}"]
    if fault is not None and closed is not None:
        lines.append(f"  NOT CLOSED: the closure commit {closed.sha[:12]} does not stand: "
                     f"{fault[1]}; verify blames it ({fault[0]})")
    elif broken is not None:  # (`does_not_hold`)
        lines.append(f"  {broken}")
    return lines


def does_not_hold(ctx: Context, s: Streak, commits: Sequence[OpsCommit], tip: str) -> str | None:
    """Why the closure of ``s`` (one that stands on the history before it: `standing`)
    does not hold once what was recorded since is read, as verify blames it
    (closure-contradicted); None when it holds, or nothing closed. Said by `status` and
    `history`, and in their --json as the milestone's `holds` (found by a newcomer:
    `closed: true` was all the JSON said of a closure verify refused)."""
    if s.closed_by is None:
        return None
    against = streaks.contradicting(commits, ctx.milestone, merged=ctx.on_base)
    if against is not None:  # (verify blames the run)
        return (f"the closure does not hold: run {against[1].run_id}, recorded after it, "
                "falls between two of its runs; start the ops branch again from "
                f"{ctx.cfg.ops.base} and record the reports anew")
    if not ctx.on_base(s.closed_by.sha):
        found = row_against_closure(ctx, named_runs(s.closed_by), commits, tip)
        if found is not None:  # (verify blames the closure)
            return (f"the closure does not hold: {said_row(found)} breaks the streak "
                    "between two of its runs")
    return None


def standing(ctx: Context, commits: Sequence[OpsCommit],
             s: Streak) -> tuple[Streak, tuple[str, str, str] | None]:
    """``s`` (the streak of ``commits``) as it stands: without its closure, and with the
    first fault verify finds in it, when the closure does not stand on the history before
    it (`rederive.closure_faults`) or, while unmerged, holds other files than `close`
    renders (`rederive.closure_file_faults`): a commit `close` would not have made. What
    `status` and `history` say. (A closure merged through a code merge request that CI
    did not verify is caught by the first: the file check renders the page, so it waits
    for the merge request's verify.)"""
    closed = s.closed_by
    if closed is None:
        return s, None
    from ..ledger.reclose import closure_faults, closure_file_faults

    faults, _ = closure_faults(ctx, closed, commits[commits.index(closed) + 1:])
    if not faults and not ctx.on_base(closed.sha):
        from .closure import rerendered

        faults = closure_file_faults(ctx, closed, rerendered)
    return (replace(s, closed_by=None), faults[0]) if faults else (s, None)


def _hand_row(row: HandRow, base: str) -> str:
    """A hand-written row as status names it: its run id, and where it breaks the streak."""
    name = row.run_id or "a row with no run id"
    if row.qualifying:
        return name
    if row.started == UNPLACED:
        return f"{name} (breaks every streak: it gives no time; mend it on {base})"
    return f"{name} (breaks the streak at {row.started[:16].replace('T', ' ')} UTC)"


def _last_run(ctx: Context, runs: Sequence[OpsCommit],
              voids: Mapping[str, str]) -> dict[str, Any]:
    """The run that started last (runs as they happened, not as recorded): its lines for
    the terminal, and why it does not count when it does not."""
    if not runs:
        return {"lines": []}
    last = max(runs, key=lambda c: c.started or c.date)
    reasons = list(reasons_of(ctx.repo, [last]).get(last.sha, ()))
    why = voids.get(last.run_id)
    started = (last.started or last.date)[:16].replace("T", " ")
    lines = [f"last run: {last.run_id} {last.outcome}{' (voided)' if why is not None else ''}"
             f", started {started} UTC"]
    if reasons or why is not None:
        lines.append(f"  why it does not count: {short([*reasons, *([why] if why else [])])}")
    return {"run_id": last.run_id, "outcome": last.outcome,
            "started_at": last.started or None, "voided": why is not None,
            "reasons": reasons, "lines": lines}
