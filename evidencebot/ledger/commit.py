"""Commits on the ops branch without touching the operator's checkout.

Plumbing only: `hash-object`, the changed folders' trees (`trees.edit`; a temporary
index under the git common dir when that cannot), `commit-tree -F`, then `update-ref`
with the old value, so the branch points either at the old commit or at the complete
new one. A worktree that has the ops branch checked
out is brought along (as `git commit` would) when it is clean, and refused when dirty.
"""

# No `from __future__ import annotations`: see guard/rules.py (NamedTuple fields).

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from .. import git
from ..errors import UsageError, git_cause
from ..frozen import frozen
from . import trees


@frozen
class Identity:
    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> "Identity":
        name, _, rest = text.partition("<")
        return cls(name.strip(), rest.rstrip(">").strip())


@frozen
class Tip:
    """Where the next ops commit goes: the branch's commit; when it is new here, the ops
    branch of the [ops] remote (``remote``: a fresh clone carries on the evidence already
    pushed), else the base."""

    branch: str
    sha: str
    exists: bool
    remote: bool = False


def tip(repo: Path, *, branch: str, base: str, remote: str = "origin") -> Tip:
    sha = git.rev_parse(repo, f"refs/heads/{branch}")
    if sha:
        return Tip(branch, sha, True)
    pushed = git.rev_parse(repo, f"refs/remotes/{remote}/{branch}") if remote else None
    if pushed:
        return Tip(branch, pushed, False, remote=True)
    for ref in (f"refs/heads/{base}", f"refs/remotes/origin/{base}", base):
        base_sha = git.rev_parse(repo, ref)
        if base_sha:
            return Tip(branch, base_sha, False)
    raise UsageError(
        f"the ops branch {branch!r} does not exist and neither does its base {base!r}; "
        f"commit something on {base!r} first or set [ops] base"
    )


def _checkout_dirty(worktree: Path) -> bool:
    # Tracked changes only: untracked files (the wrapper's report, say) are no reason to
    # refuse; `read-tree -m -u` below still refuses to overwrite one.
    return bool(git.run(worktree, "status", "--porcelain", "--untracked-files=no").strip())


def _dirty_or_unreadable(worktree: Path) -> bool:
    """`_checkout_dirty`, a checkout git cannot read counting as dirty (left as it is)."""
    try:
        return _checkout_dirty(worktree)
    except (git.GitError, OSError):
        return True


Judge = Callable[[str, str], None]  # (parent, new commit) -> raises on a violation


class Draft(NamedTuple):
    """One ops commit before it exists: the files it writes and its message."""

    changes: Mapping[str, bytes]
    message: str


def build(repo: Path, *, parent: str, draft: Draft, author: Identity, when: datetime,
          judge: Judge, trial: bool = False) -> str:
    """The commit ``draft`` on top of ``parent``, judged by the scope rules; no ref moves.

    Unreferenced until `advance` points the branch at it (git gc keeps it for weeks).
    ``trial``: one no ref will point at, not signed (no key is asked for it: the dry
    run's, at every check). Its message is held to the trailer contract as the commit-msg
    hook and verify hold it
    (found by an adversary: a report's client id of -5 was committed as a trailer verify
    refuses, and the branch could only be rebuilt)."""
    from ..evidence.trailers import validate

    problems = validate(draft.message)
    if problems:
        raise UsageError(f"the ops commit's message would break the trailer contract: "
                         f"{problems[0]}; nothing was written", fix="mend the input it was "
                         "made from (a report's value, say)")
    tree = _write_tree(repo, parent, draft.changes)
    new = _commit_tree(repo, tree=tree, parent=parent, message=draft.message, author=author,
                       when=when, sign=not trial)
    judge(parent, new)
    return new


class Left(NamedTuple):
    """A checkout of the branch that evidence left behind (`advance`, ``leave_dirty``)."""

    checkout: Path
    old: str  # the tip it was at, where its HEAD now is (detached)
    stuck: str | None = None  # why git would not detach it: it is on the branch still


# (branch, commit) of every ops commit this process has landed: a stop after one says so
# (`cli.state.guarded`), not a bare "aborted" over evidence that stands.
landed: list[tuple[str, str]] = []


def advance(repo: Path, *, at: Tip, new: str, leave_dirty: bool = False) -> list[Left]:
    """Point ``at.branch`` from ``at.sha`` to ``new`` in one `update-ref` with the old value,
    bringing clean checkouts of the branch along. Raises UsageError, changing nothing, when
    a checkout is dirty or the branch moved meanwhile — unless ``leave_dirty`` (evidence of
    a session that ran, which no uncommitted edit may cost): then such a checkout is left
    where it was, its HEAD detached at ``at.sha`` with its changes kept, and named in the
    list returned."""
    if not leave_dirty:
        _move_branch(repo, at, new, ready_checkouts(repo, at.branch))
        return []
    checkouts = _put_back(repo, at.branch)
    left = [wt for wt in checkouts if _dirty_or_unreadable(wt)]
    return _move_branch(repo, at, new, [wt for wt in checkouts if wt not in left], left=left)


