"""Our pre-commit hook vs pre-commit-hooks' check-added-large-files, same staged change,
same 20,000-file repository, both as the console scripts the pre-commit framework starts.
Prints the ratio of medians (target: <= 2.0).

    python benchmarks/hook.py [--files 20000] [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import sys
import tempfile
from pathlib import Path

from _repo import ENV, big_repo, git, median_seconds


def stage_ops_change(repo: Path) -> list[str]:
    """What `record` commits: a tracker row, a session-log entry, a new record."""
    git(repo, "switch", "-q", "-c", "ops/evidence")
    backlog = repo / "IMPLEMENTATION_BACKLOG.md"
    backlog.write_text(backlog.read_text().replace(
        "\n\nConsecutive", "\n| 2 | 2026-11-25 | R2 | 1800 | 2 | 0.9 | 200 | 18 | qualifying "
        "| reports/evidence/step1a/R2.json |\n\nConsecutive"))
    with open(repo / "SESSION_LOG.md", "a") as f:
        f.write("\n## 2026-11-25 12:00 UTC — OPS — Step 1A burn-in R2\n\n- Milestone: MO-2\n")
    record = repo / "reports" / "evidence" / "step1a" / "R2.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"run_id": "R2"}\n')
    git(repo, "add", "-A")
    return git(repo, "diff", "--cached", "--name-only").split()


def installed_copy(dest: Path) -> Path:
    """The package laid out as `pip install .` lays it out (no editable-install finder,
    whose per-module lookups would be charged to our hook and not to the peer)."""
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "evidencebot", dest / "evidencebot")
    shutil.copytree(root / "templates", dest / "evidencebot" / "templates")
    # pip byte-compiles what it installs; do the same, or every run would compile our
    # sources (this matters where PYTHONDONTWRITEBYTECODE is set).
    compileall.compile_dir(str(dest), quiet=1)
    return dest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"building a {args.files}-file repository ...", flush=True)
        repo = big_repo(Path(tmp) / "bot", args.files)
        staged = stage_ops_change(repo)
        # Both as the console scripts the pre-commit framework would run, same interpreter,
        # same environment.
        bin_dir = Path(sys.executable).parent
        env = {**ENV, "PYTHONPATH": str(installed_copy(Path(tmp) / "site"))}
        ours_cmd = [str(bin_dir / "evidencebot"), "hook", "pre-commit"]
        peer_cmd = [str(bin_dir / "check-added-large-files"), *staged]
        median_seconds(ours_cmd, repo, 3, env)  # warm caches (and write .pyc files) for both
        median_seconds(peer_cmd, repo, 3, env)
        ours, ours_code = median_seconds(ours_cmd, repo, args.runs, env)
        peer, peer_code = median_seconds(peer_cmd, repo, args.runs, env)
    print(f"staged: {', '.join(staged)}")
    print(f"evidencebot hook pre-commit      median {ours * 1000:7.1f} ms (exit {ours_code})")
    print(f"check-added-large-files          median {peer * 1000:7.1f} ms (exit {peer_code})")
    print(f"ratio ours / peer: {ours / peer:.2f} (target <= 2.0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
