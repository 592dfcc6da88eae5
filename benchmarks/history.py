"""`evidencebot history --json` vs the raw `git log` it wraps, over N ops commits.

    python benchmarks/history.py [--commits 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _repo import git, median_seconds

from evidencebot.history import _FORMAT
from evidencebot.sim.synth import add_ops_commits
from evidencebot.sim.trading_repo import write_repo


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--commits", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = write_repo(Path(tmp) / "bot")
        add_ops_commits(repo, branch="ops/evidence", parent=git(repo, "rev-parse", "main").strip(),
                        count=args.commits)
        git_log = ["git", "-c", "trailer.separators=:", "log", "-z", f"--format={_FORMAT}",
                   "ops/evidence"]
        raw, _ = median_seconds(git_log, repo, args.runs)
        ours, _ = median_seconds([sys.executable, "-m", "evidencebot", "--json", "history"],
                                 repo, args.runs)
    print(f"raw git log ({args.commits} commits)      median {raw * 1000:7.1f} ms")
    print(f"evidencebot --json history          median {ours * 1000:7.1f} ms")
    print(f"ratio ours / git log: {ours / raw:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