def ready_checkouts(repo: Path, branch: str) -> list[Path]:
    """The checkouts of ``branch`` (`_put_back`); UsageError when one holds uncommitted
    changes: `advance` will not move the branch under them, and `run` (under the lock)
    asks before its session starts, not when the session it would record is over."""
    checkouts = _put_back(repo, branch)
    refuse_dirty_checkouts(repo, branch, checkouts)
    return checkouts


def _put_back(repo: Path, branch: str) -> list[Path]:
    """The checkouts of ``branch``, a move of them a killed process left unfinished put
    back first (`_undo_unfinished`)."""
    checkouts = git.branch_worktrees(repo, branch)
    if checkouts:
        _undo_unfinished(repo, branch, checkouts)
    return checkouts


def refuse_dirty_checkouts(repo: Path, branch: str, checkouts: list[Path] | None = None) -> None:
    """UsageError when a checkout of ``branch`` (``checkouts``, found when None) holds
    uncommitted changes (`ready_checkouts`, without putting anything back: what a dry run
    asks)."""
    for wt in git.branch_worktrees(repo, branch) if checkouts is None else checkouts:
        if _checkout_dirty(wt):
            raise UsageError(
                f"{branch} is checked out at {wt} with uncommitted changes; commit or "
                "stash them there first (evidencebot will not overwrite them)",
                fix=f"git -C {git.quoted(wt)} stash (keeps them), then run the command again")


def _journal(repo: Path) -> Path:
    """What a move of checkouts is about to do, kept until the branch has moved: a process
    killed in between (-9, a power cut) leaves the checkouts ahead of the branch."""
    return git.state_path(repo, "moving.json")


def _undo_unfinished(repo: Path, branch: str, now: list[Path]) -> None:
    """Put back checkouts that a killed evidencebot brought to a commit the branch never
    reached: each one that is still a checkout of the branch (``now``) and whose index and
    files are exactly that commit's (nothing the operator changed since). Then the journal
    goes. (A journal naming any other folder changes nothing there.)"""
    import json

    path = _journal(repo)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        was, old, new = str(doc["branch"]), str(doc["old"]), str(doc["new"])
        named = {str(wt) for wt in doc["checkouts"]}
        checkouts = [wt for wt in now if str(wt) in named]
    except FileNotFoundError:
        return
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)  # (unreadable: nothing it says can be acted on)
        return
    if was == branch and git.rev_parse(repo, f"refs/heads/{branch}") == old:
        tree = git.out(repo, "rev-parse", "-q", "--verify", f"{new}^{{tree}}", ok=(0, 1, 128))
        for wt in checkouts:
            if tree and _holds_exactly(wt, tree):
                git.run(wt, "read-tree", "-m", "-u", new, old)
    path.unlink(missing_ok=True)


def _holds_exactly(worktree: Path, tree: str) -> bool:
    """Whether ``worktree``'s index is ``tree`` and its tracked files are the index's."""
    try:
        return worktree.is_dir() and git.out(worktree, "write-tree") == tree and \
            git.succeeds(worktree, "diff", "--quiet")
    except git.GitError:  # (an index in the middle of a merge: not ours)
        return False


def _write_tree(repo: Path, parent: str, changes: Mapping[str, bytes]) -> str:
    try:
        return trees.edit(repo, parent, changes)  # the folders on the way only
    except (trees.Unusual, git.GitError):
        return _write_tree_by_index(repo, parent, changes)


def _write_tree_by_index(repo: Path, parent: str, changes: Mapping[str, bytes]) -> str:
    import tempfile  # the unusual tree's way only: a few ms on every commit otherwise

    fd, index = tempfile.mkstemp(prefix="evidencebot-index-", dir=git.common_dir(repo))
    os.close(fd)
    os.unlink(index)  # git wants to create it itself
    env = {"GIT_INDEX_FILE": index}
    try:
        git.run(repo, "read-tree", parent, env=env)
        paths = sorted(changes)
        blobs = git.hash_blobs(repo, [changes[p] for p in paths])
        entries = [f"100644 {sha}\t{path}" for sha, path in zip(blobs, paths, strict=True)]
        git.run(repo, "update-index", "--add", "--index-info",
                input=("\n".join(entries) + "\n").encode("utf-8"), env=env)
        return git.out(repo, "write-tree", env=env)
    finally:
        Path(index).unlink(missing_ok=True)


