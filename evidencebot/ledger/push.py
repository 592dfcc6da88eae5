"""Pushing the ops branch, never by force.

When the remote moved (another operator recorded meanwhile), our commits are replayed on
its tip — rows and entries re-rendered from the records — as one chain built before any
ref moves; then the branch moves once, under the lock, from the old tip it was compared
with. A crash at any point leaves the branch at the old tip or at the complete new chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .. import git
from ..errors import PolicyViolation, UsageError, git_cause
from ..evidence.history import OpsCommit
from ..evidence.record import EvidenceRecord, read_file
from ..frozen import frozen
from ..md import edit as mdedit
from . import commit as ledger
from .commit import Draft
from .recorder import recordable, run_draft
from .void import replay_void
from .workspace import Context

MAX_PUSH_ATTEMPTS = 3

# (ops commit, new parent) -> the same commit's draft on the new parent
Replay = Callable[[OpsCommit, str], Draft]


@frozen
class PushResult:
    status: str  # pushed | up-to-date | rejected-non-fast-forward | not pushed
    detail: str = ""


def push_branch(repo: Path, *, remote: str, branch: str,
                push_options: Sequence[str] = ()) -> PushResult:
    for opt in push_options:
        if "\n" in opt or "\r" in opt:
            raise ValueError(f"push option {opt[:40]!r}… has a line break; git refuses those")
    args = ["push", "--porcelain"]
    for opt in push_options:
        args += ["-o", opt]
    args += [remote, f"refs/heads/{branch}:refs/heads/{branch}"]
    said = b""
    for attempt in range(3):
        try:
            # Never wait at a credentials prompt: an unattended run would hang there.
            out = git.run(repo, *args, env={"GIT_TERMINAL_PROMPT": "0"}).decode(
                "utf-8", "replace")
            break
        except git.GitError as e:
            if e.returncode == 1:  # (refused: the porcelain says which ref, stderr why)
                out, said = e.stdout.decode("utf-8", "replace"), e.stderr
                break
            # A remote that hangs up mid-push kills git with SIGPIPE: that is worth
            # another try; a refusal or a bad remote is not.
            if e.returncode >= 0 or attempt == 2:
                raise UsageError(f"git push to {remote} failed: {e}") from None
    for line in out.splitlines():
        if line.startswith("!"):
            if "non-fast-forward" in line or "fetch first" in line:
                return PushResult("rejected-non-fast-forward", line)
            raise UsageError(f"git push to {remote} was refused: {line.strip()}"
                             + _remote_said(said))
        if line.startswith("="):
            return PushResult("up-to-date", line)
        if line[:1] in (" ", "*", "+"):
            return PushResult("pushed", line)
    cause = git_cause(said) if said else ""
    raise UsageError(f"git push to {remote}: unexpected answer {out.strip()[:200]!r}"
                     + (f" ({cause})" if cause else ""))


def _remote_said(stderr: bytes) -> str:
    """What the remote said of a refusal (its "remote:" lines: a protected branch, a
    permission; newcomer 16: only "pre-receive hook declined" was shown), on one line."""
    from ..textsafe import line

    lines = [x[len("remote:"):].strip() for x in stderr.decode("utf-8", "replace").splitlines()
             if x.startswith("remote:") and x[len("remote:"):].strip()]
    return f"; the remote said: {line(' / '.join(lines))[:300]}" if lines else ""


def fetch_branch(repo: Path, *, remote: str, branch: str) -> str | None:
    """The remote's tip of ``branch`` (fetched into refs/remotes), None when it has none."""
    git.run(repo, "fetch", "-q", remote,
            f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}", ok=(0, 1, 128))
    return git.rev_parse(repo, f"refs/remotes/{remote}/{branch}")


