"""`void`: one reviewable ops commit saying a recorded run must not count — the void record,
the OPS session-log entry and the tracker's streak line — and `verify`'s look at void
commits. A rebuild after a lost push race makes the draft again on the new tip, so the
rules are checked again there (the run may have been used by a closure meanwhile)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from .. import __version__, git
from ..defaults import MAX_CLOCK_SKEW_SECONDS
from ..errors import PolicyViolation, UsageError
from ..evidence import streak as streaks
from ..evidence.history import OpsCommit
from ..evidence.record import VoidRecord, read_file, stamp
from ..evidence.render import with_streak
from ..evidence.stamps import git_date
from ..evidence.void import (
    VOIDS_DIR,
    clean_reason,
    closure_using,
    run_named,
    valid_run_id,
    void_entry,
    void_message,
    void_of,
    void_path,
)
from ..frozen import frozen
from ..guard.rules import Change
from ..hashes import sha256
from ..md import edit as mdedit
from ..redact import redact
from ..shape import Invalid
from . import DROP, Add
from .commit import Draft, Tip
from .recorder import read_docs
from .workspace import Context


@frozen
class VoidResult:
    status: str  # "voided" | "unchanged"
    run_id: str
    path: str
    sha: str  # the void commit (the earlier one when nothing was added)
    reason: str
    streak: streaks.Streak


def target(commits: Sequence[OpsCommit], run_id: str, branch: str) -> OpsCommit:
    """The run commit ``run_id`` names, if it may be voided: UsageError (exit 2) when no
    such run is recorded, PolicyViolation (exit 1) when a closure's streak holds it."""
    run = run_named(commits, run_id)
    if run is None:
        raise UsageError(f"no run {run_id} is recorded on {branch}; `evidencebot history` "
                         "lists the runs (hand-written tracker rows cannot be voided)")
    closure = closure_using(commits, run_id)
    if closure is not None:
        raise PolicyViolation(
            f"run {run_id} is in the streak the {closure.trailers.get('Milestone', '')} "
            f"closure ({closure.sha[:12]}) stands on; a run a closure's streak holds cannot "
            "be voided")
    return run


def void_run(ctx: Context, run_id: str, *, reason: str) -> VoidResult:
    """Void ``run_id`` on the ops branch; voiding it again adds nothing."""
    if not valid_run_id(run_id):
        raise UsageError(f"{run_id!r} is not a run id")
    try:
        text = clean_reason(reason)
    except ValueError as e:
        raise UsageError(f"--reason: {e}") from None
    earlier: list[OpsCommit] = []

    def make(at: Tip) -> Draft | None:
        commits = ctx.history(at.sha)
        done = void_of(commits, run_id)
        if done is not None:
            earlier.append(done)
            return None
        run = target(commits, run_id, ctx.cfg.ops.branch)
        path = run.trailers.get("Evidence-Record", "")
        data = git.show_bytes(ctx.repo, run.sha, path) or b""
        record = VoidRecord(run_id=run_id, reason=text, voided_at=stamp(ctx.now), record=path,
                            record_sha256=sha256(data))
        return void_draft(ctx, parent=at.sha, record=record, run=run, commits=commits)

    sha = ctx.append(make)
    streak = ctx.streak()
    if sha is None:
        done = earlier[0]
        return VoidResult("unchanged", run_id, void_path(run_id), done.sha,
                          done.trailers.get("Void-Reason", ""), streak)
    return VoidResult("voided", run_id, void_path(run_id), sha, text, streak)


def void_draft(ctx: Context, *, parent: str, record: VoidRecord, run: OpsCommit,
               commits: Sequence[OpsCommit]) -> Draft:
    """The void commit on ``parent``: the record, the OPS entry and the tracker's streak
    line as they read once the void counts."""
    d = ctx.cfg.docs
    docs = read_docs(ctx, parent, d.backlog, d.session_log)
    marker = run._replace(sha="0" * 40, parents=(), subject="",
                     trailers={"Evidence-Kind": "void", "Evidence-Run-Id": record.run_id})
    after = after_void(ctx, marker, commits, docs[d.backlog])
    mo, path = ctx.milestone, void_path(record.run_id)
    next_step = (f"{mo} is closed; this void changes nothing it closed on"
                 if after.closed_by is not None else
                 f"streak {after.display} toward {mo}: record the next qualifying run")
    entry = void_entry(record, outcome=run.outcome, milestone=mo, path=path,
                       next_step=next_step)
    changes = {path: record.to_bytes(),
               d.session_log: mdedit.append_entry(docs[d.session_log], redact(entry))}
    try:
        backlog = with_streak(docs[d.backlog], d.tracker_section, after.count, after.needed)
    except mdedit.MarkdownEditError:
        backlog = docs[d.backlog]  # no tracker section: nothing to keep in step
    if backlog != docs[d.backlog]:
        changes[d.backlog] = backlog
    message = void_message(record, outcome=run.outcome, milestone=mo, version=__version__,
                           config_sha=ctx.base.sha256)
    return Draft(changes, message)


