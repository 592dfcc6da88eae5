"""The hook's Markdown shortcut (`.git/evidencebot/blocks-cache.bin`): the blocks of the
documents it judged, by content, so the next commit parses only its change. It never
changes a verdict the documents give, and a tampered one is caught by `verify`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import git, record_run, shortcut_write

from evidencebot import __version__
from evidencebot.guard.install import install_hooks
from evidencebot.md import blocks as mdblocks

BACKLOG = "IMPLEMENTATION_BACKLOG.md"


@pytest.fixture
def hooked(trading_repo: Path, cli) -> Path:  # type: ignore[no-untyped-def]
    install_hooks(trading_repo, base="main", force=True)
    record_run(cli, trading_repo, 8)  # an ops commit through the hook: the shortcut is written
    git(trading_repo, "switch", "-q", "ops/evidence")
    return trading_repo


def shortcut(repo: Path) -> Path:
    return repo / ".git" / "evidencebot" / "blocks-cache.bin"


def rename_a_heading(repo: Path) -> tuple[bytes, bytes]:
    old = (repo / BACKLOG).read_bytes()
    new = old.replace(b"## Later", b"## Much later", 1)
    assert new != old
    (repo / BACKLOG).write_bytes(new)
    git(repo, "add", BACKLOG)
    return old, new


def commit(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", "-q", "-m", "hand edit"], cwd=repo,
                          capture_output=True, text=True)


@pytest.mark.parametrize("state", ["warm", "missing", "garbage"])
def test_the_hook_judges_the_same_with_or_without_its_shortcut(hooked: Path, state: str) -> None:
    assert shortcut(hooked).is_file()
    if state == "missing":
        shortcut(hooked).unlink()
    elif state == "garbage":
        shortcut(hooked).write_bytes(b"\x00garbage")
    rename_a_heading(hooked)
    done = commit(hooked)
    assert done.returncode == 1 and "section-heading-changed" in done.stderr


def test_a_tampered_shortcut_is_not_what_verify_reads(hooked: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """The shortcut says the renamed heading's version has the old headings: the hook
    still refuses the line (it is outside every allowed section), and after --no-verify
    verify, which parses for itself, names the heading change."""
    old, new = rename_a_heading(hooked)
    was = mdblocks.blocks(mdblocks.parse(old))
    lie = {mdblocks._digest(mdblocks.parse(new)): tuple(tuple(b) for b in was)}  # "unchanged"
    shortcut_write(shortcut(hooked), __version__, lie)
    refused = commit(hooked)
    assert refused.returncode == 1 and "section-heading-changed" not in refused.stderr
    assert "outside-allowed-section" in refused.stderr
    git(hooked, "commit", "-q", "--no-verify", "-m", "hand edit")
    shortcut_write(shortcut(hooked), __version__, lie)
    v = cli("--repo", hooked, "verify", "--range", "main..ops/evidence")
    assert v.code == 1 and "section-heading-changed" in v.out, v.out


@pytest.mark.parametrize("folder", [b"caf\xe9", b"two\nlines"])
def test_a_folder_name_git_can_hold_never_crashes_the_hook(trading_repo: Path, folder: bytes) -> None:
    """Not UTF-8, or with a newline: the hook judges the commit (here on main: it does not
    apply) instead of a traceback that blocks every commit."""
    import os

    from evidencebot.guard.changes import judge_staged

    path = os.path.join(os.fsencode(trading_repo), folder)
    os.makedirs(path)
    with open(os.path.join(path, b"x"), "wb") as f:
        f.write(b"x\n")
    git(trading_repo, "add", "-A")
    applies, problems = judge_staged(trading_repo, "main")
    assert (applies, problems) == (False, [])
    git(trading_repo, "switch", "-q", "-c", "ops/names")
    applies, problems = judge_staged(trading_repo, "main")
    assert applies and any(v.rule == "path-not-allowed" for v in problems)
