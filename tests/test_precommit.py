"""The real pre-commit framework: our manifest, a trading repo's `repo: local` config, and
`pre-commit try-repo` on this repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def local_config() -> str:
    """The snippet `evidencebot init` prints, exactly (its entry names this evidencebot by
    its absolute path: the test has no `evidencebot` on PATH)."""
    from evidencebot.cli.setup import pre_commit_snippet

    snippet = pre_commit_snippet("main")
    assert "entry: evidencebot " not in snippet and "hook pre-commit --base main" in snippet
    return snippet


MSG = ("ops note\n\nEvidence-Kind: check\nCheck-Failed: window\nSession-Type: OPS\n"
       "Evidencebot-Version: 0.1.0\nConfig-Sha256: none\n")


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def run(cmd: list[str], cwd: Path, home: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


def test_manifest_validates(pre_commit_home: Path) -> None:
    proc = run([*PRE_COMMIT, "validate-manifest", ".pre-commit-hooks.yaml"], ROOT, pre_commit_home)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def src_edit(repo: Path) -> None:
    p = repo / "src" / "broker" / "session.py"
    p.write_text(p.read_text() + "# tweak\n")
    git(repo, "add", "-A")


def test_local_hooks_block_src_on_ops_and_allow_it_on_main(trading_repo: Path,
                                                           pre_commit_home: Path) -> None:
    (trading_repo / ".pre-commit-config.yaml").write_text(local_config())
    git(trading_repo, "add", ".pre-commit-config.yaml")
    git(trading_repo, "commit", "-qm", "add hooks")
    proc = run([*PRE_COMMIT, "install", "--hook-type", "pre-commit", "--hook-type",
                "commit-msg"], trading_repo, pre_commit_home)
    assert proc.returncode == 0, proc.stderr
    git(trading_repo, "switch", "-q", "-c", "ops/evidence")
    src_edit(trading_repo)
    blocked = run(["git", "commit", "-q", "-F", "-"], trading_repo, pre_commit_home, input=MSG)
    assert blocked.returncode == 1
    assert "ops commits may not touch src/" in blocked.stdout + blocked.stderr
    git(trading_repo, "stash", "-q")
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "stash", "pop", "-q")
    git(trading_repo, "add", "-A")
    allowed = run(["git", "commit", "-q", "-m", "BUILD: tweak"], trading_repo, pre_commit_home)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_try_repo_on_this_repository(trading_repo: Path, pre_commit_home: Path) -> None:
    git(trading_repo, "switch", "-q", "-c", "ops/evidence")
    src_edit(trading_repo)
    blocked = run([*PRE_COMMIT, "try-repo", str(ROOT), "evidencebot-scope"], trading_repo,
                  pre_commit_home, timeout=600)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "(path-not-allowed)" in blocked.stdout
    git(trading_repo, "stash", "-q")
    git(trading_repo, "switch", "-q", "main")
    git(trading_repo, "stash", "pop", "-q")
    git(trading_repo, "add", "-A")
    allowed = run([*PRE_COMMIT, "try-repo", str(ROOT), "evidencebot-scope"], trading_repo,
                  pre_commit_home, timeout=600)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "Passed" in allowed.stdout
