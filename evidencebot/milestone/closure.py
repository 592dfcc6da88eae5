"""Closing a milestone: the streak from the ops history, the closure commit, its description.

State lives in git history only: the streak is read from run commits' trailers, "already
closed" from a closure commit, the merge request's description is committed with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from .. import __version__, git
from ..errors import PolicyViolation, UsageError
from ..evidence import trailers
from ..evidence.history import OpsCommit
from ..evidence.streak import Streak, named_runs
from ..frozen import frozen, replace
from ..ledger.commit import Draft, Tip
from ..ledger.reclose import closed_on_already, runs_end
from ..ledger.recorder import read_docs
from ..ledger.workspace import Context
from ..md import edit as mdedit
from .report import closure_page, page_path


@frozen
class Closure:
    status: str  # "closed" | "already-closed"
    milestone: str
    sha: str | None
    runs: tuple[str, ...]
    description_path: str
    description: str

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "milestone": self.milestone, "commit": self.sha,
                "runs": list(self.runs), "description": self.description_path}


def rule_of(ctx: Context, milestone: str) -> int:
    """Consecutive runs ``milestone`` needs, from the base config; no rule, no closure."""
    rule = ctx.rules.milestone.get(milestone)
    if rule is None:
        known = ", ".join(ctx.rules.milestone) or "none"
        raise UsageError(f"no [milestone.{milestone}] rule in the base branch's config; "
                         f"only milestones with a rule can close (rules: {known})",
                         fix=next((f"evidencebot close {m}" for m in ctx.rules.milestone
                                   if _plain(m) == _plain(milestone)), ""))
    return rule.consecutive


def _plain(name: str) -> str:
    """A milestone's name as typed in a hurry: mo2, MO2 and mo-2 are MO-2."""
    return name.replace("-", "").replace("_", "").casefold()


def current(ctx: Context, milestone: str) -> Streak:
    rule_of(ctx, milestone)
    return ctx.streak(milestone=milestone)


Describe = Callable[[Streak, str, str], str]  # (streak, closed at, tip) -> description


def other_branch(ctx: Context, milestone: str) -> UsageError | None:
    """Why ``milestone`` cannot close on this machine's ops branch when it is not the one
    the base's config names: its description and page name the branch, and verify renders
    them with the base's (adversary 44b: such a closure was pushed, and CI refused it for
    good)."""
    named, mine = ctx.rules.ops.branch, ctx.cfg.ops.branch
    if mine == named:
        return None
    return UsageError(f"{milestone} cannot close on {mine}: its description and page name "
                      f"the ops branch, and verify renders them with the base's [ops] branch "
                      f"({named}), so the closure would fail there (description-mismatch)",
                      fix=f"record and close on {named}, or merge [ops] branch = \"{mine}\" "
                      f"into {ctx.cfg.ops.base} through review first")


def closure_draft(ctx: Context, milestone: str, *, parent: str, describe: Describe) -> Draft:
    """The closure commit on ``parent``; PolicyViolation unless the streak there holds."""
    rule_of(ctx, milestone)
    elsewhere = other_branch(ctx, milestone)
    if elsewhere is not None:
        raise elsewhere
    s = ctx.streak(parent, milestone)
    if not s.met:
        raise PolicyViolation(
            f"{milestone} cannot close: the streak is {s.display}; {s.needed - s.count} more "
            f"consecutive qualifying run(s) needed")
    now = ctx.now
    last = runs_end(s)
    if last is not None and now < last:  # (a report may end up to the clock skew ahead)
        raise PolicyViolation(
            f"{milestone} cannot close yet: its last run finishes at {last:%Y-%m-%d %H:%M:%S} "
            f"UTC, after now ({now:%H:%M:%S} UTC), and a closure dated before its runs "
            "finished fails verify (closure-before-runs)",
            fix=f"run `evidencebot close {milestone}` again after {last:%H:%M:%S} UTC")
    _verified(ctx, parent)
    run_ids = tuple(r.run_id for r in s.evidence_runs)
    used = closed_on_already(ctx.history(parent), run_ids)
    if used is not None:
        raise PolicyViolation(f"{milestone} cannot close: {used[1]} ({used[0]})", fix=used[2])
    _unbroken(ctx, milestone, run_ids, parent)
    path = description_path(ctx, milestone)
    changes = _documents(ctx, parent, milestone, run_ids, now)
    changes[path] = describe(s, now.strftime("%Y-%m-%d %H:%M UTC"), parent).encode("utf-8")
    page = page_path(ctx, milestone)
    changes[page] = closure_page(ctx, parent=parent, milestone=milestone,
                                 closed_on=now.strftime("%Y-%m-%d"), runs=run_ids).encode()
    block = trailers.closure_block(milestone=milestone, runs=run_ids, version=__version__,
                                   config_sha=ctx.base.sha256)
    body = (f"{milestone} closed on {len(run_ids)} consecutive qualifying runs: "
            f"{', '.join(run_ids)}.\nThe merge request description is {path}; the "
            f"report page {page}.\n"
            "Merge with a merge commit; do not squash (a squash drops the trailers).")
    return Draft(changes, trailers.render_message(f"evidence(milestone): close {milestone}",
                                                  body, block))


