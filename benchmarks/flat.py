"""Flatness: the hook and `record` should cost about the same however big the repository
and however long the ops history. Each row times the big case against the small one,
interleaved (goal for each: ≤ 1.3×):

- 100,000 vs 1,000 files (plus the sim repository's own files);
- 10,000 vs 100 ops commits (from `evidencebot.sim.synth`) under the ops branch.

The 100,000 files are written by one `git fast-import` (no per-file hashing), then one
`git reset --hard` fills the index and writes the files: a full work tree, because `record`
asks `git status` whether the code is dirty, and a partial one (sparse checkout,
skip-worktree) would hide exactly the cost this row is about.

`record` gets a report with a fresh run id each time, and the ops branch goes back to the
same commit after each pair. Then one `record`'s change is staged on the ops branch and the
hook judges it; evidencebot runs from an installed copy of the package.

    python benchmarks/flat.py [--runs N] [--json]
"""

from __future__ import annotations

from collections.abc import Sequence
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
from _repo import (
    OPS,
    Shortcuts,
    git,
    next_reports,
    record,
    rev,
    stage_recorded_change,
    synth_history,
    trading_repo,
)
from _workspace import Workspace, workspace_for

RUNS = 5
GOAL = Goal("≤ 1.3×", ratio=1.3)
FILES = (1_000, 100_000)
COMMITS = (100, 10_000)


class Subject:
    """One repository: `record` on it with the ops branch reset after each, then the hook
    on one record's change staged."""

    def __init__(self, ws: Workspace, repo: Path) -> None:
        self.ws, self.repo = ws, repo
        self.reports = next_reports(ws, repo, "flat-reports")
        record(ws, repo, self.reports.next())  # the ops branch, as it is before we time it
        self.base = rev(ws, repo, OPS)
        self.shortcuts = Shortcuts(repo)

    def record(self) -> Sample:
        return record(self.ws, self.repo, self.reports.next())

    def reset(self) -> None:
        git(self.ws, self.repo, "update-ref", f"refs/heads/{OPS}", self.base)
        self.shortcuts.restore()

    def stage(self) -> None:
        stage_recorded_change(self.ws, self.repo, self.reports)

    def hook(self) -> Sample:
        return run_process(self.ws.evidencebot("hook", "pre-commit"), cwd=self.repo,
                           env=self.ws.env)


def compare(small: Subject, big: Subject, runs: int, label: str) -> list[Result]:
    """`record` then the hook, the big subject against the small one."""

    def reset_both() -> None:
        small.reset()
        big.reset()

    rec_big, rec_small = interleave(big.record, small.record, runs, after_pair=reset_both)
    small.stage()
    big.stage()
    hook_big, hook_small = interleave(big.hook, small.hook, runs)
    return [summarize(f"record: {label}", seconds(rec_big), seconds(rec_small), GOAL),
            summarize(f"hook pre-commit: {label}", seconds(hook_big), seconds(hook_small),
                      GOAL)]


def files_repo(ws: Workspace, files: int) -> Path:
    return ws.cached(f"flat-{files}-files", lambda p: trading_repo(ws, p, files=files))


def history_repo(ws: Workspace, commits: int) -> Path:
    def build(path: Path) -> None:
        trading_repo(ws, path)
        synth_history(ws, path, commits)

    return ws.cached(f"flat-{commits}-commits", build)


def measure(runs: int = RUNS, workspace: Workspace | None = None) -> list[Result]:
    with workspace_for(workspace) as ws:
        few, many = (Subject(ws, files_repo(ws, n)) for n in FILES)
        results = compare(few, many, runs, f"{FILES[1]:,} vs {FILES[0]:,} files")
        short, long = (Subject(ws, history_repo(ws, n)) for n in COMMITS)
        results += compare(short, long, runs, f"{COMMITS[1]:,} vs {COMMITS[0]:,} ops commits")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    return script_main(measure, argv, description=__doc__, default_runs=RUNS)


if __name__ == "__main__":
    raise SystemExit(main())
