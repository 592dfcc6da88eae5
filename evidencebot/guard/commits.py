"""A commit's git objects themselves, before any rule reads its changes: the trees it
made are trees git would write, a merge is git's own merge. For `verify`, which judges
commits made by any means (the hook only sees what git is about to write)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import git
from .changes import Logged


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


def malformed_trees(repo: Path, commit: Logged) -> list[tuple[str, str]]:
    """(folder, problem) for each tree ``commit`` made that git would not write
    (`git.tree_problem`). The changes the rules judge are git's diff, and in a tree
    out of order, or naming an entry twice, that diff can show what a checkout or a
    lookup by path does not (a record, a folder's names)."""
    made = commit.trees
    got = git.cat_batch_typed(repo, [tree for _path, tree in made])
    idlen = git.id_bytes(commit.sha)
    found = []
    for (path, _tree), obj in zip(made, got, strict=True):
        problem = "is missing" if obj is None or obj[0] != "tree" else \
            git.tree_problem(obj[1], idlen)
        if problem is not None:
            found.append((path, problem))
    return found


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
            said = e.stderr.decode("utf-8", "replace").strip().splitlines()
            found.append((sha, said[0] if said else f"git exited {e.returncode}"))
    return found
