"""Shared fixtures: every test gets an isolated HOME and a git identity, as pre-commit's do."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

PINNED = "2026-11-25T17:00:00Z"  # the `pinned_now` clock


@pytest.fixture(autouse=True)
def isolated_git_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    template = tmp_path_factory.mktemp("git-template")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Operator")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "operator@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Operator")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "operator@example.invalid")
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(template))
    for key in list(os.environ):
        if key.startswith("GIT_") and key not in {
            "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL", "GIT_CONFIG_NOSYSTEM", "GIT_TEMPLATE_DIR",
        }:
            monkeypatch.delenv(key)
    monkeypatch.delenv("EVIDENCEBOT_SESSION", raising=False)
    monkeypatch.delenv("IBKR_CLIENT_ID", raising=False)
    # The output folds prose and sizes tables to COLUMNS when set (a CI runner's, or
    # pytest-xdist's workers' 80): tests that want a width set it themselves.
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` for a test and return stdout; fails the test on a non-zero exit."""
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)} failed: {proc.stderr}"
    return proc.stdout


from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `evidencebot ARGS` in-process through its real entry point."""
    from evidencebot.cli import main

    def invoke(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def trading_repo(tmp_path: Path) -> Path:
    from evidencebot.sim.trading_repo import write_repo

    return write_repo(tmp_path / "bot")


@pytest.fixture
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("EVIDENCEBOT_NOW", PINNED)
    return PINNED



def record_run(cli: Callable[..., Result], repo: Path, n: int, *, filled: int = 2) -> str:
    """Record run ``n`` through the CLI (runs 35 minutes apart, the last, n=9, ending 35
    minutes before the pinned clock, all inside the window); its run id."""
    import json
    from datetime import datetime, timedelta

    from evidencebot.sim.trading_repo import report, write_report

    now = datetime.fromisoformat(PINNED)
    doc = report(finished=now - timedelta(minutes=35 * (10 - n)), filled=filled)
    r = cli("--repo", repo, "--json", "record", write_report(repo.parent / f"r{n}.json", doc))
    assert r.code == 0, r.err
    return str(json.loads(r.out)["run"]["run_id"])


def other_operator(tmp_path: Path, remote: Path) -> Path:
    """A second operator's clone of ``remote`` with the ops branch checked out from it."""
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    git(other, "branch", "-q", "ops/evidence", "origin/ops/evidence")
    return other


def shortcut_read(path: Path) -> tuple[str, Any]:
    """(key, value) of a shortcut file under .git/evidencebot/ (see evidence/store.py)."""
    import marshal

    from evidencebot.evidence.store import DIGEST, MAGIC

    return marshal.loads(path.read_bytes()[len(MAGIC) + DIGEST:])  # type: ignore[no-any-return]


def shortcut_write(path: Path, key: str, value: Any) -> None:
    """A well-formed shortcut file holding ``value`` under ``key`` (a forgery, in tests)."""
    from evidencebot.evidence.store import Store

    Store(path, key).save(value)


def free_port() -> int:
    """A loopback port nothing listens on (a fixed one, 1 say, may be some process's)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
