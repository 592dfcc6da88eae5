"""The one git module: many objects through one `cat-file --batch`, pipelined in rounds,
answer for answer the same as asking one at a time."""

from __future__ import annotations

from pathlib import Path

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
