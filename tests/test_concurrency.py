"""Records made at the same moment by separate processes all land, one after the other:
the lock under the git common dir orders them, and every commit is judged on the tip it
lands on."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import git

from evidencebot.sim.trading_repo import report, write_report

OPS = "ops/evidence"
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
WRITERS = 4


def test_concurrent_records_all_land_in_one_chain(trading_repo: Path, tmp_path: Path,
                                                  cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    reports = [write_report(tmp_path / f"r{i}.json",
                            report(finished=NOW - timedelta(minutes=45 * (i + 1))))
               for i in range(WRITERS)]
    env = {**os.environ, "EVIDENCEBOT_NOW": pinned_now}
    procs = [subprocess.Popen([sys.executable, "-m", "evidencebot", "--repo", str(trading_repo),
                               "record", str(r)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for r in reports]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read())  # type: ignore[union-attr]
               for p in procs]
    assert all(code == 0 for code, _o, _e in results), results
    runs = git(trading_repo, "log", "--format=%(trailers:key=Evidence-Run-Id,valueonly)",
               OPS).split()
    assert len(runs) == WRITERS == len(set(runs))
    parents = git(trading_repo, "log", "--format=%P", OPS, "--not", "main").split("\n")
    assert all(len(p.split()) == 1 for p in parents if p)  # one linear chain
    git(trading_repo, "switch", "-q", OPS)
    assert cli("--repo", trading_repo, "verify").code == 0


def test_a_commit_asks_git_ahead_only_once_it_holds_the_lock(trading_repo: Path, cli,  # type: ignore[no-untyped-def]
                                                             monkeypatch) -> None:
    """The identity and the worktrees are asked ahead under the lock: an answer from
    before a wait for another evidencebot would be stale when the commit uses it."""
    from conftest import record_run

    from evidencebot import git
    from evidencebot.ledger import lock

    order: list[str] = []
    real_hold, real_ahead = lock.hold, git.ahead

    def hold(*a, **k):  # type: ignore[no-untyped-def]
        order.append("lock")
        return real_hold(*a, **k)

    def ahead(*a, **k):  # type: ignore[no-untyped-def]
        order.append("ahead")
        return real_ahead(*a, **k)

    monkeypatch.setattr(lock, "hold", hold)
    monkeypatch.setattr(git, "ahead", ahead)
    record_run(cli, trading_repo, 5)
    assert order[:2] == ["lock", "ahead"]
