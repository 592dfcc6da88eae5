"""`evidencebot history --json` over 10,000 ops commits (from `evidencebot.sim.synth`)
against the raw `git log` it wraps (goal: ≤ 1.5×), and the peak memory of each (goal:
ours ≤ 60 MB).

Peak memory comes from GNU time (`/usr/bin/time -f %M`, the row is left out without it), in
separate interleaved pairs so the wrapper is not in the timings: the largest resident set of
the command and of the children it waited for, so ours is the larger of the Python process
and its `git log`, not their sum. 1 MB here is 2**20 bytes.

    python benchmarks/history.py [--runs N] [--json]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from _bench import (
    Goal,
    Result,
    Sample,
    can_measure_memory,
    interleave,
    peak_mb,
    run_process,
    script_main,
    seconds,
    summarize,
)
from _repo import OPS, synth_history, trading_repo
from _workspace import Workspace, workspace_for

RUNS = 5
MEMORY_RUNS = 3  # peak memory hardly varies
COMMITS = 10_000
TIME_GOAL = Goal("≤ 1.5×", ratio=1.5)
MEMORY_GOAL = Goal("ours ≤ 60 MB", ours=60.0)


def build(ws: Workspace, path: Path) -> None:
    trading_repo(ws, path)
    synth_history(ws, path, COMMITS)


def check_history(sample: Sample) -> Sample:
    """Ours must really list every commit, or the timing says nothing."""
    entries = json.loads(sample.stdout)["entries"]
    if len(entries) != COMMITS:
        raise RuntimeError(f"history --json listed {len(entries)} entries, not {COMMITS}")
    return sample


def measure(runs: int = RUNS, workspace: Workspace | None = None) -> list[Result]:
    with workspace_for(workspace) as ws:
        repo = ws.cached(f"synth-{COMMITS}", lambda p: build(ws, p))
        ours_cmd = ws.evidencebot("history", "--json")
        base_cmd = ["git", "log", "--format=%H%x00%(trailers:only,unfold)", OPS]
        ours, base = interleave(
            lambda: check_history(run_process(ours_cmd, cwd=repo, env=ws.env)),
            lambda: run_process(base_cmd, cwd=repo, env=ws.env), runs)
        label = f"history --json ({COMMITS:,} commits) vs git log"
        results = [summarize(label, seconds(ours), seconds(base), TIME_GOAL)]
        if can_measure_memory():
            ours, base = interleave(
                lambda: run_process(ours_cmd, cwd=repo, env=ws.env, peak_memory=True),
                lambda: run_process(base_cmd, cwd=repo, env=ws.env, peak_memory=True),
                min(runs, MEMORY_RUNS), warmup=0)
            results.append(summarize(f"{label}: peak memory", peak_mb(ours), peak_mb(base),
                                     MEMORY_GOAL, unit="MB"))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    return script_main(measure, argv, description=__doc__, default_runs=RUNS)


if __name__ == "__main__":
    raise SystemExit(main())
