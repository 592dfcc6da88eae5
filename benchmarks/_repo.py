"""Shared set-up for the benchmarks: a large synthetic trading repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evidencebot.sim.trading_repo import write_repo  # noqa: E402

ENV = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x",
       "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@x"}


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          env=ENV, input=input).stdout.decode()


def big_repo(root: Path, files: int) -> Path:
    """The demo trading repo plus ``files`` small source files, in one commit on main."""
    repo = write_repo(root, commit=False)
    per_dir = 200
    for i in range(files):
        d = repo / "src" / f"pkg{i // per_dir:03d}"
        if i % per_dir == 0:
            d.mkdir(parents=True, exist_ok=True)
        (d / f"mod{i % per_dir:03d}.py").write_text(f"VALUE = {i}\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "big repo")
    return repo


def median_seconds(cmd: list[str], cwd: Path, runs: int,
                   env: dict[str, str] | None = None) -> tuple[float, int]:
    """(median wall time, last exit code) of ``runs`` runs of ``cmd``."""
    import statistics
    import time

    samples, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        code = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True).returncode
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), code
