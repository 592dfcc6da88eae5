"""`evidencebot verify --range main..ops/evidence` over 100 ops commits made by real
`evidencebot record` calls, against `git log -p` of the same range (goal: ≤ 3×).

Twice: in the repository as `record` left it (every object a loose file, as on the
operator's machine: git reads each from its own file), and in a clone of it (one pack, as
CI checks it out; git's side is then about a third as long, ours hardly changes).

Then flatness (goal: ≤ 1.3×, as for the hook and `record`): the same 100 commits' worth
of `verify`, after 300 recorded runs were merged into the base branch, against the
repository above (no runs before them). Each commit should cost what it changes, not what
the history before it holds. git's own diff of those commits grows too (the tracker and
the evidence folder each commit changes are longer), so the last row holds verify to
git log -p there, and prints how much git log -p grew.

    python benchmarks/verify.py [--runs N] [--json]
"""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from _bench import (
    Goal,
    Result,
    Sample,
    interleave,
    run_process,
    script_main,
    seconds,
    summarize,
)
from _repo import OPS, merged_repo, recorded_repo
from _workspace import Workspace, workspace_for

RUNS = 5
COMMITS = 100
GOAL = Goal("≤ 3×", ratio=3.0)
# Runs on the base branch before the range, in the flatness row: a multiple of 5, so the
# range's runs qualify as the small repository's do (every fifth does not).
MERGED = 300
FLAT = Goal("≤ 1.3×", ratio=1.3)


def measure(runs: int = RUNS, workspace: Workspace | None = None) -> list[Result]:
    with workspace_for(workspace) as ws:
        repo = recorded_repo(ws, COMMITS)
        packed = ws.cached(f"recorded-{COMMITS}-packed", lambda path: _clone(repo, path, ws))
        span = f"main..{OPS}"
        ours_cmd = ws.evidencebot("verify", "--range", span)
        base_cmd = ["git", "log", "-p", span]

        def timed(cmd: list[str], at: Path) -> Callable[[], Sample]:
            return lambda: run_process(cmd, cwd=at, env=ws.env)

        rows = []
        for where, at in (("", repo), (", packed clone", packed)):
            ours, base = interleave(timed(ours_cmd, at), timed(base_cmd, at), runs)
            rows.append(summarize(f"verify --range ({COMMITS} recorded commits{where}) vs "
                                  "git log -p", seconds(ours), seconds(base), GOAL))
        long = merged_repo(ws, MERGED, COMMITS)
        after, fresh = interleave(timed(ours_cmd, long), timed(ours_cmd, repo), runs)
        rows.append(summarize(f"verify --range, {COMMITS} commits after {MERGED} merged runs "
                              "vs after none", seconds(after), seconds(fresh), FLAT))
        # git's own diff grows too (each commit's tracker and evidence folder are longer):
        # the same range against git log -p there, with git's growth beside it
        git_long, git_fresh = interleave(timed(base_cmd, long), timed(base_cmd, repo), runs)
        grown = statistics.median(a.seconds / b.seconds for a, b in zip(git_long, git_fresh,
                                                                         strict=True))
        ours, base = interleave(timed(ours_cmd, long), timed(base_cmd, long), runs)
        rows.append(summarize(f"verify --range, {COMMITS} commits after {MERGED} merged runs "
                              "vs git log -p", seconds(ours), seconds(base), GOAL,
                              notes={"git log -p grew": grown}))
    return rows


def _clone(repo: Path, dest: Path, ws: Workspace) -> None:
    """A clone of ``repo`` at ``dest`` as CI makes one (objects in a pack), with the ops
    branch as a local branch."""
    dest.rmdir()  # (git clone makes it)
    for cmd in (["git", "clone", "-q", "--no-local", str(repo), str(dest)],
                ["git", "-C", str(dest), "branch", "-q", OPS, f"origin/{OPS}"]):
        subprocess.run(cmd, env=ws.env, check=True, capture_output=True)


def main(argv: Sequence[str] | None = None) -> int:
    return script_main(measure, argv, description=__doc__, default_runs=RUNS)


if __name__ == "__main__":
    raise SystemExit(main())