def rerendered(ctx: Context, closure: OpsCommit, parent: str) -> dict[str, str | None]:
    """Every file `close` wrote for ``closure``, by path, from the history at ``parent``
    and the closure's date alone (verify compares): its description and report page
    (`describe.rerender`) and the three documents (`_documents`: the MO-* cells, the
    session-log entry), each None where `close` could not write them there (two rows of
    the milestone, none: found by an adversary, the documents then went unchecked and
    could name runs that never were)."""
    from .describe import closed_at_of, rerender

    out = rerender(ctx, closure, parent)
    mo = closure.trailers.get("Milestone", "")
    s = ctx.streak(parent, mo)
    closed_at = closed_at_of(ctx, closure)
    try:
        docs = _documents(ctx, parent, mo, [r.run_id for r in s.evidence_runs], closed_at)
    except (UsageError, mdedit.MarkdownEditError):  # (close refuses there)
        d = ctx.cfg.docs
        return {**out, **dict.fromkeys((d.design, d.backlog, d.session_log))}
    return {**out, **{path: data.decode("utf-8", "replace") for path, data in docs.items()}}


def unwritable(ctx: Context, *, sign: bool = False) -> UsageError | None:
    """Why the documents on the ops branch (its tip, else the base's) cannot take a run's
    row and entry, or the burn-in milestone's closure; None when they can. What `run`
    asks before a session is spent (`record` and `close` would refuse after it): a trial
    attempt's commit is built and judged by the scope rules as `record` builds one (no
    ref points at it; signed when ``sign``, as `run` asks before a session: newcomer 17,
    a key the machine's git could not use was found after it, and its evidence went with
    it), and the documents `close` would write are judged by the scope rules as if the
    milestone had closed (the streak's rules then pass). Every document's problem at once
    (newcomer 17: one a review cycle)."""
    locked = git.common_dir(ctx.repo) / "refs" / "heads" / f"{ctx.cfg.ops.branch}.lock"
    if locked.exists():  # (newcomer 17: git refused to move the branch after the session)
        return UsageError(f"git cannot move {ctx.cfg.ops.branch}: a git that stopped "
                          f"part-way left its lock, {locked}",
                          fix=f"when no git is running in this repository, delete {locked}")
    tip = ctx.tip().sha
    found = list({str(e): e for e in (_run_problem(ctx, tip, sign), _closing_problem(ctx, tip))
                  if e}.values())  # (a document missing is said once)
    if len(found) < 2:
        return found[0] if found else None
    return UsageError("; and ".join(map(str, found)),
                      fix="; ".join(dict.fromkeys(e.fix for e in found if e.fix)))


_MEND = ("mend it on the base branch and merge it through review; `evidencebot demo` builds "
         "a repository with the three documents and the sections evidencebot edits (README: "
         "On your own trading repository)")


def _run_problem(ctx: Context, tip: str, sign: bool) -> UsageError | None:
    """Why a trial attempt's commit on ``tip`` cannot be built (`unwritable`)."""
    from ..evidence.record import (
        CodeState,
        Outcome,
        SessionInfo,
        attempt_stem,
        build_record,
        record_path,
    )
    from ..ledger.recorder import free_name, run_draft

    # (named as `record_attempt` names it: an attempt recorded in this second is no rewrite)
    run_id = free_name(ctx, tip, attempt_stem(ctx.now, "failed-infra"),
                       lambda name: record_path(ctx.cfg, name))
    trial = build_record(cfg=ctx.rules, run_id=run_id,
                         outcome=Outcome.FAILED_INFRA, recorded_at=ctx.now, started_at=ctx.now,
                         finished_at=ctx.now, metrics=None, verdict=None, report=None,
                         code=CodeState(commit=tip, dirty=False), session=SessionInfo())
    try:
        ctx.build(tip, run_draft(ctx, trial, parent=tip, attachments={}).draft, trial=not sign)
    except PolicyViolation as e:
        return UsageError(f"a run's evidence on {ctx.cfg.ops.branch}: {e}", fix=_MEND)
    except UsageError as e:  # (a document missing, one `record` cannot write in, the key)
        return e if e.fix else UsageError(str(e), fix=_MEND)
    return None


