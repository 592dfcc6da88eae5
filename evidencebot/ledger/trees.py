"""A commit's tree with some files written, built from the folders on their way only.

A temporary index costs what the repository holds (read-tree, update-index and write-tree
each go through every file: 100,000 files is a 10 MB index, three times). Here only the
trees of the folders that hold a changed file are read (one `cat-file --batch`) and
written (one `git mktree --batch`, deepest first, so each tree's children exist when it
is checked), so the cost follows the change. The new tree ids are computed as git does
(SHA-1 or SHA-256, as the blob ids say) and must equal what mktree printed.

`Unusual` is raised for what this does not handle — a file where a folder goes, or the
other way round, or an answer that differs from git's — and the caller then uses the
index, which handles everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .. import git
from ..hashes import digest

TREE = b"40000"
Entries = dict[bytes, tuple[bytes, bytes]]  # name -> (mode, raw object id)


class Unusual(Exception):
    """A change this editor leaves to the index."""


def edit(repo: Path, parent: str, changes: Mapping[str, bytes]) -> str:
    """The id of ``parent``'s tree with ``changes`` (path -> bytes, mode 100644) written."""
    paths = sorted(changes)
    if not paths:
        raise Unusual("nothing to write")
    for path in paths:
        check_path(path)
    ids = git.hash_blobs(repo, [changes[p] for p in paths])
    algo = {40: "sha1", 64: "sha256"}.get(len(ids[0]))
    if algo is None:
        raise Unusual(f"object ids of {len(ids[0])} hex digits")
    folders = sorted({_up(p, k) for p in paths for k in range(1, p.count("/") + 2)},
                     key=lambda d: (d.count("/") + bool(d), d))  # the root first
    if set(paths) & set(folders):
        raise Unusual("a path is both a file and a folder of this change")
    raw = git.cat_batch(repo, [f"{parent}:{d}" if d else f"{parent}^{{tree}}" for d in folders])
    trees: dict[str, Entries] = {}
    for folder, data in zip(folders, raw, strict=True):
        if folder:  # what the folder above says it is (the root first: that one is read)
            up, name = _split(folder)
            held = trees[up].get(name)
            if (held is not None and held[0] != TREE) or (held is None) != (data is None):
                raise Unusual(f"{folder} is not a folder in {parent}")
        trees[folder] = {name: (_canonical(mode), oid) for mode, name, oid
                         in git.tree_entries(data, git.id_bytes(ids[0]))} if data else {}
    for path, oid in zip(paths, ids, strict=True):
        up, name = _split(path)
        if trees[up].get(name, (b"",))[0] == TREE:
            raise Unusual(f"{path} is a folder in {parent}")
        trees[up][name] = (b"100644", bytes.fromhex(oid))
    batch: list[bytes] = []
    root = b""
    for folder in reversed(folders):  # deepest first: a tree's children exist before it
        entries = trees[folder]
        body = b"".join(mode + b" " + name + b"\x00" + oid
                        for name, (mode, oid) in sorted(entries.items(), key=_order))
        root = digest(algo, b"tree %d\x00" % len(body) + body)
        if folder:
            up, name = _split(folder)
            trees[up][name] = (TREE, root)
        batch += [b"%s %s %s\t%s\x00" % (mode, _kind(mode), oid.hex().encode(), name)
                  for name, (mode, oid) in entries.items()]
        batch.append(b"\x00")  # the empty line that ends a tree
    made = git.run(repo, "mktree", "--batch", "-z", input=b"".join(batch)).split()
    if len(made) != len(folders) or made[-1].decode() != root.hex():
        raise Unusual("mktree built another tree than the one computed")
    return root.hex()


def check_path(path: str) -> None:
    """A path git can commit: no empty, ".", ".." or ".git" part, no control character.
    UsageError otherwise (the temporary index would drop it without a word)."""
    from ..errors import UsageError

    parts = path.split("/")
    if any(p in ("", ".", "..") or p.casefold() == ".git" for p in parts) or \
            any(ord(ch) < 32 for ch in path):
        raise UsageError(f"cannot commit {path!r}: not a path inside the repository "
                         "(check the [docs] paths in the config)")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"cannot commit {path!r}: not UTF-8") from None


def _up(path: str, k: int) -> str:
    """The folder ``k`` levels above ``path`` ("" for the root)."""
    return path.rsplit("/", k)[0] if path.count("/") >= k else ""


def _split(path: str) -> tuple[str, bytes]:
    up, _, name = path.rpartition("/")
    return up, name.encode("utf-8", "surrogateescape")


def _canonical(mode: bytes) -> bytes:
    """The mode an index gives an entry, as git's canon_mode does: a file 100644 or
    100755 (an old tree's 100664 is 100644), a link 120000, a folder 40000, else a
    gitlink."""
    if mode in (TREE, b"120000", b"160000", b"100644", b"100755"):
        return mode
    value = int(mode, 8)
    kind = value & 0o170000
    if kind == 0o100000:
        return b"100755" if value & 0o100 else b"100644"
    return {0o120000: b"120000", 0o040000: TREE}.get(kind, b"160000")


def _order(item: tuple[bytes, tuple[bytes, bytes]]) -> bytes:
    """git's tree order: names as bytes, a folder's as if it ended in "/"."""
    name, (mode, _) = item
    return name + b"/" if mode == TREE else name


def _kind(mode: bytes) -> bytes:
    return b"tree" if mode == TREE else b"commit" if mode == b"160000" else b"blob"
