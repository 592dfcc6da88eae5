"""A code range's merge, judged (`guard.code.judge_code`): the base's tip against the
tree git's merge of the base and the range would write."""

from __future__ import annotations

from collections.abc import Sequence

from .. import git
from ..evidence.history import OpsCommit
from ..guard import changes as guard
from ..guard.code import ROLES, Document, judge_code
from ..guard.rules import Rules
from . import whole
from .findings import Finding, Report
from .workspace import Context


def judge(ctx: Context, report: Report, ops: Sequence[OpsCommit], start: str | None,
          stop: str) -> None:
    """What the merge of ``stop`` into the base (its tip ``start``) does to it, under the
    base's rules and the merged config's (`merged`: a merge base chosen by date, or a
    base that moved since the branch left it, hides nothing)."""
    left, right = merged(ctx, start, stop)
    base, tip = ctx.guard_rules, guard.rules_at(ctx.repo, right)
    rules_seen = [base] if tip == base else [base, tip]
    paths = [r[4] for r in guard.raw_records(ctx.repo, left, right)]
    docs = documents(ctx, left, right, rules_seen, paths)
    for v in judge_code(paths, docs, rules_seen, whole.closed_milestones(ops)):
        report.findings.append(Finding(stop, v.rule, v.message, v.fix, v.path, v.lines,
                                       v.section))


def merged(ctx: Context, start: str | None, stop: str) -> tuple[str | None, str]:
    """(the base's side, the merged side) of a code range: ``start`` and the tree of git's
    merge of ``start`` and ``stop``; where the merge would not be clean, the merge base
    and the tip (the merge request cannot be merged as it is)."""
    if start is None:
        return None, stop
    try:
        merged = git.out(ctx.repo, "merge-tree", "--write-tree", start, stop).split()[0]
    except git.GitError:
        base = git.out(ctx.repo, "merge-base", start, stop, ok=(0, 1)).strip()
        return base or None, stop
    return start, merged


def documents(ctx: Context, left: str | None, stop: str, rules_seen: Sequence[Rules],
               paths: Sequence[str]) -> list[Document]:
    """The three documents' before (the base's names at ``left``) and after (each
    config's names at ``stop``, and any changed path that is one of them in another
    case: the same file on Windows and macOS)."""
    base = rules_seen[0]
    named = {getattr(r, role): role for r in rules_seen for role in ROLES}
    named.update({p: named[n] for p in paths for n in list(named)
                  if p != n and p.casefold() == n.casefold()})
    out = []
    for path, role in named.items():
        old = git.show_bytes(ctx.repo, left, getattr(base, role)) if left else None
        listed = git.out(ctx.repo, "ls-tree", "-z", stop, "--", path)
        mode = listed.split(" ", 1)[0] if listed else ""
        new = git.show_bytes(ctx.repo, stop, path) if mode else None
        out.append(Document(role, path, old or b"", new or b"", mode))
    return out
