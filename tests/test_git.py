"""The one git module: many objects through one `cat-file --batch`, pipelined in rounds,
answer for answer the same as asking one at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git as run_git
from hypothesis import given, settings
from hypothesis import strategies as st

from evidencebot import git


def make(tmp_path: Path, files: dict[str, bytes]) -> Path:
    repo = tmp_path / "r"
    repo.mkdir()
    run_git(repo, "init", "-q", "-b", "main")
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-qm", "files")
    return repo


def test_pipelined_reads_match_one_at_a_time(tmp_path: Path) -> None:
    # 3,000 requests (far more than one round) with large blobs between them, so git's
    # answers overflow the pipe while requests are still going in.
    files = {f"d/f{i:04d}.txt": (f"{i}\n" * (i % 7 * 9000 + 1)).encode() for i in range(60)}
    files["name with spaces.txt"] = b"spaced\n"
    repo = make(tmp_path, files)
    specs = [f"HEAD:{n}" for n in files] * 50 + ["HEAD:missing.txt", "HEAD:a\nb", "nope"]
    with git.reading(repo) as reader:
        many = reader.get_many(specs)
        singles = [reader.get(s) for s in specs]
        via_batch = git.cat_batch(repo, specs)
    assert many == singles
    assert [m[1] if m else None for m in many] == via_batch
    assert many[-3:] == [None, None, None]
    assert many[0] == ("blob", files["d/f0000.txt"])
    assert many[len(files) - 1] == ("blob", b"spaced\n")


@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from(["HEAD:a", "HEAD:b", "HEAD:none", "HEAD", "HEAD^{tree}"]),
                max_size=40))
def test_any_mix_of_requests_answers_in_order(tmp_path_factory, specs: list[str]) -> None:  # type: ignore[no-untyped-def]
    repo = _shared(tmp_path_factory)
    with git.reading(repo) as reader:
        assert reader.get_many(specs) == [reader.get(s) for s in specs]


_REPO: list[Path] = []


def _shared(factory) -> Path:  # type: ignore[no-untyped-def]
    if not _REPO:
        _REPO.append(make(factory.mktemp("shared"), {"a": b"A\n", "b": b"B" * 70000}))
    return _REPO[0]


@settings(max_examples=25, deadline=None)
@given(now=st.lists(st.sampled_from(["HEAD:a", "HEAD:b", "HEAD:none", "HEAD", "HEAD:../x"]),
                    max_size=8),
       then=st.lists(st.sampled_from(["HEAD:a", "HEAD:b", "HEAD:none", "HEAD^{tree}"]),
                     max_size=8),
       asks=st.lists(st.sampled_from(["HEAD:a", "HEAD:b", "HEAD:none", "HEAD",
                                      "HEAD^{tree}"]), max_size=12))
def test_read_ahead_answers_as_git_does(tmp_path_factory, now: list[str], then: list[str],  # type: ignore[no-untyped-def]
                                        asks: list[str]) -> None:
    """Whatever was read ahead (now, or in the background for the next window), every read
    answers what git answers, however often it is asked."""
    repo = _shared(tmp_path_factory)
    truth = dict(zip(["HEAD:a", "HEAD:b", "HEAD:none", "HEAD", "HEAD^{tree}", "HEAD:../x"],
                     git.cat_batch_typed(repo, ["HEAD:a", "HEAD:b", "HEAD:none", "HEAD",
                                                "HEAD^{tree}", "HEAD:../x"]), strict=True))
    with git.reading(repo) as reader:
        reader.prefetch(now, then=then)
        assert [reader.get(s) for s in asks[:6]] == [truth[s] for s in asks[:6]]
        reader.prefetch(then)  # the background read, if it was of exactly these
        assert reader.get_many(asks) == [truth[s] for s in asks]


def test_a_read_ahead_is_answered_from_memory_once(tmp_path: Path) -> None:
    repo = make(tmp_path, {"a": b"first\n"})
    with git.reading(repo) as reader:
        reader.prefetch(["HEAD:a"], then=["HEAD:a", "HEAD"])
        later = reader._later
        assert later is not None
        later.proc.wait()  # the read ahead is done: before the commits
        run_git(repo, "commit", "-qm", "x", "--allow-empty")
        (repo / "a").write_bytes(b"second\n")
        run_git(repo, "commit", "-qam", "second")
        # HEAD has moved: the answer read ahead is the old one, handed out once...
        assert reader.get("HEAD:a") == ("blob", b"first\n")
        # ...then git is asked again
        assert reader.get("HEAD:a") == ("blob", b"second\n")
        reader.prefetch(["HEAD:a", "HEAD"])  # answered by that read ahead
        assert reader.get_many(["HEAD:a", "HEAD:a"]) == [("blob", b"first\n"),
                                                        ("blob", b"second\n")]
        assert later.out.closed and reader._later is None
        reader.prefetch(["HEAD"], then=["HEAD:a"])
        unread = reader._later
        assert unread is not None
    assert unread.proc.returncode is not None and unread.out.closed  # ended with the reader


def test_commit_log_reads_any_path_and_every_shape_of_commit(tmp_path: Path) -> None:
    from evidencebot.guard.changes import EMPTY_TREE, _parse_raw, commit_log

    odd = "a\x01b\nc :d.md"  # the log's own separators, inside a name
    repo = make(tmp_path, {odd: b"1\n", "plain.txt": b"p\n"})
    root = run_git(repo, "rev-parse", "HEAD").strip()
    run_git(repo, "checkout", "-qb", "side")
    (repo / "side.txt").write_bytes(b"s\n")
    run_git(repo, "add", "side.txt")
    run_git(repo, "commit", "-qm", "side")
    run_git(repo, "checkout", "-q", "main")
    (repo / odd).write_bytes(b"2\n")
    run_git(repo, "commit", "-qam", "edit", "--date", "2001-02-03T04:05:06Z")
    run_git(repo, "merge", "-q", "--no-edit", "side")
    run_git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    logged = commit_log(repo, "HEAD")
    listed = run_git(repo, "rev-list", "--reverse", "--topo-order", "--parents",
                     "HEAD").splitlines()
    assert [(c.sha, *c.parents) for c in logged] == [tuple(ln.split()) for ln in listed]
    for c in logged:
        want = run_git_bytes(repo, "diff-tree", "-z", "-r", "--no-renames", "--no-abbrev",
                             c.parents[0] if c.parents else EMPTY_TREE, c.sha)
        assert c.records == (_parse_raw(want) if len(c.parents) <= 1 else []), c.sha
        dates = run_git(repo, "show", "-s", "--format=%ct %at", c.sha).split()
        assert (c.committed, c.authored) == (int(dates[0]), int(dates[1]))
        assert c.tree == run_git(repo, "rev-parse", f"{c.sha}^{{tree}}").strip()
    assert logged[0].sha == root and odd in [r[4] for r in logged[0].records]
    assert any(c.authored == 981173106 for c in logged)  # 2001-02-03T04:05:06Z
    picked = [logged[3].sha, logged[0].sha]
    assert [c.sha for c in commit_log(repo, only=picked)] == picked


def run_git_bytes(repo: Path, *args: str) -> bytes:
    import subprocess

    return subprocess.run(["git", "-C", str(repo), *args], check=True,
                          capture_output=True).stdout


def test_a_spec_read_ahead_twice_is_answered_twice(tmp_path: Path) -> None:
    """A blob one commit adds is the old side of the next: named twice in a window, it is
    read once and answered twice from memory (then git is asked again)."""
    repo = make(tmp_path, {"a": b"first\n"})
    with git.reading(repo) as reader:
        reader.prefetch(["HEAD:a", "HEAD", "HEAD:a"])
        (repo / "a").write_bytes(b"second\n")
        run_git(repo, "commit", "-qam", "second")
        assert reader.get_many(["HEAD:a", "HEAD:a", "HEAD:a"]) == [
            ("blob", b"first\n"), ("blob", b"first\n"), ("blob", b"second\n")]


def test_commit_log_shows_a_submodule_change_whatever_gitmodules_says(tmp_path: Path) -> None:
    """`ignore = all` in .gitmodules hides gitlinks from `git log --raw`; verify must see
    an ops commit that adds one all the same."""
    from evidencebot.guard.changes import commit_log

    repo = make(tmp_path, {".gitmodules": b'[submodule "sub"]\n\tpath = sub\n\turl = ./x\n'
                                          b"\tignore = all\n"})
    head = run_git(repo, "rev-parse", "HEAD").strip()
    run_git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},sub")
    run_git(repo, "commit", "-qm", "a gitlink")
    (last,) = commit_log(repo, "HEAD~1..HEAD")
    assert [r[:2] + r[4:] for r in last.records] == [("000000", "160000", "sub")]


def test_a_reader_whose_git_stopped_raises_and_never_says_missing(tmp_path: Path) -> None:
    import pytest

    repo = make(tmp_path, {"a": b"A\n"})
    with git.reading(repo) as reader:
        assert reader.get("HEAD:a") == ("blob", b"A\n")
        reader.proc.kill()
        reader.proc.wait()
        with pytest.raises(git.GitError, match="ended before answering"):
            reader.get("HEAD:a")
        with pytest.raises(git.GitError):
            git.rev_parse(repo, "HEAD")
    # ...and closing it afterwards raises nothing


def test_a_path_leaving_the_repository_is_never_asked_even_after_braces(tmp_path: Path) -> None:
    """git finds a spec's path after the first colon outside "@{...}": so must we, or git
    is sent "HEAD@{1:2}:../x" and stops."""
    repo = make(tmp_path, {"a": b"A\n"})
    odd = ["HEAD@{1:2}:../x", "HEAD@{0}:../a", "HEAD@{0}:a"]
    assert git.cat_batch_typed(repo, odd) == [None, None, ("blob", b"A\n")]
    with git.reading(repo) as reader:
        assert reader.get_many(odd) == [None, None, ("blob", b"A\n")]
        reader.prefetch(["HEAD:a"], then=odd)
        reader.prefetch(odd)  # answered by the read ahead, which git finished
        assert reader.get_many(odd) == [None, None, ("blob", b"A\n")]
        assert git.show_bytes(repo, "HEAD@{1:2}", "../x") is None
        assert reader.get("HEAD:a") == ("blob", b"A\n")


entry = st.tuples(st.binary(min_size=1, max_size=7).filter(lambda b: b" " not in b),
                  st.binary(max_size=12).filter(lambda b: b"\x00" not in b))


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(entry, max_size=12), idlen=st.sampled_from([20, 32]),
       cut=st.integers(min_value=0, max_value=40), data=st.data())
def test_a_tree_reads_the_same_by_pattern_and_entry_by_entry(
        entries: list[tuple[bytes, bytes]], idlen: int, cut: int, data: st.DataObject) -> None:
    """The one-pattern split of a well-formed tree gives what the careful walk gives; a
    tree cut short is read entry by entry, as before."""
    ids = [data.draw(st.binary(min_size=idlen, max_size=idlen)) for _ in entries]
    tree = b"".join(m + b" " + n + b"\x00" + i for (m, n), i in zip(entries, ids, strict=True))
    expected = [(m, n, i) for (m, n), i in zip(entries, ids, strict=True)]
    assert git.tree_entries(tree, idlen) == expected
    short = tree[:max(0, len(tree) - cut)]
    try:
        careful: list[tuple[bytes, bytes, bytes]] | type[ValueError] = \
            list(git._entries_one_by_one(short, idlen))
    except ValueError:
        careful = ValueError
    try:
        got: list[tuple[bytes, bytes, bytes]] | type[ValueError] = \
            git.tree_entries(short, idlen)
    except ValueError:
        got = ValueError
    assert got == careful


@settings(max_examples=200, deadline=None)
@given(names=st.lists(st.binary(min_size=1, max_size=8).filter(lambda b: b"\x00" not in b
                                                                and b" " not in b),
                      max_size=10, unique=True),
       folder=st.sampled_from(["", "reports/", "Reports/evidence/"]))
def test_names_in_a_folder_decode_as_each_name_alone(names: list[bytes], folder: str) -> None:
    from evidencebot.guard.folders import names_in

    tree = b"".join(b"100644 " + n + b"\x00" + bytes(20) for n in names)
    got = names_in([folder], [("tree", tree)], 20)
    assert sorted(got) == sorted(folder + n.decode("utf-8", "surrogateescape") for n in names)


def test_a_question_asked_ahead_gives_git_s_answer_once(tmp_path: Path) -> None:
    """Within `ahead`, a run with the same arguments takes the answer of the process
    started before (once: the next run asks git again); its exit codes are checked as a
    run's are; what is not taken is waited for when the block ends."""
    from evidencebot.git import process

    repo = tmp_path / "r"
    run_git(tmp_path, "init", "-q", str(repo))
    run_git(repo, "config", "user.name", "Someone")
    plain = git.run(repo, *git.IDENTITY, ok=(0, 1))
    with git.ahead(repo, git.IDENTITY, git.WORKTREES, ("rev-parse", "--verify", "nothing")):
        assert len(process._ahead) == 3
        assert git.run(repo, *git.IDENTITY, ok=(0, 1)) == plain
        assert (str(repo), git.IDENTITY) not in process._ahead  # taken
        try:
            git.run(repo, "rev-parse", "--verify", "nothing")
        except git.GitError as e:
            assert e.returncode == 128
        else:
            raise AssertionError("an unknown revision must fail as it does without ahead")
    assert process._ahead == {}  # the worktree list, never asked, was waited for
    assert b"user.name\nSomeone" in plain


