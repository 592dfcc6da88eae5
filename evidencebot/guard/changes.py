"""The scope guard's git side: read a change as git stores it and hand it to `scope.judge`.

Used by the pre-commit hook (the index git hands the hook), by `verify` (a commit against
its parent) and by the ledger (every ops commit before the branch moves). Rules always come
from the config committed on the base branch. Import-light: it runs on every commit.
"""

# No `from __future__ import annotations`: see guard/rules.py (NamedTuple fields).

import os
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .. import git
from .folders import (
    Folders,
    existing_names,
    folder_asks,
    folder_specs,
    names_in,
    new_dirs,
    with_twin_folders,
)
from .rules import CLOSED_MET, Blob, Change, Rules, StreakOf, Violation, matcher
from .scope import judge

if TYPE_CHECKING:
    from ..evidence.store import Store

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
TREE = "040000"  # a folder's mode in a raw record
CONFIG_NAMES = ("evidencebot.toml", "pyproject.toml")


def base_refs(base: str) -> tuple[str, str]:
    """Where the base branch's committed rules are read, in order: the remote's branch
    (what was reviewed and merged) first, the local branch where there is no remote."""
    return (f"refs/remotes/origin/{base}", f"refs/heads/{base}")


def base_ref(repo: Path, base: str) -> str | None:
    for ref in base_refs(base):
        if git.rev_parse(repo, ref):
            return ref
    return None


def _rules_from(blobs: Sequence[bytes | None]) -> Rules:
    for name, data in zip(CONFIG_NAMES, blobs, strict=True):
        if data is None:
            continue
        import tomllib

        try:
            doc = tomllib.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
            continue  # a broken base config is reported by the commands that load it
        if name == "pyproject.toml":
            tool = doc.get("tool")
            if not isinstance(tool, dict) or not isinstance(tool.get("evidencebot"), dict):
                continue
            doc = tool["evidencebot"]
        try:
            return Rules.from_config(doc)
        except (AttributeError, TypeError, ValueError, OverflowError):
            return Rules()  # values of the wrong shape: the runbook's rules, as with none
    return Rules()


def base_rules(repo: Path, base: str, *, inherit_env: bool = False) -> Rules:
    """The base branch's rules with one `cat-file` process (see `base_refs`)."""
    refs = base_refs(base)
    specs = [s for ref in refs for s in (ref, *(f"{ref}:{n}" for n in CONFIG_NAMES))]
    found = git.cat_batch(repo, specs, inherit_env=inherit_env)
    for k in range(len(refs)):
        group = found[k * 3:(k + 1) * 3]
        if group[0] is not None:
            return _rules_from(group[1:])
    return Rules()


def rules_at(repo: Path, rev: str) -> Rules:
    """The rules the config committed at ``rev`` gives (the runbook's where there is none,
    or none that reads)."""
    return _rules_from(git.cat_batch(repo, [f"{rev}:{n}" for n in CONFIG_NAMES]))


Record = tuple[str, str, str, str, str]  # a `--raw` record: old, new mode; old, new sha; path
def _parse_raw(raw: bytes) -> list[Record]:
    """`--raw -z` records: (old mode, new mode, old sha, new sha, path)."""
    return _records_at(raw.split(b"\x00"), 0)[0]


def _records_at(parts: list[bytes], i: int) -> tuple[list[Record], int]:
    """The records from ``parts[i]`` on (":<meta>", <path> pairs; `git log` puts a newline
    before a commit's first) and the index after them. In step, never by searching: a
    path may hold any byte but NUL."""
    out = []
    while i + 1 < len(parts) and (part := parts[i].lstrip(b"\n")).startswith(b":"):
        meta = part[1:].decode().split()
        out.append((meta[0], meta[1], meta[2], meta[3],
                    parts[i + 1].decode("utf-8", "surrogateescape")))
        i += 2
    return out, i


def _changes(repo: Path, records: list[Record], docs: AbstractSet[str], *,
             known: dict[tuple[str, str], bytes | None] | None = None,
             inherit_env: bool = False) -> list[Change]:
    """Changes with the contents the rules read: the Markdown documents' old and new blobs.

    ``known`` holds contents already read, keyed by ("old"|"new", path)."""
    known = known or {}
    wanted = _blobs_read(records, docs, known)
    blobs = dict(zip(wanted, git.cat_batch(repo, wanted, inherit_env=inherit_env), strict=True))

    def data(side: str, sha: str, path: str) -> bytes | None:
        return known[(side, path)] if (side, path) in known else blobs.get(sha)

    return [Change(None if om == "000000" else Blob(path, om, data("old", os_, path)),
                   None if nm == "000000" else Blob(path, nm, data("new", ns, path)))
            for om, nm, os_, ns, path in records]


def _sides_read(records: list[Record], docs: AbstractSet[str]) -> list[tuple[str, str, str]]:
    """The blobs the rules read, as (side, path, id): the documents' and the pages' both
    sides."""
    return [(side, path, sha) for om, nm, os_, ns, path in records
            if path in docs or path.lower().endswith(".html")  # pages: no script
            for side, sha, m in (("old", os_, om), ("new", ns, nm))
            if m not in ("000000", "160000")]


