"""Commits on the ops branch without touching the operator's checkout.

Plumbing only: a temporary index under the git common dir, `hash-object`, `write-tree`,
`commit-tree -F`, then `update-ref` with the old value, so the branch points either at
the old commit or at the complete new one. A worktree that has the ops branch checked
out is brought along (as `git commit` would) when it is clean, and refused when dirty.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import git
from .errors import UsageError

LOCK_NAME = "evidencebot.lock"


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Identity:
        name, _, rest = text.partition("<")
        return cls(name.strip(), rest.rstrip(">").strip())


@dataclass(frozen=True)
class Tip:
    """Where the next ops commit goes: the branch's commit, or the base when it is new."""

    branch: str
    sha: str
    exists: bool


def tip(repo: Path, *, branch: str, base: str) -> Tip:
    sha = git.rev_parse(repo, f"refs/heads/{branch}")
    if sha:
        return Tip(branch, sha, True)
    for ref in (f"refs/heads/{base}", f"refs/remotes/origin/{base}", base):
        base_sha = git.rev_parse(repo, ref)
        if base_sha:
            return Tip(branch, base_sha, False)
    raise UsageError(
        f"the ops branch {branch!r} does not exist and neither does its base {base!r}; "
        f"commit something on {base!r} first or set [ops] base"
    )


@contextmanager
def lock(repo: Path, *, timeout: float = 30.0) -> Iterator[None]:
    """One runner at a time per repository; the lock file lives outside the work tree."""
    from filelock import FileLock, Timeout

    path = git.common_dir(repo) / LOCK_NAME
    fl = FileLock(str(path), timeout=timeout)
    try:
        fl.acquire()
    except Timeout:
        raise UsageError(
            f"another evidencebot is working on this repository (lock {path}); "
            "wait for it to finish"
        ) from None
    try:
        yield
    finally:
        fl.release()


def _checkout_dirty(worktree: Path) -> bool:
    # Tracked changes only: untracked files (the wrapper's report, say) are no reason to
    # refuse; `read-tree -m -u` below still refuses to overwrite one.
    return bool(git.run(worktree, "status", "--porcelain", "--untracked-files=no").strip())


Judge = Callable[[str, str], None]  # (old commit, new commit) -> raises on a violation


def commit(
    repo: Path,
    *,
    at: Tip,
    changes: Mapping[str, bytes],
    message: str,
    author: Identity,
    when: datetime,
    judge: Judge | None = None,
) -> str:
    """Make one commit on ``at.branch`` holding ``changes`` on top of ``at.sha``.

    ``judge`` sees the old and new commit before the branch moves (the scope rules).
    Raises UsageError when a checkout of the branch is dirty or the branch moved meanwhile.
    """
    checkouts = git.branch_worktrees(repo, at.branch)
    for wt in checkouts:
        if _checkout_dirty(wt):
            raise UsageError(
                f"{at.branch} is checked out at {wt} with uncommitted changes; commit or "
                "stash them there first (evidencebot will not overwrite them)"
            )
    tree = _write_tree(repo, at.sha, changes)
    new = _commit_tree(repo, tree=tree, parent=at.sha, message=message, author=author,
                       when=when)
    if judge is not None:
        judge(at.sha, new)
    _move_branch(repo, at, new, checkouts)
    return new


def _write_tree(repo: Path, parent: str, changes: Mapping[str, bytes]) -> str:
    fd, index = tempfile.mkstemp(prefix="evidencebot-index-", dir=git.common_dir(repo))
    os.close(fd)
    os.unlink(index)  # git wants to create it itself
    env = {"GIT_INDEX_FILE": index}
    try:
        git.run(repo, "read-tree", parent, env=env)
        entries = []
        for path, data in sorted(changes.items()):
            entries.append(f"100644 {git.hash_blob(repo, data)}\t{path}")
        git.run(repo, "update-index", "--add", "--index-info",
                input=("\n".join(entries) + "\n").encode("utf-8"), env=env)
        return git.out(repo, "write-tree", env=env)
    finally:
        Path(index).unlink(missing_ok=True)


def _commit_tree(
    repo: Path, *, tree: str, parent: str, message: str, author: Identity, when: datetime
) -> str:
    stamp = f"{int(when.timestamp())} +0000"
    env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
           "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    if not git.identity_configured(repo):
        # A machine with no git identity still records evidence, as the bot.
        env |= {"GIT_COMMITTER_NAME": author.name, "GIT_COMMITTER_EMAIL": author.email}
    return git.out(repo, "commit-tree", tree, "-p", parent, "-F", "-",
                   input=message.encode("utf-8"), env=env)


def _move_branch(repo: Path, at: Tip, new: str, checkouts: list[Path]) -> None:
    # Checkouts first: were we to stop between the two steps, a checkout would show the
    # new evidence as an uncommitted change, never the committed evidence as reverted.
    done: list[Path] = []
    for wt in checkouts:
        try:
            git.run(wt, "read-tree", "-m", "-u", at.sha, new)
        except git.GitError as e:
            for back in done:
                git.run(back, "read-tree", "-m", "-u", new, at.sha)
            raise UsageError(f"cannot bring the checkout at {wt} along: {e}") from None
        done.append(wt)
    old = at.sha if at.exists else ""
    try:
        git.run(repo, "update-ref", "-m", "evidencebot: ops commit",
                f"refs/heads/{at.branch}", new, old)
    except git.GitError:
        for wt in checkouts:
            git.run(wt, "read-tree", "-m", "-u", new, at.sha)
        raise UsageError(
            f"{at.branch} moved while evidencebot was writing; nothing was committed, run "
            "the command again"
        ) from None


def code_state(repo: Path, code_paths: list[str]) -> tuple[str, bool, list[str]]:
    """The operator's HEAD and whether the code under test has changes or untracked files."""
    head = git.rev_parse(repo, "HEAD") or "none"
    specs = [p.rstrip("/") or "." for p in code_paths]
    raw = git.run(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--",
                  *specs)
    paths = [item[3:] for item in raw.decode("utf-8", "replace").split("\x00") if len(item) > 3]
    return head, bool(paths), paths


def move(repo: Path, *, branch: str, old: str, new: str) -> None:
    """Point ``branch`` from ``old`` at ``new`` (both existing), bringing clean checkouts
    along; used to rebuild ops commits on a remote's newer tip."""
    checkouts = git.branch_worktrees(repo, branch)
    for wt in checkouts:
        if _checkout_dirty(wt):
            raise UsageError(f"{branch} is checked out at {wt} with uncommitted changes; "
                             "commit or stash them there first")
    _move_branch(repo, Tip(branch, old, True), new, checkouts)