def test_an_answer_asked_ahead_never_outlives_its_block(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A start that fails half-way leaves nothing behind, and the next block asks git
    again: the config changed in between is what it reads."""
    from evidencebot.git import process

    repo = tmp_path / "r"
    run_git(tmp_path, "init", "-q", str(repo))
    run_git(repo, "config", "user.name", "Old")
    real = process.subprocess.Popen
    started: list[object] = []

    def second_fails(*a, **k):  # type: ignore[no-untyped-def]
        if started:
            raise OSError("no more processes")
        started.append(real(*a, **k))
        return started[-1]

    monkeypatch.setattr(process.subprocess, "Popen", second_fails)
    try:
        with git.ahead(repo, git.IDENTITY, git.WORKTREES):
            raise AssertionError("the block must not run")
    except OSError:
        pass
    monkeypatch.setattr(process.subprocess, "Popen", real)
    assert process._ahead == {} and started[0].returncode is not None  # type: ignore[attr-defined]
    run_git(repo, "config", "user.name", "New")
    with git.ahead(repo, git.IDENTITY):
        assert b"user.name\nNew" in git.run(repo, *git.IDENTITY, ok=(0, 1))


def test_background_gives_git_s_answer_or_raises_its_error(tmp_path: Path) -> None:
    """`git.Background` runs a read on a thread of its own; `result` hands back what the
    call returned, or raises what it raised (a GitError here), in the caller's thread."""
    import pytest

    repo = tmp_path / "r"
    run_git(tmp_path, "init", "-q", str(repo))
    run_git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    head = git.Background(git.out, repo, "rev-parse", "HEAD")
    missing = git.Background(git.out, repo, "rev-parse", "--verify", "no-such-branch")
    assert head.result() == git.rev_parse(repo, "HEAD")
    with pytest.raises(git.GitError, match="no-such-branch"):
        missing.result()
    missing.done()  # waiting again after the error is harmless


def test_the_log_gives_the_parent_s_folders_a_commit_changed(tmp_path: Path) -> None:
    """`Logged.folders`: each folder the commit changed, with its id in the parent (None
    where the parent has none, or a file there), so `existing_names` reads folders by id
    and finds the same names as by path."""
    from evidencebot.guard.changes import commit_changes, commit_log, existing_names
    from evidencebot.guard.rules import Rules

    repo = make(tmp_path, {"a/b/old.txt": b"1\n", "top.txt": b"t\n", "was-file": b"f\n",
                           "a/gone/x.txt": b"g\n"})
    (repo / "a" / "b" / "New.txt").write_bytes(b"n\n")  # into a folder the parent has
    (repo / "fresh" / "deep").mkdir(parents=True)  # into folders the parent lacks
    (repo / "fresh" / "deep" / "f.txt").write_bytes(b"f\n")
    (repo / "was-file").unlink()  # a file becomes a folder
    (repo / "was-file").mkdir()
    (repo / "was-file" / "in.txt").write_bytes(b"i\n")
    run_git(repo, "rm", "-rq", "a/gone")  # a folder goes
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-qm", "shapes")
    first, second = commit_log(repo, "HEAD")
    parent = first.sha

    def tree_at(path: str) -> str | None:
        got = run_git(repo, "ls-tree", "-d", parent, "--", path.rstrip("/")).split()
        return got[2] if got and got[1] == "tree" else None

    assert set(second.folders) == {"a/", "a/b/", "a/gone/", "fresh/", "fresh/deep/",
                                   "was-file/"}
    assert second.folders == {d: tree_at(d) for d in second.folders}
    assert second.folders["a/b/"] is not None and second.folders["was-file/"] is None
    changes = commit_changes(repo, parent, second.sha, Rules().documents, second.records)
    by_path = existing_names(repo, parent, changes)
    with git.reading(repo):
        by_id = existing_names(repo, parent, changes,
                               folders={**second.folders, "": first.tree})
    assert sorted(by_id) == sorted(by_path)
    assert {"a/b/old.txt", "top.txt", "was-file"} <= set(by_id)
    assert not any(r[0] == "040000" or r[1] == "040000" for r in second.records)


def _raw_tree(entries: list[tuple[bytes, bytes]], oid: bytes) -> bytes:
    return b"".join(mode + b" " + name + b"\x00" + oid for mode, name in entries)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([b"100644", b"40000", b"100755", b"120000"]),
                          st.binary(min_size=1, max_size=4).filter(
                              lambda n: b"/" not in n and b"\x00" not in n and b" " not in n
                              and n not in (b".", b"..") and n.lower() != b".git")),
                max_size=8, unique_by=lambda e: e[1]),
       st.randoms(use_true_random=False))
