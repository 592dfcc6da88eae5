"""`context`: what the runbook loads before a run, read from the ops branch (or its base)."""

from __future__ import annotations

from .. import git
from ..ledger.workspace import Context
from ..md import edit as mdedit


def document(ctx: Context, rev: str, name: str) -> mdedit.Doc | None:
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
    log = document(ctx, rev, d.session_log)
    backlog = document(ctx, rev, d.backlog)
    design = document(ctx, rev, d.design)
    topo = document(ctx, rev, d.topology)
    return [
        ("Last session-log entry", d.session_log, last_entry(log)),
        (d.checklist_section, d.backlog, _section(backlog, d.checklist_section)),
        (d.tracker_section, d.backlog, _section(backlog, d.tracker_section)),
        (d.milestones_section, d.design, _section(design, d.milestones_section)),
        (d.topology_section, d.topology, _section(topo, d.topology_section)),
    ]
