"""Repositories for the benchmarks: the simulated trading repository grown to size (source
files, tracker rows, session-log entries) in one `git fast-import`, ops histories made by
real `evidencebot record` calls or by `evidencebot.sim.synth`, and burn-in reports with
fresh run ids.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _bench import BenchError, Sample, run_process
from _workspace import Workspace

from evidencebot.sim.synth import add_ops_commits
from evidencebot.sim.trading_repo import report, write_repo, write_report

OPS = "ops/evidence"
BACKLOG = "IMPLEMENTATION_BACKLOG.md"
SESSION_LOG = "SESSION_LOG.md"
TRACKER = "## Step 1A Burn-In Tracker"
# Hand-written history (tracker rows, log entries) starts after the sim repo's last entry;
# reports recorded by the benchmarks start after all of it.
HAND_START = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)
REPORTS_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # in the past: verify refuses future commits


def git(ws: Workspace, repo: Path, *args: str, input: bytes | None = None,
        at: str | None = None) -> str:
    """Run git in ``repo`` (its commits dated ``at``, if given); stdout, or BenchError with
    the command, exit code and stderr."""
    cmd = ["git", "-C", str(repo), *args]
    env = ws.env if at is None else {**ws.env, "GIT_AUTHOR_DATE": at, "GIT_COMMITTER_DATE": at}
    proc = subprocess.run(cmd, input=input, capture_output=True, env=env)
    if proc.returncode:
        raise BenchError(cmd, proc.returncode, proc.stderr)
    return proc.stdout.decode()


class Shortcuts:
    """The files under ``.git/evidencebot/`` as they are now, to put back after each timed
    pair: a pair must find what the record before it left, not what the previous pair saved
    for the very same documents (a run recorded after another run never finds that)."""

    def __init__(self, repo: Path) -> None:
        self.folder = repo / ".git" / "evidencebot"
        self.saved = {p: p.read_bytes() for p in self.folder.rglob("*") if p.is_file()}

    def restore(self) -> None:
        for p in self.folder.rglob("*"):
            if p.is_file() and p not in self.saved:
                p.unlink()
        for path, data in self.saved.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def trading_repo(ws: Workspace, path: Path, *, files: int = 0, tracker_rows: int | None = None,
                 log_bytes: int | None = None) -> Path:
    """The sim trading repository plus ``files`` generated source files, a burn-in tracker of
    ``tracker_rows`` rows and a session log of at least ``log_bytes``: one commit on main,
    written by fast-import and checked out (the hook and `record` read the work tree)."""
    write_repo(path, commit=False)
    if tracker_rows is not None:
        _rewrite(path / BACKLOG, lambda text: with_tracker_rows(text, tracker_rows))
    if log_bytes is not None:
        _rewrite(path / SESSION_LOG, lambda text: padded_log(text, log_bytes))
    small = {p.relative_to(path).as_posix(): p.read_bytes()
             for p in sorted(path.rglob("*")) if p.is_file()}
    git(ws, path, "init", "-q", "-b", "main")
    stream = fast_import_commit("main", "Trading bot as it stands before the burn-in",
                                [*small.items(), *generated_sources(files)])
    git(ws, path, "fast-import", "--quiet", input=stream)
    # One pass that fills the index and writes the files that are not on disk yet (no
    # per-file hashing, unlike `git add`); then settle the stat data.
    git(ws, path, "reset", "-q", "--hard", "main")
    git(ws, path, "update-index", "-q", "--refresh")
    return path


def _rewrite(path: Path, edit: Callable[[str], str]) -> None:
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8", newline="\n")


def generated_sources(count: int, per_dir: int = 200) -> Iterator[tuple[str, bytes]]:
    for i in range(count):
        yield f"src/gen/pkg{i // per_dir:04d}/mod{i % per_dir:03d}.py", f"VALUE = {i}\n".encode()


def fast_import_commit(branch: str, message: str, files: Iterable[tuple[str, bytes]]) -> bytes:
    """A fast-import stream of one root commit on ``branch`` holding ``files``."""
    msg = message.encode()
    parts = [f"commit refs/heads/{branch}\n".encode(),
             b"committer bench <bench@example.invalid> 1764000000 +0000\n",
             f"data {len(msg)}\n".encode(), msg, b"\n"]
    for name, data in files:
        parts += [f"M 100644 inline {name}\ndata {len(data)}\n".encode(), data, b"\n"]
    parts.append(b"\n")
    return b"".join(parts)


def with_tracker_rows(backlog: str, rows: int) -> str:
    """``backlog`` whose Step 1A Burn-In Tracker holds ``rows`` hand-written rows."""
    lines = backlog.splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if ln.startswith(TRACKER))
    sep = next(i for i in range(start, len(lines)) if lines[i].startswith("|--"))
    end = sep + 1
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    made = []
    for k in range(1, rows + 1):
        t = HAND_START + timedelta(hours=k)
        made.append(f"| {k} | {t:%Y-%m-%d} | {t:%Y%m%dT%H%M%SZ} | 1800 | 1 | 0.93 | 230 | 21 "
                    f"| qualifying | copied by hand from the report |\n")
    return "".join(lines[:sep + 1] + made + lines[end:])


def padded_log(log: str, min_bytes: int) -> str:
    """``log`` followed by OPS entries in the session-log grammar up to ``min_bytes``."""
    entries, size, t = [log], len(log.encode()), HAND_START
    while size < min_bytes:
        t += timedelta(minutes=10)
        entry = (f"\n## {t:%Y-%m-%d %H:%M} UTC — OPS — burn-in by hand {t:%Y%m%dT%H%M%SZ}\n\n"
                 "- Milestone: MO-2\n- Pre-run checks: all green; client id 21\n"
                 "- Result: qualifying (1 filled, data ratio 0.93)\n"
                 "- Next: keep going in the next window\n")
        entries.append(entry)
        size += len(entry.encode())
    return "".join(entries)


@dataclass(frozen=True)
class Report:
    """A report on disk and the clock to record it under (a few minutes after it ended)."""

    path: Path
    now: str


class Reports:
    """Burn-in reports one hour apart, so each has its own run id; every fifth (by default)
    does not qualify."""

    def __init__(self, folder: Path, start: datetime = REPORTS_START) -> None:
        self.folder, self.start, self.count = folder, start, 0

    def between(self) -> str:
        """A time after the last report was recorded and before the next run starts."""
        return (self.start + timedelta(hours=self.count - 1, minutes=10)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")

    def next(self, *, qualifying: bool = True) -> Report:
        finished = self.start + timedelta(hours=self.count)
        self.count += 1
        doc = report(finished=finished, filled=2 if qualifying else 0)
        path = write_report(self.folder / f"report-{self.count:06d}.json", doc)
        return Report(path, (finished + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))


def next_reports(ws: Workspace, repo: Path, name: str) -> Reports:
    """Reports that follow the runs already on ``repo``'s ops branch (a cached repository
    keeps the ops commit an earlier benchmark run set up), so the first is recorded anew."""
    done = 0
    if git(ws, repo, "branch", "--list", OPS).strip():
        done = int(git(ws, repo, "rev-list", "--count", f"main..{OPS}"))
    reports = Reports(ws.scratch(name))
    reports.count = done
    return reports


def record(ws: Workspace, repo: Path, rep: Report) -> Sample:
    """`evidencebot record REPORT` in ``repo``, timed; it must exit 0."""
    return run_process(ws.evidencebot("record", str(rep.path)), cwd=repo, env=ws.env_at(rep.now))


def recorded_history(ws: Workspace, repo: Path, count: int,
                     reports: Reports | None = None) -> None:
    """``count`` ops commits on the ops branch, each from a real `record` call (with the
    next of ``reports``, if given: a history recorded in parts)."""
    if reports is None:
        reports = Reports(ws.scratch("history-reports"))
    for _ in range(count):
        record(ws, repo, reports.next(qualifying=reports.count % 5 != 4))


def synth_history(ws: Workspace, repo: Path, count: int) -> None:
    """``count`` synthetic ops commits on the ops branch (one fast-import)."""
    add_ops_commits(repo, branch=OPS, parent=rev(ws, repo, "main"), count=count)


def rev(ws: Workspace, repo: Path, name: str) -> str:
    return git(ws, repo, "rev-parse", "--verify", name).strip()


def stage_recorded_change(ws: Workspace, repo: Path, reports: Reports) -> list[str]:
    """Leave ``repo`` on the ops branch with exactly what one `record` commits staged (the
    record, the tracker row, the session-log entry); return the staged paths."""
    record(ws, repo, reports.next())
    git(ws, repo, "switch", "-q", OPS)
    git(ws, repo, "reset", "-q", "--soft", "HEAD~1")
    return git(ws, repo, "diff", "--cached", "--name-only").split()


def merged_repo(ws: Workspace, merged: int, commits: int) -> Path:
    """The sim trading repository after ``merged`` recorded runs were merged into the base
    branch (a merge commit, as a reviewed merge request makes) and ``commits`` more were
    recorded since: ``main..ops`` is those ``commits``, with a long history before them."""

    def build(path: Path) -> None:
        trading_repo(ws, path)
        reports = Reports(ws.scratch("merged-reports"))
        recorded_history(ws, path, merged, reports)
        # merged between two runs, as a merge request is: the code the next runs take as
        # the base's (`Context.base_at`) is the merge, and it was there when they started
        git(ws, path, "merge", "-q", "--no-ff", "-m", f"Merge {merged} recorded runs", OPS,
            at=reports.between())
        recorded_history(ws, path, commits, reports)

    return ws.cached(f"merged-{merged}-recorded-{commits}-dated", build)


def recorded_repo(ws: Workspace, commits: int = 100) -> Path:
    """The sim trading repository with ``commits`` ops commits from real `record` calls,
    built once per workspace (`verify` and `status` read it; nothing changes it)."""

    def build(path: Path) -> None:
        trading_repo(ws, path)
        recorded_history(ws, path, commits)

    return ws.cached(f"recorded-{commits}", build)