def test_a_tree_in_git_s_order_is_well_formed_and_any_other_order_is_not(
        entries: list[tuple[bytes, bytes]], rnd) -> None:  # type: ignore[no-untyped-def]
    oid = bytes(20)

    def key(e: tuple[bytes, bytes]) -> bytes:
        return e[1] + (b"/" if e[0] == b"40000" else b"")

    ordered = sorted(entries, key=key)
    assert git.tree_problem(_raw_tree(ordered, oid), 20) is None
    shuffled = entries[:]
    rnd.shuffle(shuffled)
    problem = git.tree_problem(_raw_tree(shuffled, oid), 20)
    assert (problem is None) == (shuffled == ordered)
    if entries:
        twice = git.tree_problem(_raw_tree([*ordered, ordered[-1]], oid), 20)
        assert twice is not None and "twice" in twice


def test_the_tree_order_is_the_one_git_writes_and_fsck_checks(tmp_path: Path) -> None:
    """Names that sort differently as folders ("a" as a folder sorts after "a-" and
    before "a0"): `git mktree`'s trees are well formed, and a tree fsck calls unsorted or
    duplicated is not."""
    repo = make(tmp_path, {"f": b"x\n"})
    blob = run_git(repo, "rev-parse", "HEAD:f").strip()
    sub = run_git(repo, "rev-parse", "HEAD^{tree}").strip()
    rows = [f"100644 blob {blob}\ta-", f"040000 tree {sub}\ta", f"100644 blob {blob}\ta0",
            f"100644 blob {blob}\tb.json", f"100644 blob {blob}\tb.log"]
    import subprocess

    tree = subprocess.run(["git", "-C", str(repo), "mktree"], input="\n".join(rows) + "\n",
                          capture_output=True, text=True, check=True).stdout.strip()
    raw = run_git_bytes(repo, "cat-file", "tree", tree)
    assert git.tree_problem(raw, 20) is None
    entries = git.tree_entries(raw, 20)
    assert [e[1] for e in entries] == [b"a-", b"a", b"a0", b"b.json", b"b.log"]
    for bad, fsck in ((entries[:3] + entries[4:2:-1], "treeNotSorted"),
                      (entries + entries[-1:], "duplicateEntries")):
        data = b"".join(m + b" " + n + b"\x00" + i for m, n, i in bad)
        made = subprocess.run(["git", "-C", str(repo), "hash-object", "-t", "tree",
                               "--literally", "-w", "--stdin"], input=data,
                              capture_output=True, check=True).stdout.decode().strip()
        checked = subprocess.run(["git", "-C", str(repo), "fsck", "--no-dangling"],
                                 capture_output=True, text=True)
        assert f"error in tree {made}" in checked.stderr and fsck in checked.stderr
        assert git.tree_problem(data, 20) is not None
    assert git.tree_problem(raw[:-3], 20) == "is not a well-formed tree object"


