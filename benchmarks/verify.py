"""`evidencebot verify --range main..ops/evidence` over 100 ops commits made by real
`evidencebot record` calls, against `git log -p` of the same range (goal: ≤ 3×).

    python benchmarks/verify.py [--runs N] [--json]
"""

from __future__ import annotations

from collections.abc import Sequence

from _bench import Goal, Result, interleave, run_process, script_main, seconds, summarize
from _repo import OPS, recorded_repo
from _workspace import Workspace, workspace_for

RUNS = 5
COMMITS = 100
GOAL = Goal("≤ 3×", ratio=3.0)


def measure(runs: int = RUNS, workspace: Workspace | None = None) -> list[Result]:
    with workspace_for(workspace) as ws:
        repo = recorded_repo(ws, COMMITS)
        span = f"main..{OPS}"
        ours_cmd = ws.evidencebot("verify", "--range", span)
        base_cmd = ["git", "log", "-p", span]
        ours, base = interleave(lambda: run_process(ours_cmd, cwd=repo, env=ws.env),
                                lambda: run_process(base_cmd, cwd=repo, env=ws.env), runs)
    return [summarize(f"verify --range ({COMMITS} recorded commits) vs git log -p",
                      seconds(ours), seconds(base), GOAL)]


def main(argv: Sequence[str] | None = None) -> int:
    return script_main(measure, argv, description=__doc__, default_runs=RUNS)


if __name__ == "__main__":
    raise SystemExit(main())
