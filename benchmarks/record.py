"""`evidencebot record REPORT` in a repository of 20,000 files with a 1 MB SESSION_LOG.md,
against doing the same by hand: writing the same three files (the record, the tracker row,
the session-log entry appended) and `git add` + `git commit` on a checked-out branch
(goal: ≤ 3×).

Every pair records a report with a fresh run id; after each pair both branches go back to
the same commit, so every pair does the same work. The by-hand side commits exactly what
`record` committed (same files, same message), and the two trees are checked equal.

The shortcuts under `.git/evidencebot/` go back too (`Shortcuts`), to what the record
before the timed ones left.

    python benchmarks/record.py [--runs N] [--json]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _bench import (
    BenchError,
    Goal,
    Result,
    Sample,
    interleave,
    run_process,
    script_main,
    seconds,
    summarize,
)
from _repo import OPS, Shortcuts, git, next_reports, record, rev, trading_repo
from _workspace import Workspace, workspace_for

RUNS = 5
FILES = 20_000
LOG_BYTES = 1 << 20
HAND = "hand/evidence"
GOAL = Goal("≤ 3×", ratio=3.0)


@dataclass(frozen=True)
class Change:
    """What one `record` commit wrote, as the by-hand side writes it: files to write whole,
    text to append, and the commit message."""

    write: dict[str, bytes]
    append: dict[str, bytes]
    message: bytes


def committed_change(ws: Workspace, repo: Path, base: str, tip: str) -> Change:
    write: dict[str, bytes] = {}
    append: dict[str, bytes] = {}
    for path in git(ws, repo, "diff", "--name-only", base, tip).split():
        new = git_bytes(ws, repo, f"{tip}:{path}")
        old = git_bytes(ws, repo, f"{base}:{path}", missing_ok=True)
        if old and new.startswith(old):
            append[path] = new[len(old):]
        else:
            write[path] = new
    raw = git_bytes(ws, repo, tip, kind="commit")
    return Change(write, append, raw.split(b"\n\n", 1)[1])


def git_bytes(ws: Workspace, repo: Path, spec: str, *, kind: str = "blob",
              missing_ok: bool = False) -> bytes:
    try:
        return run_process(["git", "cat-file", kind, spec], cwd=repo, env=ws.env).stdout
    except BenchError:
        if missing_ok:
            return b""
        raise


class RecordPair:
    """`record` on the ops branch vs the same commit by hand on a checked-out branch."""

    def __init__(self, ws: Workspace, repo: Path) -> None:
        self.ws, self.repo = ws, repo
        self.reports = next_reports(ws, repo, "record-reports")
        self.message_file = ws.scratch("record-message") / "MESSAGE"
        record(ws, repo, self.reports.next())  # the ops branch exists before we time it
        self.base = rev(ws, repo, OPS)
        self.shortcuts = Shortcuts(repo)
        git(ws, repo, "switch", "-q", "-C", HAND, self.base)
        self.change = Change({}, {}, b"")

    def ours(self) -> Sample:
        sample = record(self.ws, self.repo, self.reports.next())
        self.change = committed_change(self.ws, self.repo, self.base, OPS)
        return sample

    def by_hand(self) -> Sample:
        env, repo, change = self.ws.env, self.repo, self.change
        start = time.perf_counter()
        for path, data in change.write.items():
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_bytes(data)
        for path, data in change.append.items():
            with open(repo / path, "ab") as f:
                f.write(data)
        self.message_file.write_bytes(change.message)
        run_process(["git", "add", "--", *change.write, *change.append], cwd=repo, env=env)
        run_process(["git", "commit", "-q", "-F", str(self.message_file)], cwd=repo, env=env)
        elapsed = time.perf_counter() - start
        if rev(self.ws, repo, "HEAD^{tree}") != rev(self.ws, repo, f"{OPS}^{{tree}}"):
            raise RuntimeError("the by-hand commit differs from what record committed")
        return Sample(elapsed)

    def reset(self) -> None:
        git(self.ws, self.repo, "update-ref", f"refs/heads/{OPS}", self.base)
        git(self.ws, self.repo, "reset", "-q", "--hard", self.base)
        self.shortcuts.restore()


def measure(runs: int = RUNS, workspace: Workspace | None = None) -> list[Result]:
    with workspace_for(workspace) as ws:
        repo = ws.cached(f"record-{FILES}",
                         lambda p: trading_repo(ws, p, files=FILES, log_bytes=LOG_BYTES))
        pair = RecordPair(ws, repo)
        ours, base = interleave(pair.ours, pair.by_hand, runs, after_pair=pair.reset)
    return [summarize(f"record ({FILES:,} files, 1 MB log) vs by hand + git commit",
                      seconds(ours), seconds(base), GOAL)]


def main(argv: Sequence[str] | None = None) -> int:
    return script_main(measure, argv, description=__doc__, default_runs=RUNS)


if __name__ == "__main__":
    raise SystemExit(main())
