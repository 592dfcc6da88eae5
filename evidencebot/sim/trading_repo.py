"""A small trading-bot repository in the reference formats, written in our own words.

Used by `evidencebot demo` and by the tests. Only the shapes matter (section names, table
columns, the session-log grammar); the prose is ours.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .. import git

DESIGN = """\
# Gilt Street Paper Bot — Design Notes

## 1. Goal

Paper-trade a handful of FTSE names through Interactive Brokers before any real money.

## 2. Components

- `src/broker/` — the IBKR session (ib_async) and order placement
- `src/signals/` — entry and exit rules
- `backtest/` — replay of historical bars
- `config/` — the `uk_paper` and `uk_live` profiles

```text
## 9. Operational Milestones Tracker (a fenced example, not a section)
```

## 9. Operational Milestones Tracker

A milestone row moves to CLOSED only when the ops branch is merged after review.

| ID | Milestone | Exit criteria | Status | Evidence |
|----|-----------|---------------|--------|----------|
| MO-1 | Gateway reachable | strict health check passes on the paper profile | CLOSED | session log, first week |
| MO-2 | Step 1A burn-in | three qualifying paper runs in a row (1800 s, a fill, data ratio 0.80, 100 bars) | OPEN | Step 1A Burn-In Tracker |
| MO-3 | Tax pack rehearsal | yearly tax export matches the broker statement | OPEN | — |

## 10. Questions Nobody Has Answered

- Do runs on the same day count separately?
"""

BACKLOG = """\
# Backlog

## MO-* Status

| ID | Status | Updated (UTC) | Note |
|----|--------|---------------|------|
| MO-1 | CLOSED | 2026-10-30 | reviewed and merged |
| MO-2 | IN PROGRESS | 2026-11-16 | burn-in started |
| MO-3 | OPEN | 2026-10-28 | |

## Work Items

- [x] W-3 pick a free client id when 326 comes back
- [ ] W-8 survive a 1100 connectivity drop

## Next In-Window Run Checklist

- [ ] Inside the session window (UTC, weekdays)
- [ ] Strict health check is green
- [ ] Kill switch is not active
- [ ] Gateway running; socket clients on; read-only off
- [ ] Client id chosen (IBKR_CLIENT_ID or the auto-client wrapper)

## Step 1A Burn-In Tracker

A run qualifies with at least 1800 s on paper, one filled order, a data ratio of 0.80 and
100 preflight bars for every symbol.

| # | Date (UTC) | Run ID | Duration (s) | Filled | Data ratio | Min bars | Client ID | Outcome | Evidence |
|---|------------|--------|--------------|--------|------------|----------|-----------|---------|----------|
| 1 | 2026-11-16 | 20261116T081500Z | 1800 | 1 | 0.93 | 230 | 21 | qualifying | copied by hand from the report |

Consecutive qualifying runs: 1 of 3

## Later

- Look at a second data vendor.
"""

SESSION_LOG = """\
# Session Log

Oldest first. Heading: `## <YYYY-MM-DD HH:MM> UTC — <TYPE> — <title>`, then `- Field: value`
lines. Types come from SESSION_TOPOLOGY.md.

## 2026-11-16 08:10 UTC — OPS — first burn-in by hand

- Milestone: MO-2
- Pre-run checks: all green; client id 21
- Result: qualifying (1 filled, data ratio 0.93)
- Next: keep going in the next window
"""

TOPOLOGY = """\
# Session Types

## 1. Purpose

A session says up front what kind of work it is; the kind limits what it touches.

## 2. Session Types

### Type 1 — DESIGN
Edits the design notes only.

### Type 2 — BUILD
Edits `src/`, `backtest/`, `config/` and `tests/`.

### Type 3 — DEBUG
Takes a handoff packet and fixes the defect in it.

### Type 4 — OPS
Runs the agreed scripts and records what happened.
- May edit: `reports/**`; `SESSION_LOG.md` (append only); `IMPLEMENTATION_BACKLOG.md` (MO-* status, Step 1A Burn-In Tracker); `PROJECT_DESIGN.md` §9 (MO-* status).
- Must not edit: `src/`, `backtest/`, `config/`, `tests/`.
- A code defect becomes a handoff packet for DEBUG.

## 6. Handoffs