def _closing_problem(ctx: Context, tip: str) -> UsageError | None:
    """Why the documents `close` would write on ``tip`` cannot be (`unwritable`)."""
    from ..guard.rules import CLOSED_MET, Blob, Change
    from ..guard.scope import judge

    d = ctx.cfg.docs
    try:
        was = read_docs(ctx, tip, d.design, d.backlog, d.session_log)
        closing = _documents(ctx, tip, ctx.milestone, [f"{ctx.now:%Y%m%dT%H%M%SZ}"], ctx.now,
                             docs=was)
    except mdedit.MarkdownEditError as e:
        return UsageError(f"{e} (where {ctx.milestone} is closed)", fix=_MEND)
    except UsageError as e:  # (a document missing)
        return e if e.fix else UsageError(str(e), fix=_MEND)
    found = judge([Change(Blob(path, "100644", was[path]), Blob(path, "100644", data))
                   for path, data in closing.items()],
                  ctx.guard_rules, streak_of=lambda _mo: CLOSED_MET)
    if found:
        return UsageError(f"{ctx.milestone}'s closure would break the scope rules on "
                          f"{ctx.cfg.ops.branch}: {found[0].render()}", fix=_MEND)
    return None


def _verified(ctx: Context, tip: str) -> None:
    """A milestone closes, and its merge request is published, only on evidence `verify`
    finds clean (as CI's `verify` judges it: `rerendered`)."""
    from ..ledger.verify import verify, verify_context

    report = verify(verify_context(ctx.repo, base=ctx.cfg.ops.base, clock=ctx.clock),
                    spec=None, end=tip, describe=rerendered)
    if not report.ok:
        shown = "; ".join(f.render() for f in report.findings[:3])
        raise PolicyViolation(f"cannot close: verify finds {len(report.findings)} "
                              f"violation(s) in the evidence: {shown}")


def _unbroken(ctx: Context, milestone: str, run_ids: Sequence[str], parent: str) -> None:
    """No hand-written row breaks the streak among ``run_ids``, on the base either (a
    failed session written down there after the ops branch left it): verify would blame
    the closure on its merge request (`whole.row_against_closure`)."""
    from ..ledger.whole import row_against_closure, said_row

    found = row_against_closure(ctx, run_ids, ctx.history(parent), parent)
    if found is not None:
        raise PolicyViolation(
            f"{milestone} cannot close: {said_row(found)} breaks the streak between two of "
            f"its runs", fix=f"merge {ctx.cfg.ops.base} into the ops branch to see it there; "
            f"the streak then starts again after it")


def description_path(ctx: Context, milestone: str) -> str:
    return f"{ctx.cfg.docs.milestone_dir.rstrip('/')}/{milestone}.md"


def close(ctx: Context, milestone: str, *, describe: Describe) -> Closure:
    """One closure commit on the ops branch, or a refusal saying what is missing."""
    path = description_path(ctx, milestone)
    before: list[Streak] = []
    # One instant for the whole closure: the description and the page say when it closed,
    # and verify re-renders them from the commit's date.
    now = ctx.now
    ctx = replace(ctx, clock=lambda: now)

    def make(at: Tip) -> Draft | None:
        rule_of(ctx, milestone)
        s = ctx.streak(at.sha, milestone)
        before.append(s)
        if s.closed_by is not None:
            return None
        return closure_draft(ctx, milestone, parent=at.sha, describe=describe)

    sha = ctx.append(make)
    s = before[0]
    tip = ctx.tip().sha
    text = (git.show_bytes(ctx.repo, tip, path) or b"").decode("utf-8", "replace")
    if sha is None:
        assert s.closed_by is not None
        _verified(ctx, tip)  # (a closure `close` did not make publishes nothing)
        return Closure("already-closed", milestone, s.closed_by.sha,
                       named_runs(s.closed_by), path, text)
    return Closure("closed", milestone, sha, tuple(r.run_id for r in s.evidence_runs), path,
                   text)


