"""What a person waits for before evidencebot does anything: `evidencebot status` over 100
recorded ops commits (goal: ≤ 8×) and `evidencebot --help` (goal: ≤ 4×), each against
`python -c pass` on the same interpreter and installed environment (see `_workspace`).

    python benchmarks/startup.py [--runs N] [--json]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from _bench import Goal, Result, interleave, run_process, script_main, seconds, summarize
from _repo import recorded_repo
from _workspace import Workspace, workspace_for

RUNS = 10
COMMITS = 100
STATUS_GOAL = Goal("≤ 8×", ratio=8.0)
HELP_GOAL = Goal("≤ 4×", ratio=4.0)


def measure(runs: int = RUNS, workspace: Workspace | None = None) -> list[Result]:
    with workspace_for(workspace) as ws:
        repo = recorded_repo(ws, COMMITS)
        return [against_python(ws, repo, ["status"], runs,
                               f"status ({COMMITS} recorded commits) vs python -c pass",
                               STATUS_GOAL),
                against_python(ws, repo, ["--help"], runs, "--help vs python -c pass",
                               HELP_GOAL)]


def against_python(ws: Workspace, repo: Path, args: list[str], runs: int, label: str,
                   goal: Goal) -> Result:
    """`evidencebot ARGS` and `python -c pass` interleaved, both in ``repo``."""
    ours_cmd, base_cmd = ws.evidencebot(*args), [str(ws.python), "-c", "pass"]
    ours, base = interleave(lambda: run_process(ours_cmd, cwd=repo, env=ws.env),
                            lambda: run_process(base_cmd, cwd=repo, env=ws.env), runs)
    return summarize(label, seconds(ours), seconds(base), goal)


def main(argv: Sequence[str] | None = None) -> int:
    return script_main(measure, argv, description=__doc__, default_runs=RUNS)


if __name__ == "__main__":
    raise SystemExit(main())