### 6c. Handoff packet format
A heading `# Handoff: <from> → <to> — <summary>`, the fields as bullets, then What
happened, Evidence, Reproduce, Expected vs actual.
"""

MAIN_PY = '''\
"""Demo bot entry point: only the health check is real here."""
import json
import sys

if __name__ == "__main__" and sys.argv[1:2] == ["uk_health_check"]:
    print(json.dumps({"profile": "uk_paper", "healthy": True,
                      "checks": [{"name": "ibkr_socket", "ok": True}]}))
    sys.exit(0)
print("usage: python main.py uk_health_check --profile uk_paper --strict-health")
sys.exit(2)
'''

FILES: dict[str, str] = {
    "README.md": "# Gilt Street Paper Bot\n\nA demo trading repository for evidencebot.\n",
    "PROJECT_DESIGN.md": DESIGN,
    "IMPLEMENTATION_BACKLOG.md": BACKLOG,
    "SESSION_LOG.md": SESSION_LOG,
    "SESSION_TOPOLOGY.md": TOPOLOGY,
    "main.py": MAIN_PY,
    "src/broker/session.py": "CLIENT_ID_RANGE = range(17, 27)\n",
    "backtest/replay.py": "def replay(bars):\n    return list(bars)\n",
    "config/uk_paper.toml": "[ibkr]\nport = 4002\n",
    "tests/test_replay.py": "def test_replay():\n    assert True\n",
    "scripts/README.md": "The burn-in wrapper lives here.\n",
    ".gitignore": "state/\n",
}


PINNED = "allow_pinned_clock = true  # the demo and the tests pin the clock\n"


def with_pinned_clock(config: str) -> str:
    """``config`` with `[ops] allow_pinned_clock = true` (the demo repository's setting)."""
    if "allow_pinned_clock" in config:
        return config
    if "[ops]\n" in config:
        return config.replace("[ops]\n", "[ops]\n" + PINNED, 1)
    return "[ops]\n" + PINNED + "\n" + config


def write_repo(root: Path, *, extra: Mapping[str, str | bytes] | None = None,
               commit: bool = True, pinned_clock: bool = True) -> Path:
    """Create the demo trading repository at ``root`` (git init, one commit on main).

    ``pinned_clock``: its committed config allows EVIDENCEBOT_NOW (the demo's and the
    tests' clock)."""
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, str | bytes] = {**FILES, **(extra or {})}
    if pinned_clock:
        cfg = files.get("evidencebot.toml", "")
        files["evidencebot.toml"] = with_pinned_clock(cfg if isinstance(cfg, str) else
                                                      cfg.decode("utf-8"))
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8", newline="\n")
    if commit:
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        # Dated before any burn-in run the tests and the demo make, as a real repository's
        # reviewed code is (a run is judged against the base branch as of its start).
        _git(root, "-c", "user.name=Demo Operator", "-c", "user.email=operator@demo.invalid",
             "commit", "-q", "-m", "Trading bot as it stands before the burn-in",
             env={"GIT_AUTHOR_DATE": BASE_DATE, "GIT_COMMITTER_DATE": BASE_DATE})
    return root


BASE_DATE = "2026-01-05T09:00:00Z"


def _git(root: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
    # No inherited GIT_DIR & co (a hook or `rebase -x` exports them): act on ``root`` only.
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env=git.clean_env(env))


def report(
    *,
    finished: datetime,
    duration: int = 1800,
    filled: int = 2,
    ratio: float = 0.857,
    min_bars: int = 240,
    runs_completed: int = 1,
    client_id: int = 18,
    account: str = "DU1234567",
    passed: bool | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """A burn-in report in the reference wrapper's schema."""
    started = finished - timedelta(seconds=duration + 2)
    symbols = ["VOD.L", "BARC.L", "LLOY.L", "BP.L", "HSBA.L", "AZN.L", "SHEL.L"]
    bars = {s: 240 for s in symbols}
    bars["LLOY.L"] = min_bars
    ok = filled >= 1 and ratio >= 0.8 and min_bars >= 100 and duration >= 1800
    return {
        "schema_version": 1,
        "run_id": run_id or started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
        "profile": "uk_paper",
        "started_at_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at_utc": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runs_requested": 1,
        "runs_completed": runs_completed,
        "paper_duration_seconds": duration,
        "ibkr": {"host": "127.0.0.1", "port": 4002, "client_id": client_id, "account": account},
        "symbols": symbols,
        "symbol_data_availability_ratio": ratio,
        "preflight_bars_per_symbol": bars,
        "orders": {"submitted": filled + 1, "filled": filled, "cancelled": 1, "rejected": 0},
        "ibkr_messages": [{"code": 2104, "message": "Market data farm connection is OK:usfarm"}],
        "thresholds": {"min_filled_orders": 1, "min_symbol_data_availability_ratio": 0.8,
                       "preflight_min_bars_per_symbol": 100},
        "passed": ok if passed is None else passed,
        "failure_reasons": [],
    }


def write_report(path: Path, doc: Mapping[str, Any], *, bom: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(doc, indent=2).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data + b"\n")
    return path