def _documents(ctx: Context, rev: str, milestone: str, run_ids: Sequence[str],
               now: datetime, docs: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
    """The three documents as `close` writes them on ``rev`` (``docs``: them at ``rev``,
    when already read)."""
    d = ctx.cfg.docs
    date = now.strftime("%Y-%m-%d")
    out: dict[str, bytes] = {}
    docs = docs or read_docs(ctx, rev, d.design, d.backlog, d.session_log)
    design, backlog, log = docs[d.design], docs[d.backlog], docs[d.session_log]
    evidence = f"runs {', '.join(run_ids)} ({d.evidence_dir}/)"
    problems = []  # (each document's, said at once: newcomer 17)
    try:
        design = mdedit.set_cell(design, d.milestones_section, milestone, "Status", "CLOSED")
        out[d.design] = mdedit.set_cell(design, d.milestones_section, milestone, "Evidence",
                                        evidence)
    except mdedit.MarkdownEditError as e:
        problems.append(f"{d.design}: {e}")
    try:
        backlog = mdedit.set_cell(backlog, d.status_section, milestone, "Status", "CLOSED")
    except mdedit.MarkdownEditError as e:
        problems.append(f"{d.backlog}: {e}")
    if problems:
        raise mdedit.MarkdownEditError("; ".join(problems))
    table = mdedit.first_table(mdedit.parse(backlog), d.status_section)
    for column in ("Updated (UTC)", "Updated"):
        if table.has_column(column):
            backlog = mdedit.set_cell(backlog, d.status_section, milestone, column, date)
            break
    if table.has_column("Note"):  # "burn-in under way" would outlive the milestone
        backlog = mdedit.set_cell(backlog, d.status_section, milestone, "Note",
                                  f"closed on {date} by runs {', '.join(run_ids)}")
    out[d.backlog] = backlog
    out[d.session_log] = mdedit.append_entry(log, "\n".join([
        f"## {date} {now:%H:%M} UTC — OPS — {milestone} closed",
        "",
        f"- Milestone: {milestone}",
        f"- Result: CLOSED on {len(run_ids)} consecutive qualifying runs",
        f"- Evidence: {', '.join(run_ids)}",
        f"- Next: review and merge the merge request (merge commit, no squash); "
        f"description {d.milestone_dir}/{milestone}.md",
    ]))
    return out


def documents_check(ctx: Context) -> Any:
    """Whether the documents can take the run's evidence and the milestone's closure
    (`unwritable`), whether they say a milestone closed that no closure closed (verify's
    `said_closed`), and whether the tracker's rows will say when a run was and how it
    went, as a check of the dry run."""
    from ..evidence.render import TRACKER_COLUMNS, tracker_table
    from ..guard.prose import READ_AS_OPEN
    from ..ledger.whole import closed_milestones, said_closed
    from ..runbook.checks import CheckResult

    problem = unwritable(ctx)
    if problem is not None:
        return CheckResult("documents", "FAIL", str(problem), problem.fix)
    d = ctx.cfg.docs
    tip = ctx.tip().sha
    said = said_closed(ctx, closed_milestones(ctx.history(tip)), tip)
    if said:  # (found by a newcomer: verify failed on it, and nothing had said so before)
        path, mo, (a, _b) = said[0]
        return CheckResult(
            "documents", "WARN", f"{path}:{a} says {mo} closed, and no closure closed it: "
            "runs record, but verify fails every ops merge request on it",
            f"reword it on {ctx.cfg.ops.base} through review ({READ_AS_OPEN})")
    # (found by a newcomer: a "Result" column was left blank in every run's row, and a
    # hand-written "qualifying" under it broke the streak)
    table = tracker_table(ctx.rules, git.show_bytes(ctx.repo, tip, d.backlog) or b"")
    missing = [c for c in ("Date (UTC)", "Outcome") if not table.has_column(c)]
    if missing:
        return CheckResult(
            "documents", "WARN", f"the tracker's table in {d.backlog} has no "
            f"{' or '.join(repr(m) for m in missing)} column: the runs' rows go without it, "
            "and a hand-written row with no Outcome breaks the streak",
            "name the columns as evidencebot writes them (any of: " + " | ".join(
                TRACKER_COLUMNS) + "), on the base branch through review")
    return CheckResult("documents", "PASS", f"{d.backlog} (its tracker and {ctx.milestone}'s "
                       f"status row), {d.session_log} and {d.design} take the evidence")
