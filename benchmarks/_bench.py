"""Timing for the benchmarks: processes timed one at a time, ours and the baseline
interleaved (A B A B ...), and the per-pair ratio ours/baseline summarised as median, min
and max. Also the result rows, the table they print as, and each script's command line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class BenchError(RuntimeError):
    """A command that had to succeed did not; carries the command, exit code and stderr."""

    def __init__(self, cmd: Sequence[str], code: int, stderr: bytes) -> None:
        self.cmd, self.code, self.stderr = list(cmd), code, stderr
        tail = stderr.decode(errors="replace").strip()[-2000:]
        super().__init__(f"{' '.join(cmd)} exited {code}:\n{tail}")


TIME = Path("/usr/bin/time")  # GNU time: reports the peak memory of the one command it runs


@dataclass(frozen=True)
class Sample:
    """One timed run: wall seconds, what it printed, and (when asked for) its peak memory."""

    seconds: float
    stdout: bytes = b""
    maxrss_kb: int = 0


def run_process(cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                ok: tuple[int, ...] = (0,), peak_memory: bool = False) -> Sample:
    """Run ``cmd`` once and time it from start to exit; raise on an exit not in ``ok``.

    With ``peak_memory`` the command runs under GNU time, whose ``%M`` is the peak resident
    set of the command and of the children it waited for. (Our own wait4 rusage would not
    do: a child forked or vforked from this process inherits this process's peak.)"""
    with tempfile.TemporaryDirectory() as tmp:
        out_path, err_path, mem_path = (Path(tmp) / n for n in ("out", "err", "mem"))
        argv = [str(TIME), "-o", str(mem_path), "-f", "%M", *cmd] if peak_memory else list(cmd)
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            start = time.perf_counter()
            code = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err).wait()
            elapsed = time.perf_counter() - start
        if code not in ok:
            raise BenchError(cmd, code, err_path.read_bytes())
        rss = int(mem_path.read_text().split()[-1]) if peak_memory else 0
        return Sample(elapsed, out_path.read_bytes(), rss)


def can_measure_memory() -> bool:
    return TIME.exists()


Side = Callable[[], Sample]


def interleave(ours: Side, base: Side, runs: int, *, warmup: int = 1,
               after_pair: Callable[[], None] | None = None) -> tuple[list[Sample], list[Sample]]:
    """``warmup`` untimed pairs, then ``runs`` timed pairs, ours first in each pair.
    ``after_pair`` (untimed) puts things back so every pair does the same work."""
    ours_s: list[Sample] = []
    base_s: list[Sample] = []
    for i in range(warmup + runs):
        a, b = ours(), base()
        if after_pair is not None:
            after_pair()
        if i >= warmup:
            ours_s.append(a)
            base_s.append(b)
    return ours_s, base_s


@dataclass(frozen=True)
class Goal:
    """What a row must show: a median ratio at most ``ratio``, and/or ours at most ``ours``
    (in the row's unit)."""

    text: str
    ratio: float | None = None
    ours: float | None = None

    def met(self, ours: float, ratio: float) -> bool:
        return ((self.ratio is None or ratio <= self.ratio)
                and (self.ours is None or ours <= self.ours))


@dataclass(frozen=True)
class Result:
    """One row of the table."""

    name: str
    unit: str  # "s" or "MB"
    ours_median: float
    base_median: float
    ratio_median: float
    ratio_min: float
    ratio_max: float
    goal: Goal
    runs: int
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool:
        return self.goal.met(self.ours_median, self.ratio_median)

    def to_json(self) -> dict[str, Any]:
        u = self.unit.lower()
        return {"name": self.name, f"ours_median_{u}": self.ours_median,
                f"base_median_{u}": self.base_median, "ratio_median": self.ratio_median,
                "ratio_min": self.ratio_min, "ratio_max": self.ratio_max,
                "goal": self.goal.text, "goal_ratio": self.goal.ratio,
                f"goal_ours_{u}": self.goal.ours, "met": self.met, "runs": self.runs,
                **self.notes}


def summarize(name: str, ours: Sequence[float], base: Sequence[float], goal: Goal, *,
              unit: str = "s", notes: Mapping[str, Any] | None = None) -> Result:
    """Per-pair ratios ours[i]/base[i]; medians of each side."""
    ratios = [a / b for a, b in zip(ours, base, strict=True)]
    return Result(name, unit, statistics.median(ours), statistics.median(base),
                  statistics.median(ratios), min(ratios), max(ratios), goal, len(ratios),
                  dict(notes or {}))


def seconds(samples: Sequence[Sample]) -> list[float]:
    return [s.seconds for s in samples]


def peak_mb(samples: Sequence[Sample]) -> list[float]:
    return [s.maxrss_kb / 1024 for s in samples]  # ru_maxrss is in KiB on Linux


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.1f} {unit}"


def format_table(results: Sequence[Result]) -> str:
    """A Markdown table: measure | ours | baseline | ratio median (min–max) | goal | met?,
    then each row's notes (figures measured beside the row's own)."""
    head = ["measure", "ours", "baseline", "ratio median (min–max)", "goal", "met?"]
    rows = [[r.name, _fmt(r.ours_median, r.unit), _fmt(r.base_median, r.unit),
             f"{r.ratio_median:.2f}× ({r.ratio_min:.2f}–{r.ratio_max:.2f})", r.goal.text,
             "yes" if r.met else "NO"] for r in results]
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    notes = [f"{r.name}: " + ", ".join(f"{k.replace('_', ' ')} {_note(v)}"
                                       for k, v in r.notes.items())
             for r in results if r.notes]
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows),
                      *(["", *notes] if notes else [])])


def _note(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def machine() -> dict[str, Any]:
    """What the figures were measured on; the load average says how noisy they may be."""
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True)
    return {"cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "implementation": platform.python_implementation(),
            "git": git.stdout.strip().removeprefix("git version "),
            "platform": platform.platform(), "loadavg": [round(x, 2) for x in os.getloadavg()]}


def format_machine(info: Mapping[str, Any]) -> str:
    load = " ".join(f"{x:.2f}" for x in info["loadavg"])
    return (f"machine: {info['cpu_count']} cpus ({info['cpus_usable']} usable), "
            f"{info['implementation']} {info['python']}, git {info['git']}, "
            f"{info['platform']}, load average {load}")


Measure = Callable[..., list[Result]]


def script_main(measure: Measure, argv: Sequence[str] | None, *, description: str | None,
                default_runs: int) -> int:
    """The command line every benchmark script shares: ``--runs N`` and ``--json``."""
    ap = argparse.ArgumentParser(description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=default_runs,
                    help=f"timed pairs per row (default {default_runs}; one more pair warms up)")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args(argv)
    try:
        results = measure(runs=args.runs)
    except BenchError as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"machine": machine(), "results": [r.to_json() for r in results]}))
    else:
        print(format_table(results))
        print(format_machine(machine()))
    return 0