@pytest.mark.parametrize(("mode", "name", "said"), [
    (b"040000", b"folder", "mode 040000"), (b"100664", b"a.json", "mode 100664"),
    (b"40755", b"folder", "mode 40755"), (b"100644", b"reports/evidence/x.json", "named"),
    (b"100644", b"", "named"), (b"40000", b"..", "named"), (b"40000", b".GIT", "named")])
def test_names_and_modes_git_does_not_write_are_problems(mode: bytes, name: bytes,
                                                        said: str) -> None:
    assert said in (git.tree_problem(_raw_tree([(mode, name)], bytes(20)), 20) or "")


def test_a_name_twice_at_the_end_of_a_large_tree_is_named() -> None:
    entries = [(b"100644", b"f%06d" % i) for i in range(50_000)]
    said = git.tree_problem(_raw_tree([*entries, entries[-1]], bytes(20)), 20)
    assert said == "names 'f049999' twice"


_ENTRY_PART = st.sampled_from([b"100644", b"40000", b" ", b"\x00", b"a", b"a b", b"/", b".",
                               bytes(20), b"\x00" * 3, b" " * 3])


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(st.one_of(
    _ENTRY_PART, st.binary(max_size=24),
    st.builds(lambda mode, name, oid: mode + b" " + name + b"\x00" + oid,
              st.sampled_from([b"100644", b"40000", b"100664"]), st.binary(max_size=4),
              st.sampled_from([bytes(20), b" \x00" * 10, bytes(32), b"\x00 " * 16]))),
    max_size=12), idlen=st.sampled_from([20, 32]))
