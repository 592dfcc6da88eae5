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
    base that moved since the branch left it, hides nothing). A merge that would not be
    clean is a finding: what it would write is not known until it is resolved."""
    left, right = start, merged(ctx, start, stop)
    if right is None:
        report.findings.append(Finding(
            stop, "merge-conflict", f"the merge request does not merge cleanly into "
            f"{ctx.rules.ops.base}: what its merge would write cannot be judged",
            f"merge {ctx.rules.ops.base} into the branch and resolve the conflict, then "
            "push: verify judges the merge"))
        return
    base, tip = ctx.guard_rules, guard.rules_at(ctx.repo, right)
    rules_seen = [base] if tip == base else [base, tip]
    paths = [r[4] for r in guard.raw_records(ctx.repo, left, right)]
    docs = documents(ctx, left, right, rules_seen, paths)
    closed = closed_after(ctx, ops, start)
    for v in judge_code(paths, docs, rules_seen, closed):
        report.findings.append(Finding(stop, v.rule, v.message, v.fix, v.path, v.lines,
                                       v.section))
    whole.read_closed(ctx, report, closed, right, blame=stop)


def closed_after(ctx: Context, ops: Sequence[OpsCommit], start: str | None) -> set[str]:
    """The milestones closed once the merge is made: by a closure the branch holds, or
    one the base holds (a branch that left the base before its closure was merged)."""
    from ..evidence import history

    base_ops = history.read(ctx.repo, start, bot_author=ctx.cfg.ops.author, cache=False) \
        if start else []
    return whole.closed_milestones([*ops, *base_ops])


def merged(ctx: Context, start: str | None, stop: str) -> str | None:
    """The tree git's merge of ``start`` (the base's tip) and ``stop`` writes (``stop``
    where there is no base); None where the merge would not be clean."""
    if start is None:
        return stop
    try:
        return git.out(ctx.repo, "merge-tree", "--write-tree", start, stop).split()[0]
    except git.GitError:
        return None


_BAD_PATH = ("", ".", "..")


def documents(ctx: Context, before: str | None, after: str, rules_seen: Sequence[Rules],
              paths: Sequence[str]) -> list[Document]:
    """The three documents ``before`` (the base's names, at the base's tip) and ``after``
    (each config's names in the merge's tree, and any changed path that is one of them in another
    case: the same file on Windows and macOS). A document the merged config moves is
    judged where it went, not as gone from where it was; a name no path can be (empty,
    absolute, "..", a NUL) is none."""
    base = rules_seen[0]
    named: dict[str, str] = {}
    for r in reversed(rules_seen):  # (the merged config's names first)
        for role in ROLES:
            path = getattr(r, role)
            if "\0" in path or path.startswith("/") or any(
                    part in _BAD_PATH for part in path.split("/")):
                continue
            named.setdefault(path, role)
    named.update({p: named[n] for p in paths for n in list(named)
                  if p != n and p.casefold() == n.casefold()})
    out = []
    for path, role in named.items():
        old = git.show_bytes(ctx.repo, before, getattr(base, role)) if before else None
        listed = git.out(ctx.repo, "ls-tree", "-z", after, "--", path)
        mode = listed.split(" ", 1)[0] if listed else ""
        moved = not mode and any(getattr(r, role) != path for r in rules_seen[1:])
        if moved:
            continue  # (the merged config names it elsewhere: judged there)
        new = git.show_bytes(ctx.repo, after, path) if mode else None
        out.append(Document(role, path, old or b"", new or b"", mode))
    return out
