"""Every git call goes through this package (the hook path uses it: light on imports).
`process` runs git, `objects` reads objects through `cat-file --batch`; the rest is here:
revisions, the repository's folders, trees, writing blobs, worktrees, the identity."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from .objects import (
    Answers,
    Objects,
    active_reader,
    blob,
    cat_batch,
    cat_batch_typed,
    reading,
    show_bytes,
)
from .process import (
    Background,
    GitError,
    ahead,
    clean_env,
    out,
    run,
    shielded,
    stream,
    succeeds,
)

__all__ = [
    "IDENTITY", "WORKTREES", "Answers", "Background", "GitError", "Objects", "active_reader",
    "ahead", "blob", "branch_worktrees", "cat_batch",
    "cat_batch_typed", "clean_env", "committing", "common_dir", "hash_blob", "hash_blobs",
    "id_bytes", "out", "reading", "rev_parse", "run", "shielded", "show_bytes", "state_path",
    "stream", "succeeds", "top", "toplevel", "tree_entries", "tree_key", "tree_problem",
    "tree_verdict",
]


def rev_parse(repo: Path, rev: str) -> str | None:
    """The full sha of ``rev``, or None when it does not exist. A reflog or upstream name
    (``@{...}``) or a search (``:/...``) is asked of git rev-parse: one that does not
    resolve ends `cat-file --batch` (fatal), not with a "missing"."""
    reader = active_reader(repo)
    if reader is not None and rev and "\n" not in rev and "@{" not in rev and ":" not in rev:
        return reader.info(f"{rev}^{{commit}}")
    proc = run(repo, "rev-parse", "-q", "--verify", f"{rev}^{{commit}}", ok=(0, 1, 128))
    sha = proc.decode().strip()
    return sha or None


def short_ref(ref: str | None) -> str:
    """A ref as git shows it to a person ("origin/main" for refs/remotes/origin/main)."""
    return (ref or "").removeprefix("refs/heads/").removeprefix("refs/remotes/")


def quoted(arg: object) -> str:
    """``arg`` as a shell of this system takes it in a command said for pasting (a path
    with spaces: found by a newcomer, `git -C /tmp/r02 ops wt stash` failed pasted)."""
    if os.name == "nt":
        import subprocess

        return subprocess.list2cmdline([str(arg)])
    import shlex

    return shlex.quote(str(arg))


def toplevel(path: Path) -> Path:
    return Path(_where(os.path.abspath(path))[0])


def common_dir(repo: Path) -> Path:
    return Path(_where(os.path.abspath(repo))[1])


def state_path(repo: Path, name: str) -> Path:
    """evidencebot's file ``name`` for ``repo`` (shortcuts, the wrapper's pid, the checkout
    journal, the run log): under the git common dir, shared by every worktree and shown by
    no checkout."""
    return common_dir(repo) / "evidencebot" / name


def own_git_dir(repo: Path) -> Path:
    """The checkout's own git folder (a linked worktree's, else the common one)."""
    return Path(_where(os.path.abspath(repo))[2])


@lru_cache(maxsize=64)
def _where(path: str) -> tuple[str, str, str]:
    """(top level, common dir, own git dir) of the repository at ``path``: one process,
    asked once."""
    top, common, own = out(Path(path), "rev-parse", "--show-toplevel", "--git-common-dir",
                           "--absolute-git-dir").split("\n")[:3]
    d = Path(common)
    return top, str(d if d.is_absolute() else (Path(path) / d).resolve()), own


def tree_entries(tree: bytes, idlen: int) -> list[tuple[bytes, bytes, bytes]]:
    """(mode, name, raw object id) of each entry of a raw tree object
    (``<mode> <name>\\0<id>``; ``idlen``: 20 bytes for SHA-1, 32 for SHA-256).

    A well-formed tree is split by one regular expression (an evidence folder holds a
    record per run, and verify reads it at every run); any other is read entry by entry,
    as far as it goes."""
    whole, entry = _tree_patterns(idlen)
    if whole.fullmatch(tree):
        return entry.findall(tree)
    return list(_entries_one_by_one(tree, idlen))


# The modes git writes in a tree: a file, an executable, a symlink, a submodule, a folder.
_TREE_MODES = frozenset((b"100644", b"100755", b"120000", b"160000", b"40000"))


def tree_problem(tree: bytes, idlen: int) -> str | None:
    """What makes a raw tree object one git would not write (None: nothing), as `git
    fsck` finds it: an entry out of git's order or named twice, a name that is empty, holds
    a "/" or is ".", ".." or ".git", a mode git does not write (040000, 100664...). git
    finds a path in a tree by a sorted search and diffs two trees by walking both in
    order, so in such a tree a diff can show a file that a lookup by path or a checkout
    does not, and `git log --raw` can name one path twice."""
    return tree_verdict(tree, idlen)[0]


def tree_key(mode: bytes, name: bytes) -> bytes:
    """An entry's key in git's order: its name, a folder's as if it ended in "/"."""
    return name + b"/" if mode == b"40000" else name


