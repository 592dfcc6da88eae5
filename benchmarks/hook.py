"""Our pre-commit hook on what one `record` commits (the record, a tracker row, a
session-log entry, staged on the ops branch):

- in a 20,000-file repository with a 300-row tracker, against pre-commit-hooks'
  `check-added-large-files` on the same staged files (goal: ≤ 1.5×);
- with a 1,000-row tracker against a 10-row one, both in the small sim repository so that
  only the tracker differs (goal: ≤ 1.2×).

The staged documents are the record's with a word added by hand to the session-log entry,
as a hand commit would stage them: the hook sees them for the first time. What the record
left under `.git/evidencebot/` (the blocks of the documents it committed) is put back after
every run, so no run finds what the run before it saved (`Shortcuts`).

Both sides run as the console scripts the pre-commit framework starts, with the same
interpreter and environment; evidencebot from an installed copy of the package, so the
editable-install finder is not charged to it.

    python benchmarks/hook.py [--runs N] [--json]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from _bench import Goal, Result, interleave, run_process, script_main, seconds, summarize
from _repo import SESSION_LOG, Reports, Shortcuts, git, stage_recorded_change, trading_repo
from _workspace import Workspace, workspace_for

RUNS = 15
FILES = 20_000
ROWS = 300
PEER_GOAL = Goal("≤ 1.5×", ratio=1.5)
TRACKER_GOAL = Goal("≤ 1.2×", ratio=1.2)


def staged_repo(ws: Workspace, *, files: int, rows: int) -> Path:
    """A repository on the ops branch with one `record`'s change staged (built once)."""

    def build(path: Path) -> None:
        trading_repo(ws, path, files=files, tracker_rows=rows)
        stage_recorded_change(ws, path, Reports(ws.scratch("hook-reports")))
        log = path / SESSION_LOG
        log.write_bytes(log.read_bytes().rstrip(b"\n") + b" (checked by hand)\n")
        git(ws, path, "add", SESSION_LOG)

    return ws.cached(f"hook-staged-{files}-files-{rows}-rows-by-hand", build)


def staged_paths(ws: Workspace, repo: Path) -> list[str]:
    return git(ws, repo, "diff", "--cached", "--name-only").split()


def measure(runs: int = RUNS, workspace: Workspace | None = None) -> list[Result]:
    with workspace_for(workspace) as ws:
        hook = ws.evidencebot("hook", "pre-commit")
        big = staged_repo(ws, files=FILES, rows=ROWS)
        peer = ws.script("check-added-large-files", *staged_paths(ws, big))
        ours, base = interleave(lambda: run_process(hook, cwd=big, env=ws.env),
                                lambda: run_process(peer, cwd=big, env=ws.env), runs,
                                after_pair=Shortcuts(big).restore)
        results = [summarize(f"hook pre-commit ({FILES:,} files, {ROWS}-row tracker) "
                             "vs check-added-large-files", seconds(ours), seconds(base),
                             PEER_GOAL)]
        long, short = (staged_repo(ws, files=0, rows=n) for n in (1000, 10))
        kept = Shortcuts(long), Shortcuts(short)

        def restore() -> None:
            for k in kept:
                k.restore()

        ours, base = interleave(lambda: run_process(hook, cwd=long, env=ws.env),
                                lambda: run_process(hook, cwd=short, env=ws.env), runs,
                                after_pair=restore)
        results.append(summarize("hook pre-commit: 1,000-row vs 10-row tracker",
                                 seconds(ours), seconds(base), TRACKER_GOAL))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    return script_main(measure, argv, description=__doc__, default_runs=RUNS)


if __name__ == "__main__":
    raise SystemExit(main())
