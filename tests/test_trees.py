"""`trees.edit` writes the same tree as a temporary index would, reading only the folders
on the way to the changed files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidencebot.ledger import commit, trees

NAMES = ["a", "b", "A", "a.md", "a-b", "a0", "z", "reports", "évidence", "sp ace"]


def git(repo: Path, *args: str, data: bytes | None = None) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True,
                          check=True).stdout.decode()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A repository whose one commit has files, nested folders, an executable and a
    symlink: what a change may land next to."""
    root = tmp_path_factory.mktemp("trees") / "r"
    git(root.parent, "init", "-q", str(root))
    for path in ["a/b/x.txt", "a/y.txt", "a.md", "reports/evidence/step1a/r1.json", "z/a-b/q",
                 "a-b", "évidence/x"]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(path)
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "link").symlink_to("a.md")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    return root, git(root, "rev-parse", "HEAD").strip()


paths = st.lists(st.integers(min_value=1, max_value=4).flatmap(
    lambda n: st.lists(st.sampled_from(NAMES), min_size=n, max_size=n)).map("/".join),
    min_size=1, max_size=6, unique=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=paths, data=st.binary(max_size=20))
def test_edit_equals_the_index(repo: tuple[Path, str], chosen: list[str], data: bytes) -> None:
    root, parent = repo
    changes = {p: data + p.encode() for p in chosen}
    listed = git(root, "ls-tree", "-r", "-t", "--name-only", "-z", parent).split("\x00")
    files = set(git(root, "ls-tree", "-r", "--name-only", "-z", parent).split("\x00"))
    folders = set(listed) - files
    above = {p.rsplit("/", k)[0] for p in chosen for k in range(1, p.count("/") + 1)}
    clash = bool(above & (files | set(chosen))) or bool(set(chosen) & folders)
    if clash:  # a file where a folder goes (or back): the index's job
        with pytest.raises(trees.Unusual):
            trees.edit(root, parent, changes)
        return
    ours = trees.edit(root, parent, changes)
    assert ours == commit._write_tree_by_index(root, parent, changes)
    assert git(root, "cat-file", "-t", ours).strip() == "tree"


def test_a_file_where_a_folder_is_goes_to_the_index(repo: tuple[Path, str]) -> None:
    root, parent = repo
    for changes in ({"a/b": b"now a file"}, {"a.md/inside": b"under a file"},
                    {"new": b"a file", "new/inside": b"and a folder"}):
        with pytest.raises(trees.Unusual):
            trees.edit(root, parent, changes)
        tree = commit._write_tree(root, parent, changes)  # and the commit still gets made
        assert tree == commit._write_tree_by_index(root, parent, changes)


def test_only_the_folders_on_the_way_are_read(repo: tuple[Path, str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root, parent = repo
    asked: list[str] = []
    real = trees.git.cat_batch
    monkeypatch.setattr(trees.git, "cat_batch",
                        lambda r, specs, **kw: asked.extend(specs) or real(r, specs, **kw))
    trees.edit(root, parent, {"reports/evidence/step1a/r2.json": b"{}", "a.md": b"x"})
    assert sorted(asked) == sorted([f"{parent}^{{tree}}", f"{parent}:reports",
                                    f"{parent}:reports/evidence",
                                    f"{parent}:reports/evidence/step1a"])


def test_an_old_trees_odd_file_mode_becomes_what_the_index_makes_it(tmp_path: Path) -> None:
    root = tmp_path / "r"
    git(tmp_path, "init", "-q", str(root))
    blob = git(root, "hash-object", "-w", "--stdin", data=b"x\n").strip()
    tree = git(root, "mktree", data=f"100664 blob {blob}\tf\n".encode()).strip()
    parent = git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit-tree", tree, "-m",
                 "old").strip()
    assert trees.edit(root, parent, {"g": b"y"}) == \
        commit._write_tree_by_index(root, parent, {"g": b"y"})


@pytest.mark.parametrize("path", [".git/x", "a/.GIT", "a/../b", "trail/", "a//b", "./a",
                                  "new\nline", "\udcff"])
def test_a_path_git_cannot_commit_is_a_usage_error(repo: tuple[Path, str], path: str) -> None:
    from evidencebot.errors import UsageError

    root, parent = repo
    with pytest.raises(UsageError, match="cannot commit"):
        commit._write_tree(root, parent, {path: b"x"})


def test_a_padded_link_mode_stays_a_link(tmp_path: Path) -> None:
    """git's canon_mode: a zero-padded 120000 is a link, as the index keeps it."""
    root = tmp_path / "r"
    git(tmp_path, "init", "-q", str(root))
    blob = git(root, "hash-object", "-w", "--stdin", data=b"a.md").strip()
    tree = git(root, "mktree", data=f"120000 blob {blob}\tlink\n".encode()).strip()
    parent = git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit-tree", tree,
                 "-m", "m").strip()
    assert trees._canonical(b"0120000") == b"120000"
    assert trees._canonical(b"040000") == trees.TREE and trees._canonical(b"0160000") == b"160000"
    assert trees.edit(root, parent, {"new.txt": b"x"}) == \
        commit._write_tree_by_index(root, parent, {"new.txt": b"x"})


def test_a_message_that_breaks_the_trailer_contract_is_never_committed(tmp_path: Path) -> None:
    """Found by an adversary: a report's client id of -5 became a trailer verify refuses,
    committed (the branch could then only be rebuilt). `build` holds every ops commit's
    message to the contract the commit-msg hook and verify hold it to, before any object
    is written."""
    from datetime import UTC, datetime

    from evidencebot.errors import UsageError

    root = tmp_path / "r"
    git(tmp_path, "init", "-q", str(root))
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty",
        "-m", "base")
    parent = git(root, "rev-parse", "HEAD").strip()
    before = git(root, "count-objects", "-v")
    draft = commit.Draft({"reports/x.json": b"{}"}, "evidence: x\n\nEvidence-Kind: "
                         "step1a-burnin\nIbkr-Client-Id: -5\n")
    with pytest.raises(UsageError, match="would break the trailer contract") as e:
        commit.build(root, parent=parent, draft=draft, author=commit.Identity("t", "t@t"),
                     when=datetime.now(UTC), judge=lambda _p, _n: None)
    assert "nothing was written" in str(e.value)
    assert git(root, "count-objects", "-v") == before