def tree_verdict(tree: bytes, idlen: int) -> tuple[str | None, list[tuple[bytes, bytes]]]:
    """(`tree_problem`, the (mode, name) of each entry found)."""
    # Each rule over the whole list at once, in C where it can be (an evidence folder holds
    # a record per run, and verify reads it at every run); entry by entry only to say what
    # is wrong.
    found: list[tuple[bytes, bytes]] = _tree_named(idlen).findall(tree)
    return _tree_problem(tree, idlen, found), found


def _tree_problem(tree: bytes, idlen: int, found: list[tuple[bytes, bytes]]) -> str | None:
    modes, names = zip(*found, strict=True) if found else ((), ())
    # the entries found are the whole tree (findall skips what is not an entry)
    if sum(map(len, modes)) + sum(map(len, names)) + len(names) * (2 + idlen) != len(tree):
        return "is not a well-formed tree object"
    if not names:
        return None
    joined = b"\0" + b"\0".join(names).lower() + b"\0"
    if not _TREE_MODES.issuperset(modes) or \
            any(bad in joined for bad in (b"/", b"\0\0", b"\0.\0", b"\0..\0", b"\0.git\0")):
        for mode, name in found:
            shown = name.decode("utf-8", "replace")
            if mode not in _TREE_MODES:
                return f"holds {shown!r} with mode {mode.decode('ascii', 'replace')}, " \
                       "which git does not write"
            if not name or b"/" in name or name in (b".", b"..") or name.lower() == b".git":
                return f"holds an entry named {shown!r}, which git does not write"
    if len(set(names)) != len(names):
        seen: set[bytes] = set()
        for name in names:
            if name in seen:
                return f"names {name.decode('utf-8', 'replace')!r} twice"
            seen.add(name)
    # git's order: by name, a folder's name as if it ended in "/" (a pass in Python only
    # when the tree holds a folder)
    keys = [tree_key(mode, name) for mode, name in found] if b"40000" in modes \
        else list(names)
    if keys != sorted(keys):
        first, then = next((a, b) for a, b in zip(keys, keys[1:], strict=False) if a >= b)
        folder = " (a folder, shown with its '/', sorts as if its name ended in one)" \
            if first.endswith(b"/") or then.endswith(b"/") else ""
        return (f"lists {then.decode('utf-8', 'replace')!r} after "
                f"{first.decode('utf-8', 'replace')!r}, out of git's order{folder}")
    return None


@lru_cache(maxsize=2)
def _tree_named(idlen: int) -> re.Pattern[bytes]:
    """(mode, name) of each entry (`_tree_patterns`' entry, without the id)."""
    return re.compile(rb"([^ ]*) ([^\x00]*)\x00.{%d}" % idlen, re.S)