def push_ops(ctx: Context, *, options: Sequence[str] = (),
             replay_closure: Replay | None = None) -> PushResult:
    """Push the ops branch; on a non-fast-forward, rebuild our commits on the remote's tip
    and push again (at most MAX_PUSH_ATTEMPTS times). Never a force push."""
    ops = ctx.cfg.ops
    for _ in range(MAX_PUSH_ATTEMPTS):
        result = push_branch(ctx.repo, remote=ops.remote, branch=ops.branch,
                             push_options=options)
        if result.status != "rejected-non-fast-forward":
            return result
        remote_tip = fetch_branch(ctx.repo, remote=ops.remote, branch=ops.branch)
        if remote_tip is None:
            raise UsageError(f"{ops.remote} refused {ops.branch} but has no such branch")
        try:
            rebuild_onto(ctx, remote_tip, replay_closure=replay_closure)
        except (UsageError, PolicyViolation) as e:  # (record's refusals, a closure the
            # remote's runs break: the two branches disagree; said as each is, exit 2 or 1)
            raise type(e)(f"{ops.branch} was not pushed: {ops.remote} has ops commits "
                          f"yours cannot follow: {e}", fix=e.fix or (
                                 f"your commits stay on the local {ops.branch}; compare "
                                 f"them with {ops.remote}/{ops.branch} (evidencebot history), "
                                 f"and to record on the remote's line, move {ops.branch} to "
                                 f"it (git branch -f {ops.branch} {ops.remote}/{ops.branch}, "
                                 "from another branch) and record the reports again"
                             )) from None
    raise UsageError(f"{ops.remote} kept moving; {ops.branch} was not pushed "
                     f"after {MAX_PUSH_ATTEMPTS} attempts")


def rebuild_onto(ctx: Context, remote_tip: str, *, replay_closure: Replay | None) -> str:
    """Replay the local ops commits missing from ``remote_tip`` on top of it: the whole
    chain is built first, then the branch moves once (compared with its old tip)."""
    with ctx.locked():
        at = ctx.tip()
        mine = list(reversed(ctx.history(f"{remote_tip}..{at.sha}")))
        cur = remote_tip
        for c in mine:
            if c.kind == "milestone":
                if replay_closure is None:
                    raise UsageError(f"cannot replay closure {c.sha[:12]} here; run "
                                     "`evidencebot close` again")
                draft = replay_closure(c, cur)
            elif c.is_run:
                replayed = _replay_run(ctx, c, cur)  # record's refusals again, on the new tip
                if replayed is None:
                    continue  # recorded there already
                draft = replayed
            elif c.kind == "void":
                voided = replay_void(ctx, c, cur)  # the rules again, on the new tip
                if voided is None:
                    continue  # voided there already
                draft = voided
            else:
                draft = _replay_files(ctx, c, cur)
            cur = ctx.build(cur, draft)
        ledger.advance(ctx.repo, at=at, new=cur)
        return cur


def _replay_run(ctx: Context, c: OpsCommit, parent: str) -> Draft | None:
    """Run commit ``c`` again on ``parent``; None when ``parent`` holds its record."""
    path = c.trailers["Evidence-Record"]
    data = git.show_bytes(ctx.repo, c.sha, path) or b"{}"
    record = read_file(EvidenceRecord, data)
    runs = ctx.runs(parent)
    if not recordable(ctx, record, parent=parent, runs=runs):
        return None
    attachments = {p: git.show_bytes(ctx.repo, c.sha, p) or b""
                   for p in (record.session.log, record.session.handoff) if p}
    return run_draft(ctx, record, parent=parent, attachments=attachments, data=data,
                     runs=runs).draft


def _replay_files(ctx: Context, c: OpsCommit, parent: str) -> Draft:
    """A commit of new files and one appended session-log entry (a `check`), again."""
    old_parent = c.parents[0]
    names = git.out(ctx.repo, "diff-tree", "-r", "--name-only", "--no-commit-id", old_parent,
                    c.sha).split("\n")
    changes: dict[str, bytes] = {}
    log_name = ctx.cfg.docs.session_log
    for name in filter(None, names):
        new = git.show_bytes(ctx.repo, c.sha, name) or b""
        if name == log_name:
            before = git.show_bytes(ctx.repo, old_parent, name) or b""
            current = git.show_bytes(ctx.repo, parent, name) or b""
            changes[name] = mdedit.append_entry(current, new[len(before):].decode("utf-8"))
        else:
            changes[name] = new
    message = git.out(ctx.repo, "log", "-1", "--format=%B", c.sha) + "\n"
    return Draft(changes, message)