def _commit_tree(
    repo: Path, *, tree: str, parent: str, message: str, author: Identity, when: datetime,
    sign: bool = True,
) -> str:
    stamp = f"{int(when.timestamp())} +0000"
    env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
           "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    known, signs = git.committing(repo)
    if not known:
        # A machine with no git identity still records evidence, as the bot.
        env |= {"GIT_COMMITTER_NAME": author.name, "GIT_COMMITTER_EMAIL": author.email}
    # Signed where the operator's git signs commits (commit.gpgsign; gpg.format openpgp or
    # ssh): `verify --require-signed` then checks the evidence against trusted keys.
    try:
        return git.out(repo, "commit-tree", tree, "-p", parent,
                       *(["-S"] if signs and sign else []), "-F", "-",
                       input=message.encode("utf-8"), env=env)
    except git.GitError as e:
        if not (signs and sign):
            raise
        raise UsageError(f"git could not sign the ops commit ({git_cause(e.stderr)}); "
                         "nothing was committed", fix="make the signing key available to "
                         "this machine's git (its agent, user.signingkey); only where the "
                         "base does not require signed evidence ([ops] require_signed), "
                         "turning commit.gpgsign off for this repository will do") from None


def _not_moved(repo: Path, branch: str, old: str, e: Exception) -> UsageError:
    """Why the branch's update failed: another writer moved it, or git could not (a full
    disk: found by an adversary, it was said to be another writer's doing)."""
    if git.rev_parse(repo, f"refs/heads/{branch}") == (old or None):
        return UsageError(f"git could not move {branch}: {e}; nothing was committed")
    return UsageError(f"{branch} moved while evidencebot was writing; nothing was "
                      "committed, run the command again")


def _move_branch(repo: Path, at: Tip, new: str, checkouts: list[Path], *,
                 left: list[Path] | None = None) -> list[Left]:
    # Checkouts first: were we to stop between the two steps, a checkout would show the
    # new evidence as an uncommitted change, never the committed evidence as reverted. A
    # stop we see (Ctrl-C, SIGTERM) puts them back at once; one we cannot (kill -9) is put
    # back by the next command, from the journal. ``left`` (None: refuse instead): the
    # checkouts to leave behind, detached at the old tip; one that cannot be brought
    # along (a file in the way) joins them. Returns them.
    journal = _journal(repo) if checkouts else None
    if journal is not None:
        import json

        journal.parent.mkdir(parents=True, exist_ok=True)
        journal.write_text(json.dumps({"branch": at.branch, "old": at.sha, "new": new,
                                       "checkouts": [str(wt) for wt in checkouts]}),
                           encoding="utf-8")
    done: list[Path] = []
    behind = [] if left is None else list(left)
    out: list[Left] = []
    old = at.sha if at.exists else ""
    try:
        for wt in checkouts:
            try:
                git.run(wt, "read-tree", "-m", "-u", at.sha, new)
            except git.GitError as e:
                if left is None:
                    raise UsageError(f"cannot bring the checkout at {wt} along: {e}; nothing "
                                     "was written", fix=f"move the files git names out of "
                                     f"{git.quoted(wt)} (an untracked file where the evidence "
                                     "goes), then run the command again") from None
                behind.append(wt)
                continue
            done.append(wt)
        for wt in behind:  # (its HEAD alone: its index and files stay as they are)
            try:
                git.run(wt, "update-ref", "--no-deref", "-m", "evidencebot: left behind with "
                        "uncommitted changes", "HEAD", at.sha)
            except git.GitError as e:  # (a stale HEAD.lock): the evidence lands all the same
                out.append(Left(wt, at.sha, str(e)))
                continue
            out.append(Left(wt, at.sha))
        try:
            git.run(repo, "update-ref", "-m", "evidencebot: ops commit",
                    f"refs/heads/{at.branch}", new, old)
        except git.GitError as e:
            raise _not_moved(repo, at.branch, old, e) from None
        landed.append((at.branch, new))
    except BaseException:
        if git.rev_parse(repo, f"refs/heads/{at.branch}") != new:  # (it may have moved)
            for back in done:
                git.run(back, "read-tree", "-m", "-u", new, at.sha)
            for gone in out:
                if gone.stuck is None:
                    git.run(gone.checkout, "symbolic-ref", "HEAD", f"refs/heads/{at.branch}")
        if journal is not None:  # (put back: a rollback that failed keeps it, for the next)
            journal.unlink(missing_ok=True)
        raise
    if journal is not None:
        journal.unlink(missing_ok=True)
    return out
