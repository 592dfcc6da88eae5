"""Which commits `verify` judges: the range given (``A..B``, each side read as git reads
it, and refused where git could read it as more than one ref), or the merge base with the
base branch up to HEAD."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .. import git
from ..errors import UsageError
from .workspace import Context


def resolve_range(ctx: Context, *, spec: str | None,
                  end: str | None = None) -> tuple[str | None, str, str]:
    """(start, end, mode): "range" judges every commit in start..end; "history" judges the
    ops commits reachable from the end (on the base branch itself, after a merge)."""
    repo = ctx.repo
    if spec:
        fix = f"give two existing commits as A..B, e.g. --range {ctx.rules.ops.base}..HEAD"
        if "..." in spec:  # git's symmetric difference (no ref name holds "..")
            raise UsageError(f"--range {spec!r}: A...B (three dots) is not a range of "
                             "commits", fix=fix)
        start, sep, stop = spec.partition("..")
        _unambiguous(repo, spec, [n for n in (start, stop) if n])
        a, b = git.rev_parse(repo, start) if start else None, git.rev_parse(repo, stop or "HEAD")
        missing = " and no commit ".join(repr(s) for s, sha in ((start, a), (stop, b))
                                         if sep and s and sha is None)
        if not sep or a is None or b is None:
            raise UsageError(f"--range {spec!r}: " + (f"no commit {missing}" if missing else
                             "not of the form A..B"), fix=fix)
        return a, b, "range"
    head = git.rev_parse(repo, end or "HEAD")
    if head is None:
        raise UsageError("HEAD has no commits to verify")
    if ctx.base_ref is None:
        return None, head, "history"
    mb = git.out(repo, "merge-base", head, ctx.base_ref, ok=(0, 1)).strip()
    if mb == head:  # on the base branch (or behind it): look at the whole history
        return None, head, "history"
    return mb or None, head, "range"


def _unambiguous(repo: Path, spec: str, names: Sequence[str]) -> None:
    """A side of the range whose name git could read as more than one ref is refused: git
    reads the first of its rules that exists ($GIT_DIR/<name>, refs/<name>, a tag, a
    branch, a remote's branch), so a tag or a ``refs/ops/evidence`` left on a clean commit
    would have verify judge it, not the branch the merge request holds."""
    stems = [s for s in (re.split(r"[~^@:]", n, maxsplit=1)[0] for n in names) if s]
    if not stems:
        return
    rules = ("refs/{}", "refs/tags/{}", "refs/heads/{}", "refs/remotes/{}",
             "refs/remotes/{}/HEAD")

    def candidates(stem: str) -> list[str]:  # (a full name is read as itself first)
        return [stem] * stem.startswith("refs/") + [r.format(stem) for r in rules]

    refs = set(git.out(repo, "for-each-ref", "--format=%(refname)",
                       *(c for s in stems for c in candidates(s))).split())
    folders = (git.own_git_dir(repo), git.common_dir(repo))  # (the same but in a worktree)
    for stem in stems:
        found = [c for c in candidates(stem) if c in refs]
        if not stem.startswith("refs/"):  # (a file in the git directory: git reads it
            # first; from a linked worktree, its own folder's or the shared one's)
            found[:0] = [_shown(f / stem, repo) for f in folders
                         if _names_a_commit(f / stem)][:1]
        if found and re.fullmatch(r"[0-9a-fA-F]{4,64}", stem) and git.out(
                repo, "rev-parse", f"--disambiguate={stem.lower()}").strip():
            found.append(f"the commit id {stem}…")  # (git reads the ref, not the id)
        if len(found) > 1:
            raise UsageError(f"--range {spec!r}: {stem!r} names {len(found)} refs: "
                             f"{', '.join(found)} (git reads the first)",
                             fix="name the one meant in full: a ref as refs/..., a commit "
                             "by its whole id")


def _shown(path: Path, top: Path) -> str:
    """``path`` from the checkout's top where it lies under it, else whole."""
    try:
        return path.relative_to(top).as_posix()
    except ValueError:
        return str(path)


def _names_a_commit(path: Path) -> bool:
    """Whether ``path`` (under the git directory) is a file git would read as a ref (a
    symbolic link is one, whatever it points at: git reads its target's name)."""
    if path.is_symlink():
        return True
    try:
        with path.open("rb") as f:
            head = f.read(80)
    except OSError:
        return False
    return re.match(rb"ref:|[0-9a-fA-F]{40}", head) is not None  # (as git 2.39 reads it)
