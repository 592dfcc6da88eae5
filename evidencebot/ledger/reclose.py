"""`verify`'s re-derivation of a closure commit from committed evidence alone: a rule
for its milestone, no closure before it, the streak its parent holds, the runs it names
(none a closure of another milestone named already), its date, and the files `close`
renders there. `status` asks the same of a closure not merged yet."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from .. import git
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..evidence.stamps import git_date
from . import DROP, Add
from .workspace import Context

# (context, closure commit, its parent) -> the files `close` renders there, by path
Describe = Callable[[Context, OpsCommit, str], Mapping[str, str | None]]


def _closure_date(ctx: Context, c: OpsCommit, s: streaks.Streak, add: Add) -> None:
    """A closure is dated after the runs it names finished: its documents say when the
    milestone closed (re-rendered from its author date), and a date before its runs would
    be false everywhere the reviewer looks."""
    last = runs_end(s)
    if last is None:
        return
    authored = git.out(ctx.repo, "show", "-s", "--format=%aI", c.sha).strip()
    dated = min(git_date(d) for d in (c.date, authored) if d)
    if dated < last:
        add("closure-before-runs", f"the closure is dated {dated:%Y-%m-%d %H:%M %Z}, before "
            f"the runs it names finished ({last:%Y-%m-%d %H:%M %Z})",
            "close with `evidencebot close` on a clock that is right: " + DROP)


def runs_end(s: streaks.Streak) -> datetime | None:
    """When the last run a closure of ``s`` names finished (None: none says so)."""
    return max((datetime.fromisoformat(r.finished) for r in s.evidence_runs if r.finished),
               default=None)


Fault = tuple[str, str, str]  # (rule, message, fix)


def fault(rule: str, message: str, fix: str) -> Fault:
    """A finding not added yet (`closure_faults`)."""
    return rule, message, fix


def closure_faults(ctx: Context, c: OpsCommit, prior: Sequence[OpsCommit]
                   ) -> tuple[list[Fault], streaks.Streak | None]:
    """Whether closure commit ``c`` stands on the history before it (``prior``): a rule
    for its milestone, no closure before it, a streak that met the rule, the streak's
    runs named. The faults, and the streak at its parent (None when nothing more can be
    compared). `verify`'s findings, and `status`'s word on a closure not merged yet."""
    mo = c.trailers.get("Milestone", "")
    rule = ctx.rules.milestone.get(mo)
    parent = c.parents[0] if c.parents else None
    if rule is None or parent is None:
        return [fault("milestone-without-rule", f"{mo} closed without a [milestone.{mo}] rule"
                 if parent else f"{mo} closed on no history (a commit without a parent)",
                 "only milestones with a rule in the base branch's config close, on the "
                 "runs before them: " + DROP)], None
    s = ctx.streak(parent, mo, commits=prior)
    if s.closed_by is not None:  # (nothing more to compare: there is no second closure)
        return [fault("milestone-closed-twice", f"{mo} was already closed in "
                 f"{s.closed_by.sha[:12]}", "a milestone closes once: " + DROP)], None
    if not s.met:
        return [fault("milestone-closed-early", f"{mo} closed with a streak of {s.display}",
                 f"record {s.needed - s.count} more qualifying run(s)")], None
    named = list(streaks.named_runs(c))
    want = [r.run_id for r in s.evidence_runs]
    if named != want:
        return [fault("milestone-evidence-mismatch", f"Milestone-Evidence names "
                 f"{', '.join(named)}; the streak is {', '.join(want)}", "close with "
                 "`evidencebot close`, which names the streak's runs")], s
    used = closed_on_already(prior, want)
    if used is not None:
        return [used], s
    return [], s


def closed_on_already(prior: Sequence[OpsCommit], runs: Sequence[str]) -> Fault | None:
    """Why a closure on ``runs`` (after ``prior``, newest first) cannot stand when a closure
    before it named one of them: each milestone closes on runs of its own (adversary 44b:
    the runs that closed MO-2 closed MO-3 too, with no run since, and verify said OK)."""
    for c in prior:
        taken = [r for r in streaks.named_runs(c) if r in runs] if c.kind == "milestone" \
            and not c.problems else []
        if taken:
            return fault("milestone-runs-reused", f"{', '.join(taken)} closed "
                         f"{c.trailers.get('Milestone', '?')} in {c.sha[:12]} already",
                         "each milestone closes on runs of its own: record "
                         f"{len(taken)} more qualifying run(s)")
    return None


def check_closure(ctx: Context, c: OpsCommit, prior: Sequence[OpsCommit], add: Add,
                  describe: Describe | None) -> None:
    """Every finding about closure commit ``c`` (``prior``: the ops commits before it): the
    streak the history holds at its parent, the runs it names, the files `close` renders."""
    faults, s = closure_faults(ctx, c, prior)
    for fault in faults:
        add(*fault)
    if s is None:
        return
    _closure_date(ctx, c, s, add)
    for found in closure_file_faults(ctx, c, describe) if describe is not None else ():
        add(*found)


def closure_file_faults(ctx: Context, c: OpsCommit, describe: Describe) -> list[Fault]:
    """The files closure commit ``c`` holds that are not what `close` renders there
    (``describe``: `closure.rerendered`): its documents, description and report page."""
    out: list[Fault] = []
    docs = {ctx.cfg.docs.backlog, ctx.cfg.docs.design, ctx.cfg.docs.session_log}
    for path, text in describe(ctx, c, c.parents[0]).items():
        committed = git.show_bytes(ctx.repo, c.sha, path)
        if text is None:  # (the milestone's row is not there once: none, or two)
            out.append(fault("closure-documents-mismatch", f"`close` writes no closure in "
                             f"{path} at this commit's parent (no row of the milestone, or "
                             "two)", "one row of it in each table, on the base: " + DROP))
        elif committed is not None and committed.decode("utf-8", "replace") == text:
            continue
        elif path in docs:
            out.append(fault("closure-documents-mismatch", f"{path} is not what `close` "
                             "writes at this commit (the milestone's cells, the session-log "
                             "entry, nothing else)", "let `evidencebot close` write it: " + DROP))
        elif path.endswith(".html"):
            out.append(fault("page-mismatch", f"{path} is not the report page `close` "
                             "renders from the history at this commit",
                             "let `evidencebot close` write it"))
        else:
            out.append(fault("description-mismatch", f"{path} is not the description "
                             "`close` renders from the history at this commit",
                             "let `evidencebot close` write it"))
    return out
