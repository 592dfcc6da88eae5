"""The merge-request description of a closure, committed as
``reports/evidence/milestones/MO-n.md`` (git refuses multi-line push options, so GitLab's
description option can only point at it)."""

from __future__ import annotations

import json
from typing import Any

from .. import __version__, git
from ..evidence.history import OpsCommit
from ..ledger.verify import verify
from ..ledger.workspace import Context
from ..templating import render
from .closure import Streak, attempts_view, run_view


def title_for(mo: str) -> str:
    return f"Close {mo}: Step 1A burn-in streak met"


def describe(ctx: Context, s: Streak, closed_at: str, tip: str) -> str:
    """The merge-request description for closing at ``tip`` (the closure's parent)."""
    runs = [{**run_view(r), "checks": _checks_of(ctx, r)} for r in s.evidence_runs]
    attempts = attempts_view(s)
    report = verify(ctx.repo, spec=None, base=ctx.cfg.ops.base, bot_author=ctx.cfg.ops.author,
                    end=tip)
    checks = sorted({r["checks"] for r in runs if r["checks"]})
    chart = [{"run_id": a["run_id"], "filled": _int(r.get("filled")),
              "data_pct": round(float(r.get("data_ratio") or 0) * 100, 1)}
             for a in attempts for r in [_metrics(s, a["commit"])] if a["kind"] ==
             "step1a-burnin" and r]
    return render(
        "merge_request.md.j2", milestone=s.milestone, title=title_for(s.milestone),
        branch=ctx.cfg.ops.branch, base=ctx.cfg.ops.base, consecutive=s.needed,
        closed_at=closed_at, generated_by=f"evidencebot {__version__}", streak_runs=runs,
        attempts=attempts, chart_runs=chart, checks=checks or ["(recorded by hand)"],
        verify={"ok": report.ok, "summary": f"{report.commits} ops commit(s), "
                f"{len(report.runs)} run(s) checked"
                + ("" if report.ok else f", {len(report.findings)} violation(s)"),
                "violations": [f.render() for f in report.findings]},
        handoffs=[a["note"][8:] for a in attempts if a["note"].startswith("handoff ")],
        retries=[f"{a['run_id']}: {a['note'][6:]}" for a in attempts
                 if a["note"].startswith("retry ")])


def _metrics(s: Streak, sha: str) -> dict[str, str] | None:
    for c in s.attempts:
        if c.sha == sha and c.trailers.get("Burnin-Filled-Orders"):
            return run_view(c)
    return None


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def _checks_of(ctx: Context, c: OpsCommit) -> str:
    path = c.trailers.get("Evidence-Record", "")
    data = git.show_bytes(ctx.repo, c.sha, path) if path else None
    try:
        return str(json.loads(data or b"{}").get("session", {}).get("checks") or "")
    except ValueError:
        return ""
