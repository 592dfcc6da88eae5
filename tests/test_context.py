"""`context`: what the runbook says to load before a run."""

from __future__ import annotations

import json
from pathlib import Path


def test_context_prints_the_runbook_sections_in_order(trading_repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--repo", trading_repo, "--json", "context")
    assert r.code == 0
    parts = json.loads(r.out)["sections"]
    assert [p["title"] for p in parts] == [
        "Last session-log entry", "Next In-Window Run Checklist", "Step 1A Burn-In Tracker",
        "9. Operational Milestones Tracker", "Type 4 — OPS"]
    last, checklist, tracker, design, topology = (p["text"] for p in parts)
    assert last.startswith("## 2026-11-16 08:10 UTC — OPS — first burn-in by hand")
    assert "- [ ] Kill switch is not active" in checklist
    assert "| # | Date (UTC) | Run ID |" in tracker
    assert design.startswith("## 9. Operational Milestones Tracker") and "| MO-2 |" in design
    assert "fenced example" not in design  # the heading inside the code fence is not §9
    assert topology.startswith("### Type 4 — OPS") and "Must not edit" in topology
    human = cli("--repo", trading_repo, "context")
    assert "── Step 1A Burn-In Tracker  (IMPLEMENTATION_BACKLOG.md)" in human.out
