"""Run the burn-in command: argv (no shell), a timeout, a live progress line, a kept log."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..config import Burnin
from ..errors import UsageError
from ..frozen import frozen

PLACEHOLDERS = (
    "runs", "paper_duration_seconds", "min_filled_orders",
    "min_symbol_data_availability_ratio", "preflight_min_bars_per_symbol",
)


def expand(command: Sequence[str], params: Burnin) -> list[str]:
    """Fill ``{runs}`` & co in each argument; other braces are left alone."""
    values = {name: _fmt(getattr(params, name)) for name in PLACEHOLDERS}
    out = []
    for arg in command:
        for name, value in values.items():
            arg = arg.replace("{" + name + "}", value)
        out.append(arg)
    return out


def _fmt(v: object) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


@frozen
class Completed:
    argv: list[str]
    exit_code: int | None  # None: killed at the timeout
    log: bytes
    seconds: float
    timed_out: bool


Progress = Callable[[float, str], None]  # (elapsed seconds, last log line)


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    progress: Progress | None = None,
    tick: float = 0.2,
) -> Completed:
    """Run ``argv`` to completion or ``timeout``; stdout and stderr go to one log."""
    full_env = {**os.environ, **env}
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, env=full_env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise UsageError(f"burn-in command not found: {argv[0]!r} (see [burnin] command)") from None
    except PermissionError:
        raise UsageError(f"burn-in command is not executable: {argv[0]!r}") from None
    chunks: list[bytes] = []
    last = [""]
    assert proc.stdout is not None
    stream = proc.stdout

    def pump() -> None:
        for line in iter(stream.readline, b""):
            chunks.append(line)
            text = line.decode("utf-8", "replace").strip()
            if text:
                last[0] = text

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = False
    while True:
        try:
            proc.wait(timeout=tick)
            break
        except subprocess.TimeoutExpired:
            elapsed = time.monotonic() - start
            if progress:
                progress(elapsed, last[0])
            if elapsed >= timeout:
                proc.kill()
                proc.wait()
                timed_out = True
                break
    reader.join(timeout=5)
    return Completed(list(argv), None if timed_out else proc.returncode, b"".join(chunks),
                     time.monotonic() - start, timed_out)