def _blobs_read(records: list[Record], docs: AbstractSet[str],
                known: dict[tuple[str, str], bytes | None] | None = None) -> list[str]:
    """The ids of `_sides_read` not already ``known``."""
    return [sha for side, path, sha in _sides_read(records, docs)
            if (side, path) not in (known or {})]


def blob_sides(records: Sequence[Record], path: str) -> tuple[str | None, str | None] | None:
    """(the parent's blob id, the commit's) of ``path`` when the commit changed it (None on
    a side without a blob there: absent, or a submodule); None when it did not change it,
    so both sides hold the same (ask git by path)."""
    for om, nm, os_, ns, p in records:
        if p == path:
            return (os_ if om not in ("000000", "160000") else None,
                    ns if nm not in ("000000", "160000") else None)
    return None


def commit_reads(parent: str | None, records: list[Record], docs: AbstractSet[str],
                 folders: Folders | None = None) -> list[str]:
    """What judging a commit (`commit_changes` and `existing_names` with ``folders``) will
    read, given its raw records: for `git.Objects.prefetch`."""
    dirs = new_dirs(path for om, _nm, _o, _n, path in records if om == "000000")
    asks = folder_asks(parent, dirs, folders) if parent else []
    return [*_blobs_read(records, docs), *(a for a in asks if a is not None)]


def commit_changes(repo: Path, old: str | None, new: str, docs: AbstractSet[str],
                   records: list[Record] | None = None) -> list[Change]:
    """``new`` against ``old`` (``records``: its raw records, when known)."""
    return _changes(repo, raw_records(repo, old, new) if records is None else records, docs)


def raw_records(repo: Path, old: str | None, new: str) -> list[Record]:
    """The files ``new`` changed against ``old`` (the empty tree: a root commit)."""
    return _parse_raw(git.run(repo, "diff-tree", "-z", "-r", "--no-renames", "--no-abbrev",
                              old or EMPTY_TREE, new))


class Logged(NamedTuple):
    """One commit as `commit_log` reads it: ids, dates (seconds), its raw records against
    its first parent (files only; none for a merge), its tree, the parent's folders it
    changed (`Folders`, from the same diff's tree records) and the trees it made."""

    sha: str
    parents: tuple[str, ...]
    committed: int
    authored: int
    records: list[Record]
    tree: str
    folders: Folders
    # The folders it changed or added, with their ids in it; a list: in a tree git would
    # not write, `git log --raw` can name one path twice (`commits`).
    made: list[tuple[str, str]]

    @property
    def trees(self) -> list[tuple[str, str]]:
        """Every tree the commit made: its top ("") and `made`."""
        return [("", self.tree), *self.made]


def commit_log(repo: Path, *revs: str, only: Sequence[str] | None = None) -> list[Logged]:
    """Commits with their raw changes from one `git log`: the range ``revs`` oldest first
    (topological), or exactly the commits ``only``, in that order (none: none)."""
    # Submodule changes always show, whatever a .gitmodules says (`ignore = all`).
    # -t: the folders' own records too (their ids in the parent: `Folders`).
    args = ["log", "-z", "--format=%x01%H %T %P%x00%ct %at", "--raw", "-r", "-t", "--root",
            "--no-renames", "--no-abbrev", "--no-color", "--no-show-signature",
            "--ignore-submodules=none"]
    if only is not None:
        if not only:
            return []
        out = git.run(repo, *args, "--no-walk=unsorted", "--stdin",
                      input="".join(f"{sha}\n" for sha in only).encode())
    else:
        out = git.run(repo, *args, "--reverse", "--topo-order", *revs, "--")
    # Read in step, never by searching: a path may hold any byte but NUL ("\x01" too).
    parts = out.split(b"\x00")
    found = []
    i = 0
    while i + 1 < len(parts) and parts[i].startswith(b"\x01"):
        ids = parts[i][1:].decode().split()
        ct, at = parts[i + 1].decode().split()
        records, i = _records_at(parts, i + 2)
        # git records a folder turning into a file (or back) as a deletion and an addition,
        # so a record is a folder's or a file's on both sides
        files = [r for r in records if r[0] != TREE and r[1] != TREE]
        folders = {r[4] + "/": r[2] if r[0] == TREE else None
                   for r in records if r[0] == TREE or r[1] == TREE}
        made = [(r[4] + "/", r[3]) for r in records if r[1] == TREE]
        found.append(Logged(ids[0], tuple(ids[2:]), int(ct), int(at), files, ids[1],
                            folders, made))
    return found


