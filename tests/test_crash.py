"""kill -9 in the middle of rebuilding the ops branch on a newer remote tip.

A `git` shim on PATH runs the real git, except at one chosen call, where it SIGKILLs the
evidencebot process that called it (its parent). Whatever the point, the ops branch is at
the old tip or at the complete rebuilt chain, no evidence is only in the reflog, and the
next `close` finishes the job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git, other_operator
from test_close import OPS, make, record

SHIM = r'''#!{python}
import os, signal, sys
counter = {counter!r}
trigger, nth = {trigger!r}, {nth!r}
args = sys.argv[1:]
# git [-C <repo>] [-c <name=value>]... <command> ...: the command follows those pairs.
rest = args
while len(rest) > 1 and rest[0] in ("-C", "-c"):
    rest = rest[2:]
command = rest[0] if rest else ""
if command == trigger:
    with open(counter, "a+") as f:
        f.seek(0)
        seen = len(f.read().splitlines()) + 1
        f.write("x\n")
    if seen == nth:
        os.kill(os.getppid(), {signal})
        if {signal} == signal.SIGKILL:
            sys.exit(137)
        import time  # (a stop the caller sees: it ends this git call itself; bounded)
        time.sleep(30)
        sys.exit(1)
os.execv({git!r}, [{git!r}, *args])
'''

# (git command, which call) — counted from the start of `close`: commit-tree 1 is the
# closure on our old tip, 2-4 replay runs 2 and 3 and the closure on their tip; update-ref 1
# moves the branch to our closure, 2 moves it to the rebuilt chain.
POINTS = [("commit-tree", 2), ("commit-tree", 3), ("commit-tree", 4), ("update-ref", 2),
          ("push", 2)]


def runs_on(repo: Path, rev: str) -> list[str]:
    return git(repo, "log", "--format=%(trailers:key=Evidence-Run-Id,valueonly)",
               rev).split()


@pytest.mark.parametrize(("trigger", "nth"), POINTS, ids=[f"{t}-{n}" for t, n in POINTS])
def test_kill_9_during_a_rebuild_leaves_old_tip_or_whole_chain(
        tmp_path: Path, cli, trigger: str, nth: int) -> None:  # type: ignore[no-untyped-def]
    repo, remote = make(tmp_path)
    record(cli, repo, tmp_path, 0)
    git(repo, "push", "-q", "origin", OPS)
    other = other_operator(tmp_path, remote)
    record(cli, other, tmp_path, 1)  # another operator records run 1 and pushes first
    git(other, "push", "-q", "origin", OPS)
    theirs = git(other, "rev-parse", OPS).strip()
    record(cli, repo, tmp_path, 2)
    record(cli, repo, tmp_path, 3)
    before = git(repo, "rev-parse", OPS).strip()
    mine = set(runs_on(repo, OPS))

    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    shim = shim_dir / "git"
    shim.write_text(SHIM.format(python=sys.executable, counter=str(tmp_path / "count"),
                                trigger=trigger, nth=nth, git=shutil.which("git"),
                                signal="signal.SIGKILL"))
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([sys.executable, "-m", "evidencebot", "--repo", str(repo), "close",
                           "MO-2"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stdout + proc.stderr  # killed where we said

    tip = git(repo, "rev-parse", OPS).strip()
    kinds = git(repo, "log", "--format=%(trailers:key=Evidence-Kind,valueonly)",
                f"{before}..{tip}" if tip != before else tip).split()
    if subprocess.run(["git", "-C", str(repo), "merge-base", "--is-ancestor", theirs, tip]
                      ).returncode == 0:
        # The rebuilt chain, complete: their run, ours replayed, and the closure on top.
        assert set(runs_on(repo, tip)) == mine | {runs_on(other, theirs)[0]}
        assert git(repo, "log", "-1", "--format=%(trailers:key=Milestone,valueonly)",
                   tip).strip() == "MO-2"
    else:
        # The old tip (with or without our closure on it): nothing half-replayed.
        assert git(repo, "merge-base", "--is-ancestor", before, tip) == ""
        assert set(kinds) <= {"milestone"} and set(runs_on(repo, tip)) == mine

    done = cli("--repo", repo, "close", "MO-2")  # the next attempt finishes the job
    assert done.code == 0, done.err
    assert git(repo, "rev-parse", OPS).strip() == git(remote, "rev-parse", OPS).strip()
    assert set(runs_on(repo, OPS)) == mine | {runs_on(other, theirs)[0]}
    git(repo, "switch", "-q", OPS)
    assert cli("--repo", repo, "verify").code == 0


def _shim(tmp_path: Path, trigger: str, nth: int,
          signal: str = "signal.SIGKILL") -> dict[str, str]:
    """The environment whose `git` sends its caller ``signal`` (SIGKILL: kills it) at the
    ``nth`` ``trigger`` call."""
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir(exist_ok=True)
    shim = shim_dir / "git"
    shim.write_text(SHIM.format(python=sys.executable, counter=str(tmp_path / "count"),
                                trigger=trigger, nth=nth, git=shutil.which("git"),
                                signal=signal))
    shim.chmod(0o755)
    return {**os.environ, "PATH": f"{shim_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.skipif(os.name == "nt", reason="a POSIX git shim and SIGKILL")
def test_kill_9_after_a_checkout_moved_is_put_back_by_the_next_command(
        tmp_path: Path, cli, pinned_now: str) -> None:  # type: ignore[no-untyped-def]
    """The ops branch checked out in a second worktree is brought along before the branch
    moves; killed between the two, the checkout held the new evidence, staged, and every
    later `record` refused it as uncommitted changes (committing them by hand, as told,
    made a commit verify blames). The next command now puts the checkout back first."""
    repo, before, checkout, path, proc = _record_stopped(tmp_path, cli, "signal.SIGKILL")
    assert proc.returncode == -9, proc.stdout + proc.stderr  # killed where we said
    assert git(repo, "rev-parse", OPS).strip() == before  # the branch did not move...
    assert git(checkout, "status", "--porcelain").strip()  # ...its checkout did

    again = cli("--repo", repo, "record", path)
    assert again.code == 0, again.err
    assert "recorded run" in again.out
    tip = git(repo, "rev-parse", OPS).strip()
    assert tip != before and git(checkout, "rev-parse", "HEAD").strip() == tip
    assert git(checkout, "status", "--porcelain").strip() == ""  # brought along, clean
    assert not (git_dir(repo) / "evidencebot" / "moving.json").exists()
    assert cli("--repo", checkout, "verify").code == 0


@pytest.mark.skipif(os.name == "nt", reason="a POSIX git shim, SIGTERM and SIGHUP")
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_after_a_checkout_moved_puts_it_back_at_once(
        tmp_path: Path, cli, pinned_now: str, stop: str) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: a scheduler's SIGTERM (or a closed terminal's SIGHUP) between
    bringing the ops checkout along and moving the branch ended `record` where it stood,
    the new evidence staged in the checkout until the next command. They stop it as
    Ctrl-C does: the checkout is put back before it exits (130, "aborted")."""
    repo, before, checkout, _path, proc = _record_stopped(tmp_path, cli, f"signal.{stop}")
    assert (proc.returncode, proc.stderr.strip().splitlines()[-1:]) == (
        130, ["evidencebot: error: aborted"]), proc.stdout + proc.stderr
    assert git(repo, "rev-parse", OPS).strip() == before  # the branch did not move ...
    assert git(checkout, "rev-parse", "HEAD").strip() == before
    assert git(checkout, "status", "--porcelain").strip() == ""  # ... nor did its checkout
    assert not (git_dir(repo) / "evidencebot" / "moving.json").exists()