def test_a_tree_is_well_formed_exactly_when_its_entries_are_the_whole_of_it(
        parts: list[bytes], idlen: int) -> None:
    """`tree_problem` calls a tree "not well-formed" exactly when the entry pattern does not
    read it whole (it checks by the lengths of the entries it found: junk anywhere, a
    short id, a missing NUL), for any bytes."""
    tree = b"".join(parts)
    whole, _entry = git._tree_patterns(idlen)
    said = git.tree_problem(tree, idlen)
    assert (said == "is not a well-formed tree object") == (whole.fullmatch(tree) is None)


# Entries in git's order (a folder sorts as if its name ended in "/"), with names and modes
# git does not write among them, and a file and a folder of one name.
_WALK = sorted([(b"100644", b"a-"), (b"40000", b"a"), (b"100644", b"a"), (b"100644", b"a0"),
                (b"100664", b"b"), (b"100644", b".git"), (b"100644", b"b.json"),
                (b"100644", b"b.log"), (b"40000", b"c"), (b"100644", b"d\x20e"),
                (b"120000", b"f"), (b"100644", b"g.json"), (b"100644", b"g.log"),
                (b"40000", b"h"), (b"100644", b"i.json"), (b"100644", b"i.log"),
                (b"100644", b"j.json"), (b"100644", b"j.log"), (b"40000", b"k")],
               key=lambda e: git.tree_key(*e))


