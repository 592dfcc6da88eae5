"""Every benchmark, one table: measure | ours | baseline | ratio median (min–max) | goal |
met?, then the machine it ran on. The scripts share one workspace, so a repository two of
them need is built once.

    python benchmarks/run.py [--runs N] [--only NAME ...] [--json]

Figures are wall times of whole processes on a possibly busy machine: read the min–max
spread of the per-pair ratios (and the load average printed below the table) before
trusting a median.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from types import ModuleType

import flat
import history
import hook
import record
import startup
import verify
from _bench import BenchError, Result, format_machine, format_table, machine
from _workspace import Workspace

SCRIPTS: dict[str, ModuleType] = {m.__name__: m for m in (verify, record, history, hook,
                                                          startup, flat)}


def run_all(names: Sequence[str], runs: int | None) -> tuple[list[Result], list[str]]:
    """Each script's ``measure()`` in turn, with its own default runs unless ``runs``; the
    rows, and the scripts that failed (the others still run)."""
    results: list[Result] = []
    failed: list[str] = []
    with Workspace.temporary() as ws:
        for name in names:
            module = SCRIPTS[name]
            start = time.perf_counter()
            try:
                results += module.measure(runs=runs or module.RUNS, workspace=ws)
            except BenchError as e:
                failed.append(name)
                print(f"{name}: failed: {e}", file=sys.stderr, flush=True)
                continue
            print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return results, failed


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, help="timed pairs per row (default: each script's own)")
    ap.add_argument("--only", nargs="+", choices=list(SCRIPTS), default=list(SCRIPTS),
                    metavar="NAME", help=f"run only these ({', '.join(SCRIPTS)})")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args(argv)
    before = machine()
    start = time.perf_counter()
    results, failed = run_all(args.only, args.runs)
    elapsed = time.perf_counter() - start
    after = machine()
    if args.json:
        print(json.dumps({"machine": before, "loadavg_after": after["loadavg"],
                          "seconds": round(elapsed, 1),
                          "results": [r.to_json() for r in results], "failed": failed}))
        return 1 if failed else 0
    print()
    print(format_table(results))
    print()
    print(format_machine(before))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in after['loadavg'])}; "
          f"whole table: {elapsed:.0f} s")
    if failed:
        print(f"failed (see above): {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
