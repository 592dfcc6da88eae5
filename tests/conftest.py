"""Shared fixtures: every test gets an isolated HOME and a git identity, as pre-commit's do."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


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
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` for a test and return stdout; fails the test on a non-zero exit."""
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)} failed: {proc.stderr}"
    return proc.stdout
