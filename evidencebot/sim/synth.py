"""Synthetic ops histories for tests and benchmarks, written with one `git fast-import`."""

from __future__ import annotations

import subprocess
from pathlib import Path


def ops_message(i: int, *, qualifying: bool) -> str:
    run_id = f"2026{i:08d}T000000Z"
    start = f"2026-01-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
    outcome = "qualifying" if qualifying else "non-qualifying"
    return (
        f"evidence(step1a): {run_id} {outcome}\n\n"
        f"Evidence-Kind: step1a-burnin\n"
        f"Evidence-Run-Id: {run_id}\n"
        f"Evidence-Outcome: {outcome}\n"
        f"Evidence-Record: reports/evidence/step1a/{run_id}.json\n"
        f"Evidence-Record-Sha256: {'ab' * 32}\n"
        f"Evidence-Started-At: {start}\n"
        f"Evidence-Finished-At: {start}\n"
        f"Burnin-Paper-Duration-Seconds: 1800\n"
        f"Burnin-Filled-Orders: {2 if qualifying else 0}\n"
        f"Burnin-Symbol-Data-Availability-Ratio: 0.857\n"
        f"Burnin-Min-Bars-Per-Symbol: 240\n"
        f"Burnin-Streak: 0/3\n"
        f"Code-Commit: {'cd' * 20}\n"
        f"Code-Dirty: false\n"
        f"Ibkr-Client-Id: 18\n"
        f"Session-Type: OPS\n"
        f"Evidencebot-Version: 0.1.0\n"
        f"Config-Sha256: none\n"
    )


def add_ops_commits(repo: Path, *, branch: str, parent: str, count: int) -> None:
    """Append ``count`` run commits (every fifth non-qualifying) to ``branch``."""
    lines: list[bytes] = []
    for i in range(count):
        msg = ops_message(i, qualifying=i % 5 != 4).encode()
        lines.append(f"commit refs/heads/{branch}\n".encode())
        lines.append(b"author evidencebot <evidencebot@localhost> 1764000000 +0000\n")
        lines.append(b"committer evidencebot <evidencebot@localhost> 1764000000 +0000\n")
        lines.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        if i == 0:
            lines.append(f"from {parent}\n".encode())
        lines.append(b"\n")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(lines),
                   check=True, capture_output=True)
