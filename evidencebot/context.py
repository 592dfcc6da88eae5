"""`context` and `status`: what the runbook loads before a run, and where MO-2 stands."""

from __future__ import annotations

from typing import Any

from . import git, mdedit
from .recorder import MILESTONE, Context


def _doc(ctx: Context, rev: str, name: str) -> mdedit.Doc | None:
    data = git.show_bytes(ctx.repo, rev, name)
    return None if data is None else mdedit.parse(data)


def _section(doc: mdedit.Doc | None, title: str) -> str:
    if doc is None:
        return "(document missing)"
    try:
        return mdedit.section_text(doc, title)
    except mdedit.MarkdownEditError:
        return f"(no section {title!r})"


def last_entry(doc: mdedit.Doc | None) -> str:
    if doc is None:
        return "(document missing)"
    secs = [s for s in mdedit.sections(doc) if s.level == 2]
    if not secs:
        return "(no entries)"
    last = secs[-1]
    return b"".join(doc.lines[last.start:last.end]).decode("utf-8", "replace")


def gather(ctx: Context) -> list[tuple[str, str, str]]:
    """(title, source, text) in the runbook's priority order."""
    d = ctx.cfg.docs
    rev = ctx.tip().sha
    log = _doc(ctx, rev, d.session_log)
    backlog = _doc(ctx, rev, d.backlog)
    design = _doc(ctx, rev, d.design)
    topo = _doc(ctx, rev, d.topology)
    return [
        ("Last session-log entry", d.session_log, last_entry(log)),
        (d.checklist_section, d.backlog, _section(backlog, d.checklist_section)),
        (d.tracker_section, d.backlog, _section(backlog, d.tracker_section)),
        (d.milestones_section, d.design, _section(design, d.milestones_section)),
        (d.topology_section, d.topology, _section(topo, d.topology_section)),
    ]


def status_report(ctx: Context) -> dict[str, Any]:
    from .milestone import streak_of

    at = ctx.tip()
    commits = ctx.history(at.sha)
    s = streak_of(commits, milestone=MILESTONE, needed=ctx.consecutive)
    runs = [c for c in commits if c.is_run]
    malformed = [c.sha for c in commits if c.problems]
    hand_rows = _hand_rows(ctx, at.sha, {c.run_id for c in runs})
    state = (" (CLOSED)" if s.closed_by else
             " — streak met: `evidencebot close MO-2`" if s.met else "")
    lines = [f"{MILESTONE}: {s.display}{state}"]
    where = f"at {at.sha[:12]}" if at.exists else f"(not created yet; base {ctx.cfg.ops.base})"
    lines.append(f"ops branch: {ctx.cfg.ops.branch} {where}")
    if runs:
        last = runs[0]
        lines.append(f"last run: {last.run_id} {last.outcome} ({last.date[:16]})")
    lines.append(f"runs recorded by evidencebot: {len(runs)}")
    if s.runs:
        lines.append(f"streak runs: {', '.join(r.run_id for r in s.runs)}")
    if hand_rows:
        lines.append(f"hand-written tracker rows (not counted toward the streak): "
                     f"{', '.join(hand_rows)}")
    if malformed:
        lines.append(f"MALFORMED ops commits: {', '.join(sha[:12] for sha in malformed)}")
    return {
        "milestones": {MILESTONE: {"streak": s.count, "needed": s.needed,
                                   "closed": s.closed_by is not None, "display": s.display,
                                   "runs": [r.run_id for r in s.runs]}},
        "branch": ctx.cfg.ops.branch, "tip": at.sha if at.exists else None,
        "runs": len(runs), "hand_written_rows": hand_rows, "malformed": malformed,
        "lines": lines,
    }


def _hand_rows(ctx: Context, rev: str, recorded: set[str]) -> list[str]:
    doc = _doc(ctx, rev, ctx.cfg.docs.backlog)
    if doc is None:
        return []
    try:
        table = mdedit.first_table(doc, ctx.cfg.docs.tracker_section)
        col = table.column("Run ID")
    except mdedit.MarkdownEditError:
        return []
    return [r[col] for r in table.rows if col < len(r) and r[col] and r[col] not in recorded]