def after_void(ctx: Context, void: OpsCommit, commits: Sequence[OpsCommit],
               backlog: bytes | None) -> streaks.Streak:
    """The streak once ``void`` joins ``commits`` (the history before it, newest first;
    ``backlog``: the tracker there): what its streak line says."""
    return streaks.streak_of([void, *commits], milestone=ctx.milestone,
                             needed=ctx.consecutive, hand_rows=ctx.hand_rows(backlog, commits))


def replay_void(ctx: Context, c: OpsCommit, parent: str) -> Draft | None:
    """The void commit ``c`` made again on ``parent`` (None: the run is voided there
    already); refused as `void` would refuse it there."""
    data = git.show_bytes(ctx.repo, c.sha, void_path(c.run_id))
    try:
        record = read_file(VoidRecord, data or b"")
    except Invalid:
        raise UsageError(f"cannot replay void {c.sha[:12]}: its record is unreadable; "
                         f"run `evidencebot void {c.run_id}` again") from None
    commits = ctx.history(parent)
    if void_of(commits, record.run_id) is not None:
        return None
    run = target(commits, record.run_id, ctx.cfg.ops.branch)
    return void_draft(ctx, parent=parent, record=record, run=run, commits=commits)


def check_voids(ctx: Context, c: OpsCommit, prior: Sequence[OpsCommit],
                changes: Sequence[Change], add: Add) -> None:
    """`verify` on one ops commit: void records only come with their void commit, and a void
    names a run recorded before it that no closure names, once, with a consistent record."""
    own = void_path(c.run_id) if c.kind == "void" else None
    for ch in changes:
        if ch.old is None and ch.new is not None and ch.new.path.startswith(VOIDS_DIR + "/") \
                and ch.new.path != own:
            add("stray-void", f"{ch.new.path} is not this commit's void record",
                "voids are made by `evidencebot void RUN --reason TEXT`")
    if c.kind != "void" or c.problems:
        return
    run = run_named(prior, c.run_id)
    if run is None:
        add("void-unknown-run", f"void of run {c.run_id}, which no earlier commit records",
            "void only a recorded run")
        return
    closure = closure_using(prior, c.run_id)
    if closure is not None:
        add("void-of-closed-run", f"run {c.run_id} is in the streak the closure "
            f"{closure.sha[:12]} stands on; a run a closure's streak holds cannot be voided",
            DROP)
    earlier = void_of(prior, c.run_id)
    if earlier is not None:
        add("void-twice", f"run {c.run_id} was already voided in {earlier.sha[:12]}",
            "a run is voided once: " + DROP)
    for problem in _record_problems(ctx, c, run):
        add("void-record", problem, "let `evidencebot void` write the void record")


def _record_problems(ctx: Context, c: OpsCommit, run: OpsCommit) -> list[str]:
    path = void_path(c.run_id)
    data = git.show_bytes(ctx.repo, c.sha, path)
    if data is None:
        return [f"no void record at {path}"]
    try:
        record = read_file(VoidRecord, data)
    except Invalid as e:
        return [f"{path} unreadable: {'.'.join(str(p) for p in e.loc)}: {e.message}"]
    problems = []
    if record.run_id != c.run_id:
        problems.append(f"{path} voids run {record.run_id!r}, the trailer {c.run_id!r}")
    if record.reason != c.trailers.get("Void-Reason"):
        problems.append(f"{path} gives another reason than the Void-Reason trailer")
    run_record = run.trailers.get("Evidence-Record", "")
    if record.record != run_record or record.record_sha256 != sha256(
            git.show_bytes(ctx.repo, run.sha, run_record) or b""):
        problems.append(f"{path} is not bound to run {c.run_id}'s record as committed")
    committed = git_date(c.date)
    if record.voided_at > stamp(committed + timedelta(seconds=MAX_CLOCK_SKEW_SECONDS)):
        problems.append(f"{path} was made at {record.voided_at}, after its commit")
    return problems