@pytest.mark.skipif(os.name == "nt", reason="a POSIX git shim and SIGTERM")
def test_a_stop_after_the_closure_landed_says_that_it_stands(
        tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Found by an adversary: SIGTERM while `close` pushed its landed closure said only
    "aborted", over a closure that stands and a merge request never opened."""
    repo, _remote = make(tmp_path)
    for n in range(3):
        record(cli, repo, tmp_path, n)
    proc = subprocess.run([sys.executable, "-m", "evidencebot", "--repo", str(repo), "close",
                           "MO-2"], env=_shim(tmp_path, "push", 1, "signal.SIGTERM"),
                          capture_output=True, text=True, timeout=120)
    tip = git(repo, "rev-parse", OPS).strip()
    assert "Milestone-Status: CLOSED" in git(repo, "log", "-1", "--format=%B", OPS)
    assert (proc.returncode, proc.stderr.strip().splitlines()[-1]) == (
        130, f"evidencebot: error: aborted after the evidence was committed: {OPS} is at "
        f"{tip[:12]}, and stands (`evidencebot status` shows it; what came after it did "
        "not run)"), proc.stderr


def _record_stopped(tmp_path: Path, cli, signal: str  # type: ignore[no-untyped-def]
                    ) -> tuple[Path, str, Path, Path, subprocess.CompletedProcess[str]]:
    """A second `record` with the ops branch checked out in a worktree, sent ``signal`` at
    its first `update-ref` (the checkout brought along, the branch not moved yet):
    (repo, the tip before, the checkout, the report, the finished process)."""
    from datetime import datetime, timedelta

    from conftest import PINNED

    from evidencebot.sim.trading_repo import report, write_report

    repo, _remote = make(tmp_path, "none")
    record(cli, repo, tmp_path, 0)
    before = git(repo, "rev-parse", OPS).strip()
    checkout = tmp_path / "ops-checkout"
    git(repo, "worktree", "add", "-q", str(checkout), OPS)
    doc = report(finished=datetime.fromisoformat(PINNED) - timedelta(minutes=35))
    path = write_report(tmp_path / "next.json", doc)
    proc = subprocess.run([sys.executable, "-m", "evidencebot", "--repo", str(repo), "record",
                           str(path)], env=_shim(tmp_path, "update-ref", 1, signal),
                          capture_output=True, text=True, timeout=120)
    return repo, before, checkout, path, proc


def git_dir(repo: Path) -> Path:
    return Path(git(repo, "rev-parse", "--absolute-git-dir").strip())