@settings(max_examples=500, deadline=None)
@given(steps=st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 3), max_size=4),
                                st.booleans(),
                                st.sampled_from([b"", b"", b"", b"", b"junk", b"1 x\x00"]),
                                st.sampled_from([bytes(20), b" a\x00" + bytes(17)])),
                      min_size=1, max_size=12))
def test_a_tree_walk_judges_each_tree_as_the_whole_check_does(
        steps: list[tuple[bool, list[int], bool, bytes, bytes]]) -> None:
    """`TreeWalk` checks a tree that is a known well-formed one with entries added for the
    added entries alone: whatever the trees (grown from the last one, or not; entries in
    git's order or not, named twice, a file and a folder of one name, names and modes git
    does not write, junk), its verdict is `tree_problem`'s, and the names it keeps for a
    well-formed tree are the tree's own."""
    from evidencebot.guard.commits import TreeWalk

    walk = TreeWalk()
    tree, was, at = b"", None, -1
    for n, (grow, gaps, backwards, junk, oid) in enumerate(steps):
        at = at if grow else -1
        picked = []
        for gap in gaps:  # (a gap of 0: the entry before again)
            at = min(at + gap, len(_WALK) - 1)
            picked.append(_WALK[max(at, 0)])
        entries = b"".join(mode + b" " + name + b"\x00" + oid
                           for mode, name in (picked[::-1] if backwards else picked))
        tree = (tree if grow else b"") + entries + junk
        tree_id = f"{n:040x}"
        said = walk.problem(tree_id, tree, was, 20)
        assert said == git.tree_problem(tree, 20)
        names = walk.names(tree_id)
        if said is None:
            assert names == b"\x00".join(e[1] for e in git.tree_entries(tree, 20))
        else:
            assert names is None
        was = tree_id


def test_a_failed_push_names_its_cause_not_git_s_advice(tmp_path: Path) -> None:
    """Found by a newcomer: git's last line for a push to a remote that is not there is
    advice ("and the repository exists."); the error names the cause."""
    from evidencebot.errors import UsageError
    from evidencebot.ledger.push import push_branch

    repo = tmp_path / "r"
    repo.mkdir()
    run_git(repo, "init", "-q", "-b", "main")
    run_git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    with pytest.raises(UsageError) as e:
        push_branch(repo, remote=str(tmp_path / "nowhere"), branch="main")
    assert "does not appear to be a git repository" in str(e.value), str(e.value)