@lru_cache(maxsize=2)
def _tree_patterns(idlen: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    # Each part stops at the first byte it cannot take (a space, a NUL), so matching never
    # backtracks within an entry: linear in the tree's size whatever its bytes.
    one = rb"[^ ]* [^\x00]*\x00.{%d}" % idlen
    return (re.compile(rb"(?:%s)*" % one, re.S),
            re.compile(rb"([^ ]*) ([^\x00]*)\x00(.{%d})" % idlen, re.S))


def _entries_one_by_one(tree: bytes, idlen: int) -> Iterator[tuple[bytes, bytes, bytes]]:
    pos = 0
    while pos < len(tree):
        space = tree.index(b" ", pos)
        nul = tree.index(b"\x00", space)
        yield tree[pos:space], tree[space + 1:nul], tree[nul + 1:nul + 1 + idlen]
        pos = nul + 1 + idlen


def id_bytes(object_id: str) -> int:
    """How long ``object_id`` (hex) is as raw bytes: 20 (SHA-1) or 32 (SHA-256)."""
    return 32 if len(object_id) == 64 else 20


def top(path: Path) -> Path:
    """The top level of the repository holding ``path``; UsageError outside one."""
    from ..errors import UsageError

    try:
        return toplevel(path)
    except GitError:
        bare = (path / "HEAD").is_file() and (path / "objects").is_dir()
        what = "is a bare repository (no checkout to work in)" if bare \
            else "is not inside a git repository" if path.is_dir() \
            else "is not a directory" if path.exists() else "does not exist"
        shown = path if path.is_absolute() else f"{path} ({path.absolute()})"
        raise UsageError(f"{shown} {what}", fix="run evidencebot inside the trading "
                         "repository's checkout, or name it with --repo PATH") from None


def hash_blob(repo: Path, data: bytes) -> str:
    return run(repo, "hash-object", "-w", "--stdin", input=data).decode().strip()


def hash_blobs(repo: Path, blobs: Sequence[bytes]) -> list[str]:
    """Write many blobs with one `hash-object` (their bytes as given, no filters)."""
    if len(blobs) <= 1:
        return [hash_blob(repo, b) for b in blobs]
    import tempfile

    with tempfile.TemporaryDirectory(prefix="evidencebot-blobs-", dir=common_dir(repo)) as d:
        names = []
        for i, data in enumerate(blobs):
            name = Path(d) / str(i)
            name.write_bytes(data)
            names.append(str(name))
        got = run(repo, "hash-object", "-w", "--no-filters", "--stdin-paths",
                  input=("\n".join(names) + "\n").encode("utf-8", "surrogateescape"))
    return got.decode().split()


WORKTREES = ("worktree", "list", "--porcelain")
IDENTITY = ("config", "-z", "--get-regexp", r"^(user\.name|user\.email|commit\.gpgsign)$")


def branch_worktrees(repo: Path, branch: str) -> list[Path]:
    """Every worktree (the main one included) that has ``refs/heads/<branch>`` checked out
    and is there: one whose folder was removed holds nothing to bring along or keep (git
    lists it as prunable until `git worktree prune`)."""
    text = out(repo, *WORKTREES)
    found: list[Path] = []
    current: Path | None = None
    for line in text.splitlines():
        if line.startswith("worktree "):
            current = Path(line[len("worktree "):])
        elif line == f"branch refs/heads/{branch}" and current is not None:
            found.append(current)
    return [wt for wt in found if wt.is_dir()]


def committing(repo: Path) -> tuple[bool, bool]:
    """(whether git knows who the operator is, whether it signs commits): one process."""
    raw = run(repo, *IDENTITY, ok=(0, 1)).decode()
    found: dict[str, str] = {}
    for item in filter(None, raw.split("\x00")):
        key, _, value = item.partition("\n")
        found[key.lower()] = value
    who = all(found.get(key) or os.environ.get(env) for key, env in (
        ("user.name", "GIT_COMMITTER_NAME"), ("user.email", "GIT_COMMITTER_EMAIL")))
    sign = found.get("commit.gpgsign", "").lower() in ("true", "yes", "on", "1")
    return bool(who), sign


_REF_FORBIDDEN = frozenset(" ~^:?*[\\\x7f")


def branch_form(v: str) -> str:
    """A branch name git takes (`git check-ref-format --branch`'s rules), so that a typo
    is said here, not as a branch that "moved while evidencebot was writing", and a base
    named on a command line is a branch, not a revision ("main~3" would read older
    rules). ValueError saying why otherwise; the config, `verify --base` and the hook's
    `--base` check with it."""
    bad = next((ch for ch in v if ch in _REF_FORBIDDEN or ch < " "), None)
    parts = v.split("/")
    why = ("is empty" if not v else
           f"holds {bad!r}" if bad is not None else
           "holds '..'" if ".." in v else
           "holds '@{'" if "@{" in v else
           "is '@'" if v == "@" else
           "is 'HEAD'" if v == "HEAD" else
           "starts with '-'" if v.startswith("-") else
           "ends with '.'" if v.endswith(".") else
           "has an empty part ('//', or '/' at either end)" if "" in parts else
           "has a part starting with '.'" if any(p.startswith(".") for p in parts) else
           "has a part ending with '.lock'" if any(p.endswith(".lock") for p in parts) else
           "")
    if why:
        raise ValueError(f"{v!r} is not a branch name git accepts: it {why}")
    return v