def streak_in(repo: Path, rev: str, rules: Rules, *, inherit_env: bool = False) -> StreakOf:
    """The streak of the history up to ``rev`` (hand-written tracker rows included), read
    only when a CLOSED needs it: the same rule `close` and `verify` apply."""
    cache: dict[str, int] = {}

    def of(milestone: str) -> int:
        if milestone not in cache:
            from ..evidence import streak as streaks
            from ..evidence.history import read
            from ..evidence.rows import hand_rows

            if git.rev_parse(repo, rev) is None:
                return 0
            commits = read(repo, rev, cache=False)  # the gate reads git, never a shortcut
            backlog = git.show_bytes(repo, rev, rules.backlog)
            rows = hand_rows(backlog, rules.tracker_section,
                             streaks.written_rows(commits)) if backlog else []
            closed = streaks.closure(commits, milestone) is not None
            cache[milestone] = CLOSED_MET if closed else streaks.streak(commits, rows)
        return cache[milestone]

    return of


def current_branch(repo: Path) -> str | None:
    """The branch a commit here lands on: HEAD's, or, on a detached HEAD, the branch a
    rebase in progress rewrites (its edit steps commit there, then move the branch)."""
    name = git.run(repo, "symbolic-ref", "-q", "--short", "HEAD", ok=(0, 1),
                   inherit_env=True).decode().strip()
    if name:
        return name
    for path in git.run(repo, "rev-parse", "--git-path", "rebase-merge/head-name",
                        "--git-path", "rebase-apply/head-name",
                        inherit_env=True).decode().splitlines():
        try:
            ref = (Path(path) if Path(path).is_absolute() else repo / path).read_text(
                encoding="utf-8").strip()
        except OSError:
            continue
        if ref.startswith("refs/heads/"):
            return ref[len("refs/heads/"):]
    return None


def applies(branch: str | None, rules: Rules, env: dict[str, str] | os._Environ[str]) -> bool:
    if env.get("EVIDENCEBOT_SESSION", "").upper() == "OPS":
        return True
    # Branch names differ only in case on a case-insensitive disk: OPS/evidence is ops/*.
    return branch is not None and matcher(rules.branches, True)(branch.casefold())


def judge_staged(repo: Path, base: str) -> tuple[bool, list[Violation]]:
    """(applies, violations) for the commit being made in ``repo``.

    Three git processes: the branch; `diff-index` for what changed; one `cat-file --batch`
    for the base branch's config, the changed default documents (both sides) and the
    folders new files go to (their names, for the case-twin rule)."""
    branch = current_branch(repo)
    refs = base_refs(base)
    args = ("diff-index", "--cached", "-z", "--no-renames", "--no-abbrev",
            "--ignore-submodules=none")
    head: str | None = "HEAD"
    try:
        raw = git.run(repo, *args, "HEAD", inherit_env=True)
    except git.GitError:  # no commit yet: everything staged is new
        raw, head = git.run(repo, *args, EMPTY_TREE, inherit_env=True), None
    records = _parse_raw(raw)
    default_docs = Rules().documents
    blobs = _sides_read(records, default_docs)
    dirs = sorted(new_dirs(path for om, _nm, _o, _n, path in records if om == "000000"))
    specs = [s for ref in refs for s in (ref, *(f"{ref}:{n}" for n in CONFIG_NAMES))]
    specs += [sha for _side, _path, sha in blobs]
    specs += folder_specs("HEAD", dirs) if head else []
    typed = git.cat_batch_typed(repo, specs, inherit_env=True)
    found = [g[1] if g is not None else None for g in typed]
    rules = Rules()
    for k in range(len(refs)):
        if found[k * 3] is not None:
            rules = _rules_from(found[k * 3 + 1:k * 3 + 3])
            break
    if not applies(branch, rules, os.environ):
        return False, []
    if all(found[k * 3] is None for k in range(len(refs))):  # (verify refuses it too)
        return True, [Violation("", "base-missing", f"no base branch {base!r} here or at "
                                "origin: ops commits are judged by its committed rules",
                                f"fetch it (git fetch origin {base}), or give the hook the "
                                "base the config names: --base <branch>")]
    n = len(refs) * 3
    known = {(side, path): data for (side, path, _), data in zip(blobs, found[n:], strict=False)}
    changes = _changes(repo, records, rules.documents, known=known, inherit_env=True)
    idlen = git.id_bytes(records[0][2]) if records else 20
    existing = names_in(["", *dirs], typed[n + len(blobs):], idlen)
    if head:
        existing = with_twin_folders(repo, "HEAD", dirs, existing, idlen, inherit_env=True)
    return True, judge(changes, rules, streak_of=streak_in(repo, "HEAD", rules),
                       existing=existing)


def judge_commit_range(repo: Path, old: str | None, new: str, rules: Rules) -> list[Violation]:
    """A commit (``new``) against its parent (``old``), with history up to the parent."""
    changes = commit_changes(repo, old, new, rules.documents)
    return judge(changes, rules, streak_of=streak_in(repo, old or EMPTY_TREE, rules),
                 existing=existing_names(repo, old, changes))


def markdown_shortcut(git_dir: Path) -> "Store":
    """The Markdown blocks of the documents last judged, by content (`mdblocks.adopt`):
    the next judgement's old version is usually this one's new, and then only the change
    is parsed. Written by the hook and by evidencebot's own commits; never read by
    verify."""
    from .. import __version__
    from ..evidence.store import Store

    return Store(git_dir / "evidencebot" / "blocks-cache.bin", __version__)
