"""A commit's git objects themselves, before any rule reads its changes: the trees it
made are trees git would write, a merge is git's own merge. For `verify`, which judges
commits made by any means (the hook only sees what git is about to write)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import git
from ..errors import git_cause
from .changes import Logged
from .folders import Folders


def is_plain_merge(repo: Path, tree: str, parents: Sequence[str]) -> bool:
    """Whether a merge whose tree is ``tree`` is exactly git's own merge of its parents
    (merging the ops branch into the base, say): a merge that hides no change of its own."""
    # 1: conflicts (the tree git writes then holds the conflict markers); 128: unrelated
    # histories (git will not merge them): either way there is no plain merge this tree
    # could be.
    if len(parents) != 2:
        return False
    try:
        merged = git.run(repo, "merge-tree", "--write-tree", *parents)
    except git.GitError:
        return False
    return tree == merged.decode().split("\n", 1)[0].strip()


def malformed_trees(repo: Path, commit: Logged, walk: TreeWalk,
                    before: Folders) -> list[tuple[str, str]]:
    """(folder, problem) for each tree ``commit`` made that git would not write
    (`git.tree_problem`). The changes the rules judge are git's diff, and in a tree
    out of order, or naming an entry twice, that diff can show what a checkout or a
    lookup by path does not (a record, a folder's names). ``walk``: the trees found
    well-formed so far, with ``before`` the parent's ids of the folders ``commit`` made
    (`TreeWalk`)."""
    made = commit.trees
    got = git.cat_batch_typed(repo, [tree for _path, tree in made])
    idlen = git.id_bytes(commit.sha)
    found = []
    for (path, tree), obj in zip(made, got, strict=True):
        if obj is None or obj[0] != "tree":
            found.append((path, "is missing"))
            continue
        problem = walk.problem(tree, obj[1], before.get(path), idlen)
        if problem is not None:
            found.append((path, problem))
    return found


class TreeWalk:
    """The trees found well-formed in a walk over commits, oldest first (the last few, by
    id), with their names. A tree that is one of them with entries added after its last
    is checked for those entries alone: that is how a run commit changes the evidence
    folder (its record and log are named by the run's time, which sorts last), so the
    check costs what the commit adds, not what the folder holds. Anything else is checked
    whole. The next commit reads the names of the folders this one made (`names`)."""

    _KEEP = 16

    def __init__(self) -> None:
        # id -> (the tree, its last key in git's order, its names joined by NULs)
        self._good: dict[str, tuple[bytes, bytes | None, bytes]] = {}

    def problem(self, tree_id: str, tree: bytes, was: str | None, idlen: int) -> str | None:
        """`git.tree_problem` of ``tree`` (id ``tree_id``), which replaced the tree
        ``was`` (its id, if any) at its path."""
        known = self._good.get(was) if was else None
        if known is not None and len(tree) > len(known[0]) and tree.startswith(known[0]):
            added = _added(tree, known, idlen)
            if added:
                names = b"\0".join(name for _mode, name in added)
                self._keep(tree_id, tree, git.tree_key(*added[-1]),
                           known[2] + b"\0" + names if known[2] else names)
                return None
        problem, found = git.tree_verdict(tree, idlen)
        if problem is None:
            self._keep(tree_id, tree, git.tree_key(*found[-1]) if found else None,
                       b"\0".join(name for _mode, name in found))
        return problem

    def names(self, tree_id: str) -> bytes | None:
        """The names in the tree ``tree_id`` joined by NULs, if it is one found
        well-formed (else None: read it)."""
        known = self._good.get(tree_id)
        return known[2] if known is not None else None

    def _keep(self, tree_id: str, tree: bytes, last: bytes | None, names: bytes) -> None:
        self._good.pop(tree_id, None)  # (kept again: the newest)
        self._good[tree_id] = (tree, last, names)
        if len(self._good) > self._KEEP:
            del self._good[next(iter(self._good))]  # (the oldest)


def _added(tree: bytes, known: tuple[bytes, bytes | None, bytes],
           idlen: int) -> list[tuple[bytes, bytes]]:
    """The (mode, name) of the entries ``tree`` adds when it is well-formed as the
    well-formed tree ``known`` (its bytes and last key first) followed by entries of its
    own; none when that is not shown. The tree's entries are then the known one's and the
    added ones: the added ones are well-formed among themselves, come after the known last
    one in git's order, and repeat none of its names (a file "a" and a folder "a" have
    different keys)."""
    old, last, _names = known
    problem, added = git.tree_verdict(tree[len(old):], idlen)
    if problem is not None or not added:
        return []
    if last is not None and git.tree_key(*added[0]) <= last:
        return []
    # a name is in the known tree if " name\0" is (anything else found: checked whole)
    if any(b" " + name + b"\0" in old for _mode, name in added):
        return []
    return added


def unreadable(repo: Path, shas: Sequence[str]) -> list[tuple[str, str]]:
    """(commit, git's complaint) for each of ``shas`` whose change git cannot read: a tree
    so malformed that git's own parser stops (an empty name, a truncated entry, an id of
    the wrong length), where `malformed_trees` never gets a tree to look at. One process
    per commit: only asked after git failed to log the range."""
    found = []
    for sha in shas:
        try:
            git.run(repo, "diff-tree", "-r", "-t", "--root", "--no-renames", "--raw", sha)
        except git.GitError as e:
            # (git's hints, such as the one a graft file set aside brings, are no complaint)
            found.append((sha, git_cause(e.stderr) if e.stderr.strip()
                          else f"git exited {e.returncode}"))
    return found
