"""The names already in the folders a change adds files to: what a new path must not
equal ignoring case (the case-twin rule, for the hook, `verify` and `record`). Read with
one `cat-file` for the folders on the way, by id where the caller knows it; a folder of
another spelling but for case is read too (the same folder on Windows and macOS).
Import-light: the hook reads them at every commit that adds a file."""

# No `from __future__ import annotations`: see guard/rules.py.

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from pathlib import Path

from .. import git
from .paths import Names, fold
from .rules import Change

# A commit's parent's folders that the commit changed, by path with a trailing slash: the
# folder's tree id in the parent, or None where the parent has no folder there.
Folders = dict[str, str | None]


def existing_names(repo: Path, parent: str | None, changes: Sequence[Change], *,
                   inherit_env: bool = False, folders: Folders | None = None,
                   names: Callable[[str], bytes | None] | None = None) -> Names:
    """The paths ``parent`` holds in every folder on the way to a new file: what a new
    name must not equal ignoring case (nothing to read when nothing is new). ``folders``:
    the ones whose ids are known ("" the top), read by id, not by path; ``names``: the
    names (joined by NULs) of a tree by id, when they are known already (else None)."""
    dirs = new_dirs(ch.new.path for ch in changes if ch.old is None and ch.new is not None)
    if parent is None or not dirs:
        return Names()
    asks = folder_asks(parent, dirs, folders)
    known = [names(a) if names is not None and a is not None else None for a in asks]
    # one cat-file (the open reader, if any) for the others
    got = iter(git.cat_batch_typed(repo, [a for a, k in zip(asks, known, strict=True)
                                          if a is not None and k is None],
                                   inherit_env=inherit_env))
    typed = [next(got) if a is not None and k is None else None
             for a, k in zip(asks, known, strict=True)]
    idlen = git.id_bytes(parent)
    return with_twin_folders(repo, parent, dirs, names_in(["", *sorted(dirs)], typed, idlen,
                                                            known), idlen, inherit_env)


def with_twin_folders(repo: Path, rev: str, dirs: Iterable[str], found: Names, idlen: int,
                       inherit_env: bool) -> Names:
    """``found`` (the names in the folders on the way to new files, as the new paths spell
    them) with the names in every folder of ``rev`` spelled like one of them but for case:
    on a case-insensitive disk that is the same folder, so its files are what a new name
    must not equal either. Nothing more is read where no such folder is (nearly always)."""
    read = {""} | {d.rstrip("/") for d in dirs}
    wanted = {fold(d.rstrip("/")) for d in dirs}
    while True:
        twins = sorted({p for f in wanted for p in found.spelled(f) if p not in read})
        if not twins:
            return found
        read.update(twins)
        got = git.cat_batch_typed(repo, [f"{rev}:{p}" for p in twins], inherit_env=inherit_env)
        found += names_in([p + "/" for p in twins], got, idlen)


def folder_asks(rev: str, dirs: Iterable[str], known: Folders | None) -> list[str | None]:
    """`folder_specs`, with each folder whose id is ``known`` asked by that id (git reads
    one object, not every folder on its path) and None for one known to be absent."""
    dirs = sorted(dirs)
    specs: list[str | None] = list(folder_specs(rev, dirs))
    if not known or not specs:
        return specs
    return [known[d] if d in known else spec
            for d, spec in zip(["", *dirs], specs, strict=True)]


def folder_specs(rev: str, dirs: Iterable[str]) -> list[str]:
    """The `cat-file` specs of the top folder and ``dirs`` at ``rev`` (none without dirs):
    what `names_in` reads, in its order."""
    dirs = sorted(dirs)
    return [f"{rev}:{d.rstrip('/')}" for d in ["", *dirs]] if dirs else []


def new_dirs(paths: Iterable[str]) -> set[str]:
    """Every folder on the way to ``paths``, with a trailing slash."""
    dirs: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        dirs.update("/".join(parts[:k]) + "/" for k in range(1, len(parts) + 1))
    return dirs


def names_in(folders: Sequence[str], objects: Sequence[tuple[str, bytes] | None],
              idlen: int, known: Sequence[bytes | None] = ()) -> Names:
    """The paths in ``folders`` (their objects as read, or their names joined by NULs as
    ``known``; a file where a folder would be holds no names)."""
    out: list[str] = []
    for k, (d, got) in enumerate(zip(folders, objects, strict=False)):
        joined = known[k] if k < len(known) else None
        if joined is None and got is not None and got[0] == "tree":
            joined = b"\x00".join(map(itemgetter(1), git.tree_entries(got[1], idlen)))
        if joined:  # decoded and prefixed at once: no name in a tree holds a NUL
            out.append(d + joined.decode("utf-8", "surrogateescape").replace("\x00", "\x00" + d))
    return Names("\x00".join(out))
